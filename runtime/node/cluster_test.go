package node

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gomcat/gomcat/internal/freeport"
	"github.com/gomcat/gomcat/internal/testkit"

	"github.com/rs/zerolog"

	"github.com/gomcat/gomcat/conf"
	"github.com/gomcat/gomcat/farmdeploy"
	"github.com/gomcat/gomcat/runtime/host"
)

// clusterXML is a two-node walkthrough configuration on loopback: multicast
// bound to 127.0.0.1 with TTL 0 on a random port, fast heartbeats, the
// receiver on a free port.
const clusterXML = `<?xml version="1.0"?>
<Server port="-1" shutdown="SHUTDOWN">
  <Service name="Catalina">
    <Connector port="%[1]d" address="127.0.0.1" protocol="HTTP/1.1"/>
    <Engine name="Catalina" defaultHost="localhost" jvmRoute="%[2]s">
      <Cluster className="org.apache.catalina.ha.tcp.SimpleTcpCluster" channelSendOptions="%[6]d">
        %[7]s
        <Channel className="org.apache.catalina.tribes.group.GroupChannel">
          <Membership className="org.apache.catalina.tribes.membership.McastService"
                      address="228.0.0.4" port="%[3]d" bind="127.0.0.1" ttl="0"
                      frequency="100" dropTime="1500" establishWait="%[4]d"/>
          <Receiver className="org.apache.catalina.tribes.transport.nio.NioReceiver"
                    address="auto" port="0" autoBind="1"/>
          <Interceptor className="org.apache.catalina.tribes.group.interceptors.TcpFailureDetector"/>
        </Channel>
        <Deployer className="org.apache.catalina.ha.deploy.FarmWarDeployer"
                  tempDir="temp/farm" deployDir="webapps" watchDir="farm"
                  watchEnabled="%[5]t" processDeployFrequency="1"/>
      </Cluster>
      <Host name="localhost" appBase="webapps" autoDeploy="false">
        %[8]s
      </Host>
    </Engine>
  </Service>
</Server>
`

type testNode struct {
	*Node
	name string
	home string
	url  string
	logs *testkit.Log
}

type nodeOpts struct {
	mcastPort     int
	establishWait time.Duration
	watch         bool
	sendOptions   int
	anyPort       bool   // the connector on port 0
	manager       string // the <Manager> element; "": a DeltaManager
	contexts      string // the Host's <Context> elements; "": a distributable ROOT
}

func freePort(t *testing.T) int {
	t.Helper()
	port, err := freeport.TCP()
	if err != nil {
		t.Fatal(err)
	}
	return port
}

// randomMcastPort is a random UDP port so that parallel tests and demos on
// 228.0.0.4 never join each other.
func randomMcastPort() int { return 20000 + rand.IntN(30000) }

func newClusterNode(t *testing.T, name string, o nodeOpts) *testNode {
	t.Helper()
	if o.sendOptions == 0 {
		o.sendOptions = 8
	}
	home := t.TempDir()
	port := freePort(t)
	if o.anyPort {
		port = 0
	}
	if o.manager == "" {
		o.manager = `<Manager className="org.apache.catalina.ha.session.DeltaManager" stateTransferTimeout="60"/>`
	}
	if o.contexts == "" {
		o.contexts = `<Context path="/" app="example" distributable="true"/>`
	}
	xml := fmt.Sprintf(clusterXML, port, name, o.mcastPort, o.establishWait.Milliseconds(), o.watch, o.sendOptions, o.manager, o.contexts)
	s, _, err := conf.Parse("server.xml", []byte(xml))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	s.Home = home
	logs := &testkit.Log{}
	cfg := DefaultConfig()
	cfg.Server = s
	cfg.Logger = zerolog.New(zerolog.MultiLevelWriter(logs, zerolog.NewTestWriter(t))).With().Str("node", name).Logger()
	cfg.ShutdownGrace = 5 * time.Second
	n, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.Stop(context.Background()) })
	return &testNode{Node: n, name: name, home: home, url: fmt.Sprintf("http://127.0.0.1:%d", port), logs: logs}
}

func (tn *testNode) start(t *testing.T) {
	t.Helper()
	if err := tn.Start(context.Background()); err != nil {
		t.Fatalf("%s: start: %v", tn.name, err)
	}
}

// get fetches u with the jar (nil: no cookies) and returns the body and the
// JSESSIONID cookie the response set ("" if none).
func get(t *testing.T, jar http.CookieJar, u string) (int, string, string) {
	t.Helper()
	c := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	set := ""
	for _, ck := range resp.Cookies() {
		if ck.Name == "JSESSIONID" {
			set = ck.Value
		}
	}
	return resp.StatusCode, strings.TrimSpace(string(b)), set
}

