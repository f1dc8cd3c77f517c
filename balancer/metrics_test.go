package balancer

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestAdminMetricsAndStatusPage(t *testing.T) {
	a := httptest.NewServer(named("a", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/missing" {
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(a.Close)
	b := startBalancer(t, testConfig(t, Backend{Name: "a", URL: a.URL}, Backend{Name: "gone", URL: closedPort(t)}))
	admin := "http://" + b.AdminAddr().String()
	waitState(t, b, "a", StateLive)
	waitState(t, b, "gone", StateDown)
	for _, p := range []string{"/", "/", "/missing"} {
		get(t, http.DefaultClient, b.testURL()+p)
	}
	code, text, _ := get(t, http.DefaultClient, admin+"/metrics")
	if code != 200 {
		t.Fatalf("/metrics = %d", code)
	}
	for _, want := range []string{
		`gomcat_balancer_responses_total{code="200",node="a"} 2`,
		`gomcat_balancer_responses_total{code="404",node="a"} 1`,
		`gomcat_balancer_requests_total{node="a"} 3`,
		`gomcat_balancer_upstream_duration_seconds_count{node="a"} 3`,
		`gomcat_balancer_node_state{node="a",state="live"} 1`,
		`gomcat_balancer_node_state{node="gone",state="down"} 1`,
		`gomcat_balancer_nodes_live 1`,
		`gomcat_balancer_retries_total 0`,
		`gomcat_balancer_errors_total{reason="slow_body"} 0`,
		`gomcat_balancer_moves_held_total 0`,
	} {
		if !strings.Contains(text, want+"\n") {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	problems, err := testutil.CollectAndLint(b.Collector())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("lint: %s: %s", p.Metric, p.Text)
	}
	if bin, err := exec.LookPath("promtool"); err == nil {
		cmd := exec.Command(bin, "check", "metrics")
		cmd.Stdin = strings.NewReader(text)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("promtool check metrics: %v\n%s", err, out)
		}
	} else if os.Getenv("GOMCAT_E2E") == "require" {
		t.Error("promtool not found (apt-get install prometheus)")
	}

	// A browser gets the page; curl (Accept */*) and ?format=json the JSON.
	req, _ := http.NewRequest("GET", admin+"/status", nil)
	req.Header.Set("Accept", "text/html,application/xhtml+xml,*/*;q=0.8")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	pb, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	page := string(pb)
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("browser /status: %s", resp.Header.Get("Content-Type"))
	}
	for _, want := range []string{`id="nodes-live">1<`, `data-name="a" data-state="live"`, `data-name="gone" data-state="down"`, `id="requests">3<`} {
		if !strings.Contains(page, want) {
			t.Errorf("status page lacks %q", want)
		}
	}
	for _, q := range []string{"/status", "/status?format=json"} {
		if _, body, _ := get(t, http.DefaultClient, admin+q); !strings.HasPrefix(body, "{") {
			t.Errorf("%s without a browser Accept: %.40q, want JSON", q, body)
		}
	}
}
