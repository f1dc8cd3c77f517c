package balancer

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestDiffAddresses(t *testing.T) {
	known := map[string]bool{}
	steps := []struct {
		hosts []string
		want  []string // "up NAME" / "down NAME"
	}{
		{[]string{"198.18.0.2:8091", "198.18.0.3:8091", "not an address"}, []string{"up 198.18.0.2-8091", "up 198.18.0.3-8091"}},
		{[]string{"198.18.0.3:8091", "198.18.0.2:8091"}, nil},
		{[]string{"198.18.0.3:8091", "[fd00::4]:8091"}, []string{"up fd00--4-8091", "down 198.18.0.2-8091"}},
		{nil, []string{"down 198.18.0.3-8091", "down fd00--4-8091"}},
	}
	for i, st := range steps {
		var got []string
		for _, ev := range diffAddresses(known, st.hosts) {
			got = append(got, ev.Kind.String()+" "+ev.Name)
			if ev.Kind == NodeUp && (!ev.Checked || !strings.HasPrefix(ev.URL, "http://")) {
				t.Errorf("step %d: %+v: want a checked http:// node", i, ev)
			}
			if !ValidRoute(ev.Name) {
				t.Errorf("step %d: name %q is not a valid route", i, ev.Name)
			}
		}
		if strings.Join(got, ",") != strings.Join(st.want, ",") {
			t.Errorf("step %d: events %v, want %v", i, got, st.want)
		}
	}
}

// routeNode is a fake Gomcat node: it names itself in the body, and gives a
// request without a session of its own route a new session id ending in
// ".<route>" (what JvmRouteBinderValve does for a failed-over session).
func routeNode(t *testing.T, route string) *httptest.Server {
	t.Helper()
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" {
			return
		}
		if c, err := r.Cookie("JSESSIONID"); err != nil || RouteOf(c.Value) != route {
			http.SetCookie(w, &http.Cookie{Name: "JSESSIONID", Value: "0123456789ABCDEF." + route, Path: "/"})
		}
		w.Write([]byte(route))
	}))
	t.Cleanup(s.Close)
	return s
}

// TestAddressesLearnRoutes: nodes known only by address get requests once
// their health check passes; the route in a node's session cookie then
// sends that session's requests to it; when it dies the session fails over
// and sticks to the new node; an address gone from the answer is dropped
// and a new one is used.
func TestAddressesLearnRoutes(t *testing.T) {
	a, b, z := routeNode(t, "nodeA"), routeNode(t, "nodeB"), routeNode(t, "nodeZ")
	host := func(s *httptest.Server) string { return strings.TrimPrefix(s.URL, "http://") }
	var mu sync.Mutex
	hosts := []string{host(a), host(b)}
	cfg := testConfig(t)
	cfg.Discovery = Addresses(func(context.Context) ([]string, error) {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), hosts...), nil
	}, 20*time.Millisecond)
	cfg.LearnRoutes = true
	lb := startBalancer(t, cfg)
	waitState(t, lb, AddressName(host(a)), StateLive)
	waitState(t, lb, AddressName(host(b)), StateLive)

	c := newJarClient(t)
	_, first, _ := get(t, c, lb.testURL()+"/")
	for i := range 10 {
		if _, body, _ := get(t, c, lb.testURL()+"/"); body != first {
			t.Fatalf("request %d went to %s, the session is %s's", i, body, first)
		}
	}
	// The session's node dies: the request fails over, the new node
	// rebinds the session to its route, and the session sticks there.
	dead, other := a, "nodeB"
	if first == "nodeB" {
		dead, other = b, "nodeA"
	}
	dead.CloseClientConnections()
	dead.Close()
	for i := range 5 {
		if code, body, _ := get(t, c, lb.testURL()+"/"); code != 200 || body != other {
			t.Fatalf("after %s died, request %d: %d %s, want %s", first, i, code, body, other)
		}
	}
	// The provider's answer changes: the dead address goes, nodeZ comes.
	mu.Lock()
	hosts = []string{host(z)}
	if other == "nodeA" {
		hosts = append(hosts, host(a))
	} else {
		hosts = append(hosts, host(b))
	}
	mu.Unlock()
	waitState(t, lb, AddressName(host(z)), StateLive)
	fresh := newJarClient(t)
	seen := map[string]bool{}
	for range 8 {
		_, body, _ := get(t, fresh, lb.testURL()+"/")
		seen[body] = true
		fresh = newJarClient(t) // a new user each time: spread by load
	}
	if !seen["nodeZ"] {
		t.Fatalf("new users never reached the added node: %v", seen)
	}
	// An address gone from the answer takes no new requests, though its
	// server still answers.
	mu.Lock()
	hosts = hosts[1:]
	mu.Unlock()
	waitState(t, lb, AddressName(host(z)), StateDown)
	for range 4 {
		if _, body, _ := get(t, newJarClient(t), lb.testURL()+"/"); body != other {
			t.Fatalf("a new user went to %s after nodeZ left the answer", body)
		}
	}
}
