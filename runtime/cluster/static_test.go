package cluster_test

import (
	"net"
	"slices"
	"testing"
	"time"

	"github.com/gomcat/gomcat/internal/testkit"
	"github.com/gomcat/gomcat/mcast"
	"github.com/gomcat/gomcat/runtime/cluster"
)

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func staticNode(t *testing.T, name string, port, peerPort int) *node {
	t.Helper()
	cfg := cluster.DefaultLocalConfig(name)
	cfg.Transport.Address, cfg.Transport.Port = "127.0.0.1", port
	sc := mcast.DefaultStaticConfig()
	sc.Interval, sc.ExpirationTime, sc.ConnectTimeout = 50*time.Millisecond, 500*time.Millisecond, 200*time.Millisecond
	sc.Members = []mcast.StaticMember{{Host: "127.0.0.1", Port: peerPort}}
	cfg.Membership = cluster.Static{Config: sc}
	return newNode(t, cfg)
}

// Static members learn each other's names and start times from the
// announce, so names, Seniors and Deliver's from agree.
func TestStaticMembership(t *testing.T) {
	pa, pb := freePort(t), freePort(t)
	a, b := staticNode(t, "a", pa, pb), staticNode(t, "b", pb, pa)
	startAll(t, a)
	startAll(t, b)
	testkit.WaitFor(t, "a sees b", sees(a, "b"))
	testkit.WaitFor(t, "b sees a", sees(b, "a"))
	if sa, sb := a.c.Port(1).Seniors(), b.c.Port(1).Seniors(); len(sa)+len(sb) != 1 {
		t.Fatalf("seniors disagree: a %v, b %v; a %+v; b %+v; a.local %d b.local %d", sa, sb, a.c.Members(), b.c.Members(), a.c.Local().StartedAt, b.c.Local().StartedAt)
	}
	if err := b.c.Port(1).Send(t.Context(), "a", []byte("hi"), 6); err != nil {
		t.Fatal(err)
	}
	if got := a.in.list(); !slices.Equal(got, []string{"b:hi"}) {
		t.Fatalf("a got %v", got)
	}
	// b stops: a's probes find nothing listening and drop it.
	if err := b.c.Stop(t.Context()); err != nil {
		t.Fatal(err)
	}
	testkit.WaitFor(t, "a drops b", sees(a))
}
