package node

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/rs/zerolog"

	"github.com/gomcat/gomcat/conf"
)

// A request over the connector's maxHeaderCount is refused (400) and
// counted on /metrics as gomcat_http_connector_refused_total.
func TestHTTPConnectorRefusalMetrics(t *testing.T) {
	s, _, err := conf.Parse("server.xml", []byte(`<Server port="-1">
  <Service name="Catalina">
    <Connector port="0" address="127.0.0.1" protocol="HTTP/1.1" maxHeaderCount="5"/>
    <Engine name="Catalina" defaultHost="localhost" jvmRoute="node1">
      <Host name="localhost" appBase="webapps" autoDeploy="false">
        <Context path="/" app="example"/>
      </Host>
    </Engine>
  </Service>
</Server>
`))
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
	col := n.httpConnectorCollector()
	if probs, err := testutil.CollectAndLint(col); err != nil || len(probs) > 0 {
		t.Fatalf("lint: %v %v", probs, err)
	}
	url := n.URLs()[0]
	req, _ := http.NewRequest("GET", url+"/", nil)
	for i := range 8 {
		req.Header.Set(fmt.Sprintf("X-H%d", i), "v")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("status %d, want 400", resp.StatusCode)
	}
	port := url[strings.LastIndexByte(url, ':')+1:]
	want := fmt.Sprintf("# HELP gomcat_http_connector_refused_total HTTP requests a connector refused, by reason: slow_body (body slower than minUploadRate: 408), too_many_headers (over maxHeaderCount: 400).\n"+
		"# TYPE gomcat_http_connector_refused_total counter\n"+
		"gomcat_http_connector_refused_total{port=%[1]q,reason=\"slow_body\"} 0\n"+
		"gomcat_http_connector_refused_total{port=%[1]q,reason=\"too_many_headers\"} 1\n", port)
	if err := testutil.CollectAndCompare(col, strings.NewReader(want), "gomcat_http_connector_refused_total"); err != nil {
		t.Fatal(err)
	}
}