// TestTwoNodeWalkthrough is Tomcat's classic two-node walkthrough inside
// one process: state transfer, failover with the route rewritten, the
// goodbye on stop.
func TestTwoNodeWalkthrough(t *testing.T) {
	mp := randomMcastPort()
	n1 := newClusterNode(t, "node1", nodeOpts{mcastPort: mp, establishWait: 300 * time.Millisecond})
	n2 := newClusterNode(t, "node2", nodeOpts{mcastPort: mp, establishWait: time.Second})

	n1.start(t)
	for _, want := range []string{
		"Cluster is about to start",
		"Receiver Server Socket bound to:",
		"Sleeping for 300 milliseconds to establish cluster membership",
		"Manager [localhost#]: skipping state transfer. No members active in cluster group.",
		"Server startup in",
	} {
		if _, ok := n1.logs.Find(want); !ok {
			t.Errorf("node1 did not log %q", want)
		}
	}
	if a, b := n1.logs.Index("Sleeping for"), n1.logs.Index("Manager [localhost#]"); a < 0 || b < a {
		t.Errorf("the manager started before the cluster (lines %d, %d)", a, b)
	}
	if _, ok := n1.logs.Find("clustering is not active yet"); ok {
		t.Error("the placeholder warning is still logged")
	}
	if b, err := os.ReadFile(n1.PIDFile()); err != nil || strings.TrimSpace(string(b)) != fmt.Sprint(os.Getpid()) {
		t.Errorf("pid file: %q, %v", b, err)
	}
	ri, err := ReadRunInfo(n1.home)
	if err != nil || ri.JvmRoute != "node1" || len(ri.URLs) != 1 || ri.Membership == nil || ri.Membership.Port != mp ||
		ri.Farm == nil || ri.Farm.WatchDir != filepath.Join(n1.home, "farm") || ri.Farm.WatchEnabled {
		t.Errorf("run info: %+v, %v", ri, err)
	}

	jar, _ := cookiejar.New(nil)
	code, body, id := get(t, jar, n1.url+"/set?k=color&v=blue")
	if code != 200 || !strings.HasSuffix(id, ".node1") {
		t.Fatalf("set on node1: %d %q cookie %q", code, body, id)
	}

	n2.start(t)
	testkit.WaitWithin(t, "node2's state transfer lines", 15*time.Second, func() bool {
		_, ok := n2.logs.Find("Manager [localhost#]; session state sent at")
		return ok
	})
	if _, ok := n2.logs.Find("Manager [localhost#], requesting session state from [node1]. This operation will timeout if no session state has been received within [60] seconds."); !ok {
		t.Error("node2 did not log the state request")
	}
	if _, ok := n2.logs.Find("Replication member added: tcp://127.0.0.1:"); !ok {
		t.Error("node2 did not log node1 as added")
	}
	// The connector opened after the transfer.
	if a, b := n2.logs.Index("Manager [localhost#]; session state sent at"), n2.logs.Index("Server startup in"); b < a {
		t.Errorf("startup logged before the state transfer ended (lines %d, %d)", a, b)
	}

	// Failover: node1's cookie on node2 finds the session; the id gets node2's route.
	u2, _ := url.Parse(n2.url)
	u1, _ := url.Parse(n1.url)
	jar2, _ := cookiejar.New(nil)
	jar2.SetCookies(u2, []*http.Cookie{{Name: "JSESSIONID", Value: id, Path: "/"}})
	code, body, id2 := get(t, jar2, n2.url+"/get?k=color")
	if code != 200 || body != "blue" {
		t.Fatalf("get on node2: %d %q", code, body)
	}
	base := strings.TrimSuffix(id, ".node1")
	if id2 != base+".node2" {
		t.Fatalf("node2 set cookie %q, want %q", id2, base+".node2")
	}
	_ = u1
	// Both nodes hold the one session (renamed everywhere).
	testkit.WaitWithin(t, "equal session counts", 15*time.Second, func() bool {
		_, c1, _ := get(t, nil, n1.url+"/count")
		_, c2, _ := get(t, nil, n2.url+"/count")
		return c1 == "1" && c2 == "1"
	})
	// The renamed id works on node1 too.
	jar1, _ := cookiejar.New(nil)
	jar1.SetCookies(u1, []*http.Cookie{{Name: "JSESSIONID", Value: id2, Path: "/"}})
	testkit.WaitWithin(t, "the renamed id on node1", 15*time.Second, func() bool {
		code, body, _ := get(t, jar1, n1.url+"/get?k=color")
		return code == 200 && body == "blue"
	})

	// A clean stop says goodbye: node2 drops node1 at once ("left"), not
	// after dropTime.
	if err := n1.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(n1.PIDFile()); !os.IsNotExist(err) {
		t.Errorf("pid file left after a clean stop: %v", err)
	}
	if _, err := ReadRunInfo(n1.home); !os.IsNotExist(err) {
		t.Errorf("run info left after a clean stop: %v", err)
	}
	testkit.WaitWithin(t, "node2 to drop node1", 15*time.Second, func() bool {
		ll, ok := n2.logs.Find("Replication member disappeared: tcp://")
		return ok && ll.Str("member") == "node1"
	})
	if ll, _ := n2.logs.Find("Replication member disappeared: tcp://"); ll.Str("reason") != "left" {
		t.Errorf("node1 dropped for %q, want the goodbye (left)", ll.Str("reason"))
	}
	if got := n2.Cluster().Members(); len(got) != 0 {
		t.Errorf("node2 still has members %v", got)
	}
}

