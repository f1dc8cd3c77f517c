package balancer

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gomcat/gomcat/balancer/balancertest"
)

// fakeCluster starts fake Gomcat nodes sharing one session store.
func fakeCluster(t *testing.T, names ...string) (map[string]*httptest.Server, []Backend) {
	t.Helper()
	store := balancertest.NewStore()
	srvs := map[string]*httptest.Server{}
	var bes []Backend
	for _, name := range names {
		s := httptest.NewServer(balancertest.Node(name, store))
		t.Cleanup(s.Close)
		srvs[name] = s
		bes = append(bes, Backend{Name: name, URL: s.URL})
	}
	return srvs, bes
}

func sessionCookie(t *testing.T, c *http.Client, rawURL string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, rawURL, nil)
	for _, ck := range c.Jar.Cookies(req.URL) {
		if ck.Name == "JSESSIONID" {
			return ck.Value
		}
	}
	return ""
}

// TestStickyFailover: 100 requests with a cookie jar stick to one node; that
// node dies; the next request succeeds on the other node with the session
// (shared store = replication), its cookie is rebound to the new route, and
// later requests stick there.
func TestStickyFailover(t *testing.T) {
	srvs, bes := fakeCluster(t, "node1", "node2")
	b := startBalancer(t, testConfig(t, bes...))
	waitState(t, b, "node1", StateLive)
	waitState(t, b, "node2", StateLive)

	c := newJarClient(t)
	url := b.testURL() + "/app"
	var first string
	for i := 1; i <= 100; i++ {
		code, body, node := get(t, c, url)
		if code != 200 {
			t.Fatalf("request %d: status %d %q", i, code, body)
		}
		if first == "" {
			first = node
		}
		_, _, count, err := balancertest.Parse(body)
		if node != first || err != nil || count != i {
			t.Fatalf("request %d went to %s (count %d, %v), want %s count %d", i, node, count, err, first, i)
		}
	}
	if ck := sessionCookie(t, c, url); !strings.HasSuffix(ck, "."+first) {
		t.Fatalf("cookie %q does not end in .%s", ck, first)
	}
	other := map[string]string{"node1": "node2", "node2": "node1"}[first]

	srvs[first].CloseClientConnections()
	srvs[first].Close()

	code, body, node := get(t, c, url)
	_, _, count, _ := balancertest.Parse(body)
	if code != 200 || node != other || count != 101 {
		t.Fatalf("after kill: status %d node %s count %d, want 200 %s 101", code, node, count, other)
	}
	if ck := sessionCookie(t, c, url); !strings.HasSuffix(ck, "."+other) {
		t.Fatalf("cookie %q not rebound to .%s", ck, other)
	}
	for i := 102; i <= 120; i++ {
		code, body, node := get(t, c, url)
		_, _, count, _ := balancertest.Parse(body)
		if code != 200 || node != other || count != i {
			t.Fatalf("request %d: status %d node %s count %d", i, code, node, count)
		}
	}
	waitState(t, b, first, StateDown)
}

// TestSpreadWithoutSession: clients without a session spread over the nodes.
func TestSpreadWithoutSession(t *testing.T) {
	_, bes := fakeCluster(t, "node1", "node2", "node3")
	b := startBalancer(t, testConfig(t, bes...))
	for _, be := range bes {
		waitState(t, b, be.Name, StateLive)
	}
	c := &http.Client{}
	seen := map[string]int{}
	for range 30 {
		_, _, node := get(t, c, b.testURL()+"/")
		seen[node]++
	}
	if len(seen) != 3 {
		t.Fatalf("spread = %v, want all 3 nodes", seen)
	}
}

// TestPathParameterRouting: ";jsessionid=ID.node2" routes to node2.
func TestPathParameterRouting(t *testing.T) {
	_, bes := fakeCluster(t, "node1", "node2")
	b := startBalancer(t, testConfig(t, bes...))
	waitState(t, b, "node1", StateLive)
	waitState(t, b, "node2", StateLive)
	for range 5 {
		_, _, node := get(t, http.DefaultClient, b.testURL()+"/app;jsessionid=ABC.node2?x=1")
		if node != "node2" {
			t.Fatalf("path parameter routed to %s", node)
		}
		_, _, node = get(t, http.DefaultClient, b.testURL()+"/app", "Cookie", "JSESSIONID=A.gone; JSESSIONID=B.node1")
		if node != "node1" {
			t.Fatalf("second cookie routed to %s", node)
		}
	}
}

// TestNonSticky: with NonSticky the session route is ignored: the requests
// of one session spread evenly over the live nodes (sequential requests:
// round robin among equally idle nodes), the shared store keeps the count.
func TestNonSticky(t *testing.T) {
	_, bes := fakeCluster(t, "node1", "node2", "node3")
	cfg := testConfig(t, bes...)
	cfg.NonSticky = true
	b := startBalancer(t, cfg)
	for _, be := range bes {
		waitState(t, b, be.Name, StateLive)
	}
	c := newJarClient(t)
	served := map[string]int{}
	for i := 1; i <= 30; i++ {
		code, body, node := get(t, c, b.testURL()+"/app")
		if _, _, count, err := balancertest.Parse(body); code != 200 || err != nil || count != i {
			t.Fatalf("request %d on %s: %d %q (%v), want count %d", i, node, code, body, err, i)
		}
		served[node]++
	}
	for _, be := range bes {
		if served[be.Name] != 10 {
			t.Errorf("served %v, want 10 per node", served)
		}
	}
}
