package node

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/rs/zerolog"

	"github.com/gomcat/gomcat/ajp"
	"github.com/gomcat/gomcat/ajp/ajptest"
	"github.com/gomcat/gomcat/conf"
)

const ajpServerXML = `<Server port="-1">
  <Service name="Catalina">
    <Connector port="0" address="127.0.0.1" protocol="HTTP/1.1"/>
    <Connector port="0" protocol="AJP/1.3" secret="s3cret"/>
    <Engine name="Catalina" defaultHost="localhost" jvmRoute="node1">
      <Host name="localhost" appBase="webapps" autoDeploy="false">
        <Context path="/" app="example" distributable="true"/>
      </Host>
    </Engine>
  </Service>
</Server>
`

// An AJP connector beside the HTTP one serves the same apps and sessions:
// a session made through AJP is found through HTTP.
func TestNodeAJPBesideHTTP(t *testing.T) {
	s, _, err := conf.Parse("server.xml", []byte(ajpServerXML))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	s.Home = t.TempDir()
	cfg := DefaultConfig()
	cfg.Server, cfg.Logger = s, zerolog.New(zerolog.NewTestWriter(t))
	n, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer n.Stop(context.Background())
	addrs := n.AJPAddrs()
	if len(addrs) != 1 || !strings.HasPrefix(addrs[0].String(), "127.0.0.1:") {
		t.Fatalf("AJP bound to %v, want loopback by default", addrs)
	}
	c, err := ajptest.Dial(addrs[0].String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Conn.SetDeadline(time.Now().Add(10 * time.Second))
	res, err := c.Do(ajptest.Get("localhost", "/set?k=a&v=via-ajp", "s3cret"), nil)
	if err != nil || res.Status != 200 {
		t.Fatalf("AJP /set: %+v, %v", res, err)
	}
	cookie := res.Header.Get("Set-Cookie")
	id, _, _ := strings.Cut(strings.TrimPrefix(cookie, "JSESSIONID="), ";")
	if !strings.HasSuffix(id, ".node1") {
		t.Fatalf("session cookie %q", cookie)
	}
	req, _ := http.NewRequest("GET", n.URLs()[0]+"/get?k=a", nil)
	req.AddCookie(&http.Cookie{Name: "JSESSIONID", Value: id})
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), "via-ajp") {
		t.Fatalf("HTTP sees %q, want the value set through AJP", b)
	}
	// And back: the same session through AJP, on the same connection.
	res, err = c.Do(ajptest.Get("localhost", "/get?k=a", "s3cret", ajp.Header{Name: "cookie", Value: "JSESSIONID=" + id}), nil)
	if err != nil || !strings.Contains(string(res.Body), "via-ajp") || !res.Reuse {
		t.Fatalf("AJP /get: %+v, %v", res, err)
	}
	if st := n.AJPConnectors()[0].Stats(); st.Requests != 2 || st.Connections != 1 {
		t.Fatalf("stats %+v", st)
	}
	// The same counters on /metrics.
	col := n.ajpCollector()
	if probs, err := testutil.CollectAndLint(col); err != nil || len(probs) > 0 {
		t.Fatalf("lint: %v %v", probs, err)
	}
	port := strings.TrimPrefix(addrs[0].String(), "127.0.0.1:")
	want := fmt.Sprintf("# HELP gomcat_ajp_requests_total AJP forward requests served, refused ones included.\n"+
		"# TYPE gomcat_ajp_requests_total counter\ngomcat_ajp_requests_total{port=%q} 2\n", port)
	if err := testutil.CollectAndCompare(col, strings.NewReader(want), "gomcat_ajp_requests_total"); err != nil {
		t.Fatal(err)
	}
}
