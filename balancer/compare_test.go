package balancer

import (
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/gomcat/gomcat/internal/testkit"
)

// TestCompareWithWrk measures small GETs with a session cookie directly to a
// node, through this balancer and through HAProxy (generated config), with
// wrk. It is a benchmark helper, not a test: it runs only with
// GOMCAT_BENCH_COMPARE=1 and logs the figures (go test -run CompareWithWrk -v).
// WRK_ARGS overrides the load ("-t2 -c32 -d5s").
func TestCompareWithWrk(t *testing.T) {
	if os.Getenv("GOMCAT_BENCH_COMPARE") != "1" {
		t.Skip("set GOMCAT_BENCH_COMPARE=1 to compare with wrk and HAProxy")
	}
	wrk := findServer(t, "wrk")
	srvs, bes := fakeCluster(t, "node1", "node2")
	var nodes []NodeInfo
	for _, be := range bes {
		nodes = append(nodes, NodeInfo{Name: be.Name, HTTPURL: be.URL})
	}
	c := testConfig(t, bes...)
	c.Logger = c.Logger.Level(1) // info and above
	lb := startBalancer(t, c)
	waitState(t, lb, "node1", StateLive)
	waitState(t, lb, "node2", StateLive)
	targets := []struct{ name, url string }{
		{"direct", srvs["node1"].URL},
		{"gomcat-balancer", lb.testURL()},
	}
	if hp, err := exec.LookPath("haproxy"); err == nil {
		listen := "127.0.0.1:" + freePort(t)
		dir, conf := genFiles(t, "haproxy", nodes, GenOptions{Listen: listen, HealthPath: "/healthz"})
		startServer(t, dir, filepath.Join(dir, "haproxy.pid"), hp, "-db", "-f", conf)
		targets = append(targets, struct{ name, url string }{"haproxy", "http://" + listen})
	}
	args := []string{"-t2", "-c32", "-d5s"}
	if v := os.Getenv("WRK_ARGS"); v != "" {
		args = regexp.MustCompile(`\s+`).Split(v, -1)
	}
	rps := regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)
	pct := regexp.MustCompile(`(?m)^\s+(50|99)%\s+(\S+)`)
	for _, tg := range targets {
		// one session on node1, created through the target itself
		var cookie string
		testkit.WaitFor(t, tg.name+" answers", func() bool {
			resp, err := http.Get(tg.url + "/app;jsessionid=X.node1")
			if err != nil {
				return false
			}
			resp.Body.Close()
			for _, ck := range resp.Cookies() {
				cookie = ck.Value
			}
			return resp.StatusCode == 200 && cookie != ""
		})
		cmd := exec.Command(wrk, append(append([]string{}, args...), "--latency", "-H", "Cookie: JSESSIONID="+cookie, tg.url+"/app")...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("wrk %s: %v\n%s", tg.name, err, out)
		}
		r, p := rps.FindSubmatch(out), pct.FindAllSubmatch(out, -1)
		line := tg.name + ":"
		if r != nil {
			line += " " + string(r[1]) + " req/s"
		}
		for _, m := range p {
			line += " p" + string(m[1]) + "=" + string(m[2])
		}
		t.Log(line)
	}
}
