package cluster_test

import (
	"context"
	"crypto/rand"
	"fmt"
	mrand "math/rand/v2"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gomcat/gomcat/internal/testkit"
	"github.com/gomcat/gomcat/mcast"
	"github.com/gomcat/gomcat/runtime/cluster"
)

// fakeMembership is a Membership the test drives by emitting events.
type fakeMembership struct {
	mu      sync.Mutex
	local   mcast.Member
	members map[string]mcast.Member
	ev      chan mcast.Event
	closed  bool
	dropped uint64 // reported as Stats.EventsDropped
}

func newFake() *fakeMembership {
	return &fakeMembership{members: map[string]mcast.Member{}, ev: make(chan mcast.Event, 64)}
}

// fakeConfig hands the test's fake to the cluster.
type fakeConfig struct{ f *fakeMembership }

func (fakeConfig) Bind() string { return "127.0.0.1" }

func (fakeConfig) Target() string { return "" }

func (c fakeConfig) NewMembership(l cluster.Local) (cluster.Membership, error) {
	f := c.f
	f.mu.Lock()
	defer f.mu.Unlock()
	f.local = mcast.Member{Name: l.Member.Name, Domain: l.Domain, Host: net.ParseIP(l.Member.Host).To4(),
		Port: l.Member.Port, HTTPURL: l.Member.HTTPURL}
	rand.Read(f.local.UniqueID[:])
	return f, nil
}

func (f *fakeMembership) Start(context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.local.StartedAt = time.Now().UnixMilli()
	return nil
}

func (f *fakeMembership) Stop(context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.closed {
		f.closed = true
		close(f.ev)
	}
	return nil
}

func (f *fakeMembership) Events() <-chan mcast.Event { return f.ev }

func (f *fakeMembership) Members() []mcast.Member {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []mcast.Member
	for _, m := range f.members {
		out = append(out, m)
	}
	slices.SortFunc(out, func(a, b mcast.Member) int {
		if a.Older(b) {
			return -1
		}
		return 1
	})
	return out
}

func (f *fakeMembership) Stats() mcast.Stats {
	f.mu.Lock()
	defer f.mu.Unlock()
	return mcast.Stats{EventsDropped: f.dropped}
}

// drop changes the member list as if the events had been dropped.
func (f *fakeMembership) drop(add []mcast.Member, remove ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, m := range add {
		f.members[m.Name] = m
	}
	for _, n := range remove {
		delete(f.members, n)
	}
	f.dropped++
}

func (f *fakeMembership) Local() mcast.Member {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.local
}

func (f *fakeMembership) emit(k mcast.Kind, m mcast.Member, old ...mcast.Member) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch k {
	case mcast.Added, mcast.Updated:
		f.members[m.Name] = m
	case mcast.Disappeared, mcast.Left:
		delete(f.members, m.Name)
	case mcast.Replaced:
		delete(f.members, old[0].Name)
		f.members[m.Name] = m
	}
	ev := mcast.Event{Kind: k, Member: m}
	if len(old) > 0 {
		ev.Old = old[0]
	}
	f.ev <- ev
}

// peer is a fake member: a name, a unique id and a port that is either
// listening (the receiver answers) or closed.
type peer struct {
	m  mcast.Member
	ln net.Listener
}

func newPeer(t *testing.T, name string, listening bool) *peer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &peer{ln: ln}
	p.m = mcast.Member{Name: name, Host: net.IPv4(127, 0, 0, 1).To4(), Port: ln.Addr().(*net.TCPAddr).Port,
		StartedAt: time.Now().UnixMilli(), Alive: time.Second, HTTPURL: "http://127.0.0.1:8080"}
	rand.Read(p.m.UniqueID[:])
	go func() { // accept and close, like a receiver that gets a probe
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	t.Cleanup(func() { ln.Close() })
	if !listening {
		p.close()
	}
	return p
}

func (p *peer) close() { p.ln.Close() }

// reopen listens on the peer's port again (after close).
func (p *peer) reopen(t *testing.T) {
	t.Helper()
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p.m.Port))
	if err != nil {
		t.Skipf("port %d taken meanwhile: %v", p.m.Port, err)
	}
	p.ln = ln
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	t.Cleanup(func() { ln.Close() })
}

// startFake starts a cluster named name on a fake membership.
func startFake(t *testing.T, name string, mod func(*cluster.Config)) (*cluster.Cluster, *fakeMembership, *testkit.Log) {
	t.Helper()
	f := newFake()
	cfg := cluster.DefaultLocalConfig(name)
	cfg.Membership = fakeConfig{f}
	cfg.FailureDetector.RecheckInterval = 20 * time.Millisecond
	var lb *testkit.Log
	cfg.Logger, lb = testkit.NewLogger(t)
	if mod != nil {
		mod(&cfg)
	}
	c, err := cluster.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Stop(context.Background()) })
	return c, f, lb
}

// testGroup returns a random 239.255.x.y group and port.
func testGroup() (string, int) {
	return fmt.Sprintf("239.255.%d.%d", mrand.IntN(256), 1+mrand.IntN(254)), 20000 + mrand.IntN(40000)
}

func state(c *cluster.Cluster, name string) string {
	for _, m := range c.Members() {
		if m.Name == name {
			return m.State
		}
	}
	return ""
}
