package balancer

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/gomcat/gomcat/internal/testkit"
)

func untrustedBalancer(t *testing.T) (*Balancer, *fakeMembers) {
	return memberBalancer(t, func(c *Config) { c.TrustDiscovery = false })
}

// Untrusted heartbeats: a node is routed only once its advertised URL
// answers a health check; one that never answers is never routed.
func TestUnverifiedNodeNotRouted(t *testing.T) {
	good := httptest.NewServer(named("good", func(http.ResponseWriter, *http.Request) {}))
	t.Cleanup(good.Close)
	b, fm := untrustedBalancer(t)
	fm.send(MemberEvent{Kind: MemberAdded, Name: "ghost", HTTPURL: closedPort(t)})
	fm.send(MemberEvent{Kind: MemberAdded, Name: "good", HTTPURL: good.URL})
	waitState(t, b, "good", StateLive)
	for range 5 {
		if code, _, node := get(t, http.DefaultClient, b.testURL()+"/", "Cookie", "JSESSIONID=abc.ghost"); code != 200 || node != "good" {
			t.Fatalf("a session routed to the unverified ghost: %d %q", code, node)
		}
	}
	if st := nodeState(b, "ghost"); st != StateDown {
		t.Fatalf("ghost is %s", st)
	}
	for _, n := range b.Nodes() {
		if n.Name == "ghost" && !strings.Contains(n.Reason, "not verified") {
			t.Fatalf("ghost reason %q", n.Reason)
		}
	}
}

// A heartbeat claiming that a live node moved (an attacker's URL) is held
// while the node still answers: its users' cookies keep going to it. Once
// the old URL stops answering, the move is applied.
func TestMoveClaimHeldWhileNodeAnswers(t *testing.T) {
	var stolen atomic.Int32
	real := httptest.NewServer(named("a", func(http.ResponseWriter, *http.Request) {}))
	t.Cleanup(real.Close)
	attacker := httptest.NewServer(named("attacker", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Cookie") != "" {
			stolen.Add(1)
		}
	}))
	t.Cleanup(attacker.Close)
	b, fm := untrustedBalancer(t)
	fm.send(MemberEvent{Kind: MemberAdded, Name: "a", HTTPURL: real.URL})
	waitState(t, b, "a", StateLive)
	fm.send(MemberEvent{Kind: MemberReplaced, Name: "a", HTTPURL: attacker.URL})
	testkit.WaitFor(t, "the claim held", func() bool { return b.MovesHeld() == 1 })
	if err := testutil.CollectAndCompare(b.Collector(), strings.NewReader(`# HELP gomcat_balancer_moves_held_total Unverified claims that a live node moved to another URL, held while the node still answered.
# TYPE gomcat_balancer_moves_held_total counter
gomcat_balancer_moves_held_total 1
`), "gomcat_balancer_moves_held_total"); err != nil {
		t.Error(err)
	}
	for range 5 {
		if code, _, node := get(t, http.DefaultClient, b.testURL()+"/", "Cookie", "JSESSIONID=abc.a"); code != 200 || node != "a" {
			t.Fatalf("served by %q (%d), want the real node", node, code)
		}
	}
	if n := stolen.Load(); n != 0 {
		t.Fatalf("%d requests with cookies reached the claimed URL", n)
	}
	// The real node goes away: the claimed URL, once it answers a check, takes over.
	real.Close()
	testkit.WaitFor(t, "the move applied", func() bool {
		for _, n := range b.Nodes() {
			if n.Name == "a" && n.URL == attacker.URL && n.State == StateLive {
				return true
			}
		}
		return false
	})
}
