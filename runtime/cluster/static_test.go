package cluster_test

import (
	"net"
	"slices"
	"strings"
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

// Static members over IPv6 loopback with the receiver on "auto": the
// receiver binds and advertises the source of the route to the member
// (::1), members meet, messages flow, and the log brackets the address.
func TestStaticMembershipIPv6Auto(t *testing.T) {
	ln, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	}
	ln.Close()
	node6 := func(name string, port, peerPort int) *node {
		cfg := cluster.DefaultLocalConfig(name)
		cfg.Transport.Address, cfg.Transport.Port, cfg.Transport.AutoBind = "auto", port, 1
		sc := mcast.DefaultStaticConfig()
		sc.Interval, sc.ExpirationTime, sc.ConnectTimeout = 50*time.Millisecond, 500*time.Millisecond, 200*time.Millisecond
		sc.Members = []mcast.StaticMember{{Host: "::1", Port: peerPort}}
		cfg.Membership = cluster.Static{Config: sc}
		return newNode(t, cfg)
	}
	pa, pb := freePort(t), freePort(t)
	a, b := node6("a", pa, pb), node6("b", pb, pa)
	startAll(t, a)
	startAll(t, b)
	testkit.WaitFor(t, "a sees b", sees(a, "b"))
	testkit.WaitFor(t, "b sees a", sees(b, "a"))
	if l := a.c.Local(); !l.Host.Equal(net.IPv6loopback) {
		t.Fatalf("a advertises %v, want ::1", l.Host)
	}
	if s := a.c.Local().String(); !strings.HasPrefix(s, "tcp://[::1]:") {
		t.Fatalf("member renders as %q, want tcp://[::1]:PORT", s)
	}
	if err := b.c.Port(1).Send(t.Context(), "a", []byte("hi6"), 6); err != nil {
		t.Fatal(err)
	}
	if got := a.in.list(); !slices.Equal(got, []string{"b:hi6"}) {
		t.Fatalf("a got %v", got)
	}
}
