package cluster_test

import (
	"bytes"
	"context"
	"errors"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gomcat/gomcat/internal/testkit"
	"github.com/gomcat/gomcat/mcast"
	"github.com/gomcat/gomcat/runtime/cluster"
)

// directory is a changeable list of receiver ports on 127.0.0.1, what a
// DNS name or a pod list answers.
type directory struct {
	mu    sync.Mutex
	ports []int
}

func (d *directory) set(ports ...int) {
	d.mu.Lock()
	d.ports = slices.Clone(ports)
	d.mu.Unlock()
}

func (d *directory) discover(context.Context) ([]mcast.StaticMember, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []mcast.StaticMember
	for _, p := range d.ports {
		out = append(out, mcast.StaticMember{Host: "127.0.0.1", Port: p})
	}
	return out, nil
}

func discoveredNode(t *testing.T, name string, port int, d *directory, key []byte) *node {
	t.Helper()
	cfg := cluster.DefaultLocalConfig(name)
	cfg.Transport.Address, cfg.Transport.Port = "127.0.0.1", port
	cfg.Key = key
	sc := mcast.DefaultStaticConfig()
	sc.Interval, sc.ExpirationTime, sc.ConnectTimeout = 50*time.Millisecond, 500*time.Millisecond, 200*time.Millisecond
	sc.Discover = d.discover
	cfg.Membership = cluster.Static{Config: sc, Via: "127.0.0.1"}
	return newNode(t, cfg)
}

// Discovered members: the nodes a directory lists find each other (self
// recognised), a listed TCP service that is not this cluster's never
// becomes a member, a node listed later joins everyone, and a stopping
// node's goodbye removes it at once.
func TestDiscoveredMembership(t *testing.T) {
	key := bytes.Repeat([]byte{0x5a}, 32)
	other, err := net.Listen("tcp", "127.0.0.1:0") // accepts, says nothing
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	go func() {
		for {
			c, err := other.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	pa, pb, pc := freePort(t), freePort(t), freePort(t)
	d := &directory{}
	d.set(pa, pb, other.Addr().(*net.TCPAddr).Port)
	a, b := discoveredNode(t, "a", pa, d, key), discoveredNode(t, "b", pb, d, key)
	startAll(t, a, b)
	testkit.WaitFor(t, "a sees b", sees(a, "b"))
	testkit.WaitFor(t, "b sees a", sees(b, "a"))

	c := discoveredNode(t, "c", pc, d, key)
	d.set(pa, pb, pc, other.Addr().(*net.TCPAddr).Port)
	startAll(t, c)
	// c's Start discovered and probed a and b before returning.
	if got := len(c.c.Members()); got != 2 {
		t.Fatalf("c knows %d members when Start returned: %+v", got, c.c.Members())
	}
	testkit.WaitFor(t, "a sees b, c", sees(a, "b", "c"))
	testkit.WaitFor(t, "b sees a, c", sees(b, "a", "c"))
	if err := a.c.Port(1).Send(t.Context(), "c", []byte("hi"), 6); err != nil {
		t.Fatal(err)
	}

	// c stops while still listed: its goodbye, not a probe, removes it.
	left := a.c.Stats().Left
	if err := c.c.Stop(t.Context()); err != nil {
		t.Fatal(err)
	}
	testkit.WaitFor(t, "a drops c", sees(a, "b"))
	testkit.WaitFor(t, "b drops c", sees(b, "a"))
	if a.c.Stats().Left == left {
		t.Fatal("a dropped c without its goodbye")
	}
	for _, n := range []*node{a, b} {
		for _, m := range n.c.Members() {
			if m.Addr == other.Addr().String() {
				t.Fatalf("the non-Gomcat service became a member: %+v", m)
			}
		}
	}
}

func TestDiscoveredMembershipNeedsKey(t *testing.T) {
	n := discoveredNode(t, "a", freePort(t), &directory{}, nil)
	if err := n.c.Start(t.Context()); !errors.Is(err, cluster.ErrDiscoverNeedsKey) {
		t.Fatalf("Start without a key: %v", err)
	}
}
