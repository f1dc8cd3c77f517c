package balancer

import (
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"net/http/httptest"

	"github.com/gomcat/gomcat/balancer/balancertest"
	"github.com/gomcat/gomcat/internal/testkit"
)

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, p, _ := net.SplitHostPort(ln.Addr().String())
	return p
}

func atoi(s string) int { n, _ := strconv.Atoi(s); return n }

// startServer runs a front end in the foreground and stops it by PID at cleanup.
func startServer(t *testing.T, dir, pidFile, bin string, args ...string) {
	t.Helper()
	logf, err := os.Create(filepath.Join(dir, "console.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Dir = dir
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		pid := cmd.Process.Pid
		if b, err := os.ReadFile(pidFile); err == nil {
			if p, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && p != pid {
				t.Errorf("pid file says %d, started %d", p, pid)
			}
		}
		_ = syscall.Kill(pid, syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(pid, syscall.SIGKILL)
			<-done
		}
		_ = logf.Close()
		if t.Failed() {
			for _, f := range []string{"console.log", "error.log"} {
				if b, err := os.ReadFile(filepath.Join(dir, f)); err == nil {
					t.Logf("%s:\n%s", f, b)
				}
			}
		}
	})
	select {
	case <-done:
		b, _ := os.ReadFile(filepath.Join(dir, "console.log"))
		t.Fatalf("%s exited at once:\n%s", bin, b)
	default:
	}
}

// TestRealServersStickyFailover runs the generated config in the real server
// against two fake nodes: a client sticks to one node; that node dies; the
// next request succeeds on the other node with the session, and sticks there.
func TestRealServersStickyFailover(t *testing.T) {
	for _, tc := range []struct {
		kind string
		bins []string
		args func(conf string) []string
	}{
		{"haproxy", []string{"haproxy"}, func(c string) []string { return []string{"-db", "-f", c} }},
		{"nginx", []string{"nginx"}, func(c string) []string { return []string{"-c", c, "-g", "daemon off;"} }},
		{"httpd", []string{"apache2", "httpd"}, func(c string) []string { return []string{"-f", c, "-DFOREGROUND"} }},
		{"gomcat", nil, nil},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			t.Parallel()
			srvs, bes := fakeCluster(t, "node1", "node2")
			var nodes []NodeInfo
			for _, be := range bes {
				nodes = append(nodes, NodeInfo{Name: be.Name, HTTPURL: be.URL})
			}
			var front string
			if tc.kind == "gomcat" {
				b := startBalancer(t, testConfig(t, bes...))
				front = b.testURL()
			} else {
				bin := findServer(t, tc.bins...)
				listen := "127.0.0.1:" + freePort(t)
				dir, conf := genFiles(t, tc.kind, nodes, GenOptions{Listen: listen, HealthPath: "/healthz"})
				startServer(t, dir, filepath.Join(dir, tc.kind+".pid"), bin, tc.args(conf)...)
				front = "http://" + listen
			}
			stickyFailover(t, front, srvs)
		})
	}
}

func stickyFailover(t *testing.T, front string, srvs map[string]*httptest.Server) {
	t.Helper()
	url := front + "/app"
	probe := &http.Client{Timeout: 2 * time.Second}
	testkit.WaitFor(t, "front end answers", func() bool {
		resp, err := probe.Get(url)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
	// every node must be in service before the scenario (health checks)
	seen := map[string]bool{}
	testkit.WaitFor(t, "both nodes in service", func() bool {
		_, _, node := get(t, probe, url)
		seen[node] = true
		return len(seen) == 2
	})

	// the ;jsessionid= path parameter routes too (no cookie)
	for _, name := range []string{"node1", "node2", "node1", "node2"} {
		if code, body, node := get(t, probe, front+"/app;jsessionid=0123ABCD."+name); code != 200 || node != name {
			t.Fatalf("path parameter .%s: %d from %s (%q)", name, code, node, body)
		}
	}

	c := newJarClient(t)
	var first string
	for i := 1; i <= 30; i++ {
		code, body, node := get(t, c, url)
		_, _, count, _ := balancertest.Parse(body)
		if first == "" {
			first = node
		}
		if code != 200 || node != first || count != i {
			t.Fatalf("request %d: %d from %s count %d (%q), want %s count %d", i, code, node, count, body, first, i)
		}
	}
	other := map[string]string{"node1": "node2", "node2": "node1"}[first]
	srvs[first].CloseClientConnections()
	srvs[first].Close()
	for i := 31; i <= 45; i++ {
		code, body, node := get(t, c, url)
		_, _, count, _ := balancertest.Parse(body)
		if code != 200 || node != other || count != i {
			t.Fatalf("after killing %s, request %d: %d from %s count %d (%q)", first, i, code, node, count, body)
		}
	}
	if ck := sessionCookie(t, c, url); !strings.HasSuffix(ck, "."+other) {
		t.Fatalf("cookie %q not rebound to %s", ck, other)
	}
}
