package node

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"

	"github.com/gomcat/gomcat/conf"
	"github.com/gomcat/gomcat/internal/redistest"
	"github.com/gomcat/gomcat/internal/testkit"
	"github.com/gomcat/gomcat/runtime/host"
)

// redisXML is a node whose ROOT context keeps its sessions in Redis (the
// Manager element's attributes are %s), with an admin listener.
const redisXML = `<?xml version="1.0"?>
<Server port="-1" shutdown="STOP-NOW">
  <Listener className="org.gomcat.AdminListener" port="0"/>
  <Service name="Catalina">
    <Connector port="0" address="127.0.0.1"/>
    <Engine name="Catalina" defaultHost="localhost" jvmRoute="%s">
      <Host name="localhost" appBase="webapps" autoDeploy="false">
        <Context path="/" app="example" distributable="%t">
          <Manager className="gomcat.RedisManager" %s/>
        </Context>
      </Host>
    </Engine>
  </Service>
</Server>
`

// startRedisNode starts a node with home prepared by prep (may be nil).
func startRedisNode(t *testing.T, route string, distributable bool, attrs string, prep func(home string)) *Node {
	t.Helper()
	s, _, err := conf.Parse("server.xml", fmt.Appendf(nil, redisXML, route, distributable, attrs))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	s.Home = t.TempDir()
	if err := os.MkdirAll(filepath.Join(s.Home, "conf"), 0o755); err != nil {
		t.Fatal(err)
	}
	if prep != nil {
		prep(s.Home)
	}
	cfg := DefaultConfig()
	cfg.Server, cfg.Logger, cfg.ShutdownReadTimeout = s, zerolog.New(zerolog.NewTestWriter(t)), time.Second
	n, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.Stop(context.Background()) })
	if err := n.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	return n
}

