package cluster_test

import (
	"net"
	"slices"
	"strconv"
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
	return staticNodeAt(t, name, port, "127.0.0.1", peerPort)
}

func staticNodeAt(t *testing.T, name string, port int, peerHost string, peerPort int) *node {
	t.Helper()
	cfg := cluster.DefaultLocalConfig(name)
	cfg.Transport.Address, cfg.Transport.Port = "127.0.0.1", port
	sc := mcast.DefaultStaticConfig()
	sc.Interval, sc.ExpirationTime, sc.ConnectTimeout = 50*time.Millisecond, 500*time.Millisecond, 200*time.Millisecond
	sc.Members = []mcast.StaticMember{{Host: peerHost, Port: peerPort}}
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

// A receiver listening on every interface advertises Config.Advertise, and
// a port of its own choosing: peers dial that, and its connections leave
// from that address, so peers admit them (admission compares the source IP
// with the advertised host).
func TestAdvertise(t *testing.T) {
	pa, pb, mapped := freePort(t), freePort(t), freePort(t)
	a := staticNodeAt(t, "a", pa, "127.0.0.3", pb) // b as advertised
	cfg := cluster.DefaultLocalConfig("b")
	cfg.Transport.Address, cfg.Transport.Port, cfg.Transport.AutoBind = "0.0.0.0", pb, 1
	cfg.Advertise = "127.0.0.3"
	sc := mcast.DefaultStaticConfig()
	sc.Interval, sc.ExpirationTime, sc.ConnectTimeout = 50*time.Millisecond, 500*time.Millisecond, 200*time.Millisecond
	sc.Members = []mcast.StaticMember{{Host: "127.0.0.1", Port: pa}}
	cfg.Membership = cluster.Static{Config: sc}
	b := newNode(t, cfg)
	startAll(t, a, b)
	if l := b.c.Local(); l.Host.String() != "127.0.0.3" || l.Port != pb {
		t.Fatalf("b advertises %s:%d, want 127.0.0.3:%d", l.Host, l.Port, pb)
	}
	testkit.WaitFor(t, "a sees b", sees(a, "b"))
	testkit.WaitFor(t, "b sees a", sees(b, "a"))
	for _, m := range a.c.Members() {
		if want := "127.0.0.3:" + strconv.Itoa(pb); m.Name == "b" && m.Addr != want {
			t.Fatalf("a knows b at %s, want the advertised %s", m.Addr, want)
		}
	}
	if err := b.c.Port(1).Send(t.Context(), "a", []byte("hi"), 6); err != nil {
		t.Fatalf("b → a from the advertised address: %v", err)
	}
	if got := a.in.list(); !slices.Equal(got, []string{"b:hi"}) {
		t.Fatalf("a got %v", got)
	}

	// A mapped port (NAT): advertised as given, not the bound one.
	cfg.Name, cfg.Advertise, cfg.Transport.Port = "c", "127.0.0.4:"+strconv.Itoa(mapped), freePort(t)
	c := newNode(t, cfg)
	startAll(t, c)
	if l := c.c.Local(); l.Host.String() != "127.0.0.4" || l.Port != mapped {
		t.Fatalf("c advertises %s:%d, want 127.0.0.4:%d", l.Host, l.Port, mapped)
	}
	for _, bad := range []string{"0.0.0.0", "[::]:4000", "host.example", "127.0.0.1:0"} {
		cfg.Advertise = bad
		if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "Advertise") {
			t.Errorf("Advertise %q: %v, want refused", bad, err)
		}
	}
}