// TestFarmDeploy: a bundle dropped into the watching node's watchDir is
// served by the other node.
func TestFarmDeploy(t *testing.T) {
	mp := randomMcastPort()
	n1 := newClusterNode(t, "node1", nodeOpts{mcastPort: mp, watch: true})
	n2 := newClusterNode(t, "node2", nodeOpts{mcastPort: mp, establishWait: time.Second})
	n1.start(t)
	n2.start(t)
	if _, ok := n1.logs.Find("Cluster FarmWarDeployer started."); !ok {
		t.Error("node1 did not log the farm deployer start")
	}
	testkit.WaitWithin(t, "node1 to see node2", 15*time.Second, func() bool { return len(n1.Cluster().Members()) == 1 })

	src := t.TempDir()
	if err := os.WriteFile(filepath.Join(src, "index.html"), []byte("farmed v1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	gar := filepath.Join(t.TempDir(), "shop.gar")
	if err := host.WriteBundleFile(gar, src, host.Manifest{Path: "/shop", Distributable: true}); err != nil {
		t.Fatal(err)
	}
	dropBundle(t, gar, filepath.Join(n1.home, "farm"))
	for _, n := range []*testNode{n1, n2} {
		testkit.WaitWithin(t, n.name+" to serve the farmed bundle", 15*time.Second, func() bool {
			code, body, _ := get(t, nil, n.url+"/shop/index.html")
			return code == 200 && body == "farmed v1"
		})
	}
	testkit.WaitWithin(t, "the rollout status", 15*time.Second, func() bool {
		st, err := farmdeploy.ReadStatus(filepath.Join(n1.home, "temp", "farm"))
		if err != nil {
			return false
		}
		b, ok := st.Bundle("shop.gar")
		return ok && b.Members["node1"].State == "started" && b.Members["node2"].State == "started"
	})
}

// dropBundle copies src into dir under a temporary name, then renames it.
func dropBundle(t *testing.T, src, dir string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(dir, ".incoming-"+filepath.Base(src))
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, filepath.Base(src))); err != nil {
		t.Fatal(err)
	}
}

// TestNoClusterNoWarning: without a <Cluster> the node runs local
// sessions and says nothing about clustering.
func TestNoClusterNoWarning(t *testing.T) {
	logs := &testkit.Log{}
	s, _, err := conf.Parse("server.xml", fmt.Appendf(nil, serverXML, 0))
	if err != nil {
		t.Fatal(err)
	}
	s.Home = t.TempDir()
	cfg := DefaultConfig()
	cfg.Server, cfg.Logger = s, zerolog.New(logs)
	n, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.Stop(context.Background()) })
	if err := n.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n.Cluster() != nil || n.Farm() != nil {
		t.Fatal("a cluster without <Cluster>")
	}
	for _, ll := range logs.Lines() {
		if strings.Contains(strings.ToLower(ll.Message), "cluster") {
			t.Errorf("logged %q", ll.Message)
		}
	}
}

// A connector on port 0 is advertised with the port it bound: the cluster
// starts before the connectors, so the node hands the URL over afterwards,
// and the peers (and balancers, which read the same heartbeats) see it.
func TestConnectorPortZeroAdvertised(t *testing.T) {
	mp := randomMcastPort()
	n1 := newClusterNode(t, "node1", nodeOpts{mcastPort: mp, anyPort: true})
	n2 := newClusterNode(t, "node2", nodeOpts{mcastPort: mp})
	n1.start(t)
	n2.start(t)
	urls := n1.URLs()
	if len(urls) != 1 || strings.HasSuffix(urls[0], ":0") {
		t.Fatalf("node1 URLs %v", urls)
	}
	if got := n1.Cluster().HTTPURL(); got != urls[0] {
		t.Fatalf("node1 advertises %q, its connector is %s", got, urls[0])
	}
	testkit.WaitWithin(t, "node2 sees node1's bound address", 15*time.Second, func() bool {
		for _, m := range n2.Cluster().Members() {
			if m.Name == "node1" {
				return m.HTTPURL == urls[0]
			}
		}
		return false
	})
	if got := n2.Cluster().HTTPURL(); got != n2.url {
		t.Fatalf("node2 (fixed port) advertises %q, want %q", got, n2.url)
	}
}