// call sends one request with cookie (may be "") and returns the status,
// the body and the session cookie the node set (or cookie again).
func call(t *testing.T, url, cookie string) (int, string, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if cookie != "" {
		req.Header.Set("Cookie", "JSESSIONID="+cookie)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, c := range resp.Cookies() {
		if c.Name == "JSESSIONID" {
			cookie = c.Value
		}
	}
	return resp.StatusCode, strings.TrimSpace(string(b)), cookie
}

// TestRedisManagerNodes: two nodes without a <Cluster> share a context's
// sessions through one real redis-server; one is distributable, the other
// not, and the store authenticates with an ACL user whose password comes
// from passwordFile.
func TestRedisManagerNodes(t *testing.T) {
	rs := redistest.Start(t, redistest.Options{})
	admin := redis.NewClient(&redis.Options{Addr: rs.Addr()})
	for _, cmd := range [][]any{{"ACL", "SETUSER", "app", "on", ">s3cret", "~*", "&*", "+@all"}, {"ACL", "SETUSER", "default", "off"}} {
		if err := admin.Do(context.Background(), cmd...).Err(); err != nil {
			t.Fatal(err)
		}
	}
	_ = admin.Close()
	attrs := fmt.Sprintf(`address="%s" keyPrefix="nodetest" username="app" passwordFile="conf/redis.pass" timeout="500"`, rs.URL())
	prep := func(home string) {
		if err := os.WriteFile(filepath.Join(home, "conf", "redis.pass"), []byte("s3cret\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	n1 := startRedisNode(t, "node1", true, attrs, prep)
	n2 := startRedisNode(t, "node2", false, attrs, prep)

	code, body, id := call(t, n1.URLs()[0]+"/set?k=a&v=1", "")
	if code != 200 || !strings.HasSuffix(id, ".node1") {
		t.Fatalf("set on node1: %d %q id %q", code, body, id)
	}
	if code, body, _ := call(t, n2.URLs()[0]+"/get?k=a", id); code != 200 || body != "1" {
		t.Fatalf("get on node2 = %d %q, want 200 1", code, body)
	}
	if code, body, _ := call(t, n2.URLs()[0]+"/set?k=a&v=2", id); code != 200 {
		t.Fatalf("set on node2: %d %q", code, body)
	}
	if code, body, _ := call(t, n1.URLs()[0]+"/get?k=a", id); code != 200 || body != "2" {
		t.Fatalf("get on node1 after node2's write = %d %q, want 200 2", code, body)
	}
	_, metrics := fetch(t, n1.AdminURL()+"/metrics", "")
	for _, want := range []string{
		`gomcat_sessions_created_total{context="/",host="localhost"} 1`,
		`gomcat_session_store_operations_total{context="/",host="localhost",kind="write"} 1`,
		`gomcat_session_store_problems_total{context="/",host="localhost",kind="operation"} 0`,
	} {
		if !strings.Contains(metrics, want+"\n") {
			t.Errorf("node1 /metrics lacks %s", want)
		}
	}

	// The store stops answering: a request needing it gets 503 in bounded
	// time, counted; the node keeps serving once the store is back.
	rs.Kill()
	start := time.Now()
	if code, body, _ := call(t, n2.URLs()[0]+"/get?k=a", id); code != http.StatusServiceUnavailable {
		t.Fatalf("get with Redis down = %d %q, want 503", code, body)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("503 took %s", d)
	}
	_, metrics = fetch(t, n2.AdminURL()+"/metrics", "")
	if strings.Contains(metrics, `gomcat_session_store_problems_total{context="/",host="localhost",kind="operation"} 0`+"\n") {
		t.Error("node2 did not count the failure")
	}
}

// TestRedisManagerOnCluster: server.xml's cluster="host:port,…" puts two
// nodes' sessions on a real three-master Redis Cluster; a session written
// through one node is read and changed through the other.
func TestRedisManagerOnCluster(t *testing.T) {
	rc := redistest.StartCluster(t, 3, 0)
	attrs := fmt.Sprintf(`cluster="%s" keyPrefix="clustertest" timeout="1000"`, strings.Join(rc.Seeds(), ","))
	n1 := startRedisNode(t, "node1", true, attrs, nil)
	n2 := startRedisNode(t, "node2", true, attrs, nil)
	var ids []string
	for i := range 6 {
		code, body, id := call(t, fmt.Sprintf("%s/set?k=a&v=%d", n1.URLs()[0], i), "")
		if code != 200 || !strings.HasSuffix(id, ".node1") {
			t.Fatalf("set on node1: %d %q id %q", code, body, id)
		}
		ids = append(ids, id)
	}
	for i, id := range ids {
		if code, body, _ := call(t, n2.URLs()[0]+"/get?k=a", id); code != 200 || body != fmt.Sprint(i) {
			t.Fatalf("get on node2 = %d %q, want 200 %d", code, body, i)
		}
		if code, body, _ := call(t, fmt.Sprintf("%s/set?k=a&v=x%d", n2.URLs()[0], i), id); code != 200 {
			t.Fatalf("set on node2: %d %q", code, body)
		}
		if code, body, _ := call(t, n1.URLs()[0]+"/get?k=a", id); code != 200 || body != fmt.Sprintf("x%d", i) {
			t.Fatalf("get on node1 after node2's write = %d %q", code, body)
		}
	}
	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: rc.Seeds(), DisableIdentity: true})
	defer cc.Close()
	var n atomic.Int32 // the callback runs once per master, concurrently
	if err := cc.ForEachMaster(context.Background(), func(ctx context.Context, c *redis.Client) error {
		keys, err := c.Keys(ctx, "clustertest:sessions:*").Result()
		if len(keys) > 0 {
			n.Add(1)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if n := n.Load(); n < 2 {
		t.Errorf("6 sessions on %d masters, want them spread", n)
	}
}

// TestRedisManagerTLS: tlsCAFile (relative to the home) makes the node
// trust a private CA's Redis over TLS; a file without a certificate fails
// the context's deploy with the reason.
func TestRedisManagerTLS(t *testing.T) {
	c := testkit.NewCerts(t, net.IPv4(127, 0, 0, 1))
	rs := redistest.Start(t, redistest.Options{TLS: &redistest.TLSFiles{Cert: c.CertPEM, Key: c.KeyPEM}})
	attrs := fmt.Sprintf(`address="redis://127.0.0.1:%d" tlsCAFile="conf/redis-ca.pem" timeout="1000"`, rs.TLSPort)
	n := startRedisNode(t, "node1", true, attrs, func(home string) {
		if err := os.WriteFile(filepath.Join(home, "conf", "redis-ca.pem"), c.CAPEM, 0o600); err != nil {
			t.Fatal(err)
		}
	})
	code, body, id := call(t, n.URLs()[0]+"/set?k=a&v=1", "")
	if code != 200 {
		t.Fatalf("set over TLS: %d %q", code, body)
	}
	if code, body, _ := call(t, n.URLs()[0]+"/get?k=a", id); code != 200 || body != "1" {
		t.Fatalf("get over TLS = %d %q", code, body)
	}

	_, err := redisConfig(func(p string) string { return filepath.Join(t.TempDir(), p) }, zerolog.Nop(), "localhost",
		host.ContextSpec{Path: "/"}, "", &conf.RedisManager{Address: "redis://127.0.0.1:1", TLSCAFile: "missing.pem"})
	if err == nil || !strings.Contains(err.Error(), "tlsCAFile") {
		t.Fatalf("missing tlsCAFile: %v", err)
	}
	empty := filepath.Join(t.TempDir(), "empty.pem")
	_ = os.WriteFile(empty, []byte("not a certificate\n"), 0o600)
	_, err = redisConfig(func(p string) string { return p }, zerolog.Nop(), "localhost",
		host.ContextSpec{Path: "/"}, "", &conf.RedisManager{Address: "redis://127.0.0.1:1", TLSCAFile: empty})
	if err == nil || !strings.Contains(err.Error(), "no PEM certificate") {
		t.Fatalf("tlsCAFile without a certificate: %v", err)
	}
}
