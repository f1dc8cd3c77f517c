package transporttest

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gomcat/gomcat/internal/testkit"
)

// Build makes the member named name, in the spirit of hashicorp/raft's
// MakeCluster factories: it calls join exactly once, with the DeliverFunc
// that receives the member's messages, to join the hub and get the
// member's port, and returns the member and how to stop it. The Cluster
// runs stop at most once: on Kill, on Restart, or at the test's cleanup.
type Build[N any] func(t testing.TB, name string, join func(DeliverFunc) *Port) (node N, stop func())

// Cluster is a test cluster on one Hub: members built by the test's Build
// and known by name, killed, restarted and partitioned by name, and waits
// that block on the membership events a member's port sees. The embedded
// Hub stays at hand for what is not a member of the cluster (a raw Join of
// a recorder), for a departure from the network alone (Leave: the member's
// node keeps running), and for Partition, Heal, SetDrop and SetDelay.
//
// The hub is closed at the test's cleanup, after every member's stop.
// Methods are safe for concurrent use, but Add, Kill and Restart must not
// be called from a DeliverFunc or a Subscribe callback.
type Cluster[N any] struct {
	*Hub
	t testing.TB

	mu      sync.Mutex
	members []*member[N] // in the order they were added; a restart is added anew
}

type member[N any] struct {
	name  string
	node  N
	port  *Port
	build Build[N]
	stop  func() // sync.OnceFunc of the Build's stop
	dead  bool   // killed (or replaced by a Restart)
}

// NewCluster returns an empty cluster on a new hub seeded with seed (drops
// and delays), closed at t's cleanup.
func NewCluster[N any](t testing.TB, seed int64) *Cluster[N] {
	c := &Cluster[N]{Hub: NewHub(seed), t: t}
	t.Cleanup(c.Hub.Close)
	return c
}

// Names returns prefix1 … prefixN.
func Names(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprint(prefix, i+1)
	}
	return out
}

// Add builds the member named name with build and returns it; its stop
// runs at the test's cleanup unless Kill ran it before. A live member of
// the cluster with the same name fails the test (use Restart).
func (c *Cluster[N]) Add(name string, build Build[N]) N {
	c.t.Helper()
	if c.find(name, true) != nil {
		c.t.Fatalf("transporttest: add %s: already a live member (Restart replaces one)", name)
	}
	var port *Port
	join := func(deliver DeliverFunc) *Port {
		if port != nil {
			panic("transporttest: a Build called join twice")
		}
		port = c.Hub.Join(name, deliver)
		return port
	}
	node, stop := build(c.t, name, join)
	if port == nil {
		c.t.Fatalf("transporttest: add %s: the Build did not join the hub", name)
	}
	m := &member[N]{name: name, node: node, port: port, build: build, stop: sync.OnceFunc(stop)}
	c.t.Cleanup(m.stop)
	c.mu.Lock()
	c.members = append(c.members, m)
	c.mu.Unlock()
	return node
}

// AddAll adds a member per name with build, one after the other (each
// built after the previous Add returned), then waits until each of them
// sees all the others.
func (c *Cluster[N]) AddAll(build Build[N], names ...string) []N {
	c.t.Helper()
	out := make([]N, 0, len(names))
	for _, name := range names {
		out = append(out, c.Add(name, build))
	}
	for _, name := range names {
		c.WaitJoined(name, slices.DeleteFunc(slices.Clone(names), func(s string) bool { return s == name })...)
	}
	return out
}

// Kill makes the named members die at once, like kill -9: they are no
// longer Alive, all of them leave the hub (messages not yet delivered to
// them are lost), then each one's stop runs.
func (c *Cluster[N]) Kill(names ...string) {
	c.t.Helper()
	var ms []*member[N]
	for _, name := range names {
		m := c.find(name, true)
		if m == nil {
			c.t.Fatalf("transporttest: kill %s: not a live member", name)
		}
		c.mu.Lock()
		m.dead = true
		c.mu.Unlock()
		ms = append(ms, m)
	}
	for _, m := range ms {
		c.Hub.Leave(m.name)
	}
	for _, m := range ms {
		m.stop()
	}
}

// Restart kills the named member if it is alive (else runs its stop, if
// it left the hub by a raw Leave), then adds it again with
// build, or with the Build it was last added with when build is nil (a
// Build that closes over its configuration restarts on the same disk).
func (c *Cluster[N]) Restart(name string, build Build[N]) N {
	c.t.Helper()
	last := c.find(name, false)
	if last == nil {
		c.t.Fatalf("transporttest: restart %s: never a member", name)
	}
	if c.find(name, true) != nil {
		c.Kill(name)
	} else {
		last.stop() // gone from the hub (Leave) but maybe still running
	}
	if build == nil {
		build = last.build
	}
	return c.Add(name, build)
}

// Node returns the live member named name; it fails the test if there is none.
func (c *Cluster[N]) Node(name string) N {
	c.t.Helper()
	m := c.find(name, true)
	if m == nil {
		c.t.Fatalf("transporttest: %s: not a live member", name)
	}
	return m.node
}

// Port returns the hub port of the live member named name; it fails the
// test if there is none.
func (c *Cluster[N]) Port(name string) *Port {
	c.t.Helper()
	m := c.find(name, true)
	if m == nil {
		c.t.Fatalf("transporttest: %s: not a live member", name)
	}
	return m.port
}

// Alive returns the members neither killed nor gone from the hub (Leave,
// or a raw Join under their name), in the order they were added.
func (c *Cluster[N]) Alive() []N {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []N
	for _, m := range c.members {
		if c.aliveLocked(m) {
			out = append(out, m.node)
		}
	}
	return out
}

func (c *Cluster[N]) aliveLocked(m *member[N]) bool {
	return !m.dead && m.port.ctx.Err() == nil
}

// find returns the latest member named name (only a live one if live), or nil.
func (c *Cluster[N]) find(name string, live bool) *member[N] {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, m := range slices.Backward(c.members) {
		if m.name == name {
			if live && !c.aliveLocked(m) {
				return nil
			}
			return m
		}
	}
	return nil
}

// WaitJoined blocks until the live member observer sees every one of
// members (its port's Subscribe events say they joined), failing the test
// after testkit.DefaultWait.
func (c *Cluster[N]) WaitJoined(observer string, members ...string) {
	c.t.Helper()
	c.waitView(observer, fmt.Sprintf("%s to see %v join", observer, members), func(seen map[string]bool) bool {
		return every(members, seen, true)
	})
}

// WaitLeft blocks until the live member observer sees none of members (its
// port's Subscribe events say they left or were cut off), failing the test
// after testkit.DefaultWait.
func (c *Cluster[N]) WaitLeft(observer string, members ...string) {
	c.t.Helper()
	c.waitView(observer, fmt.Sprintf("%s to see %v leave", observer, members), func(seen map[string]bool) bool {
		return every(members, seen, false)
	})
}

// WaitMembers blocks until the live member observer sees exactly members
// (in any order), as its port's Subscribe events tell, failing the test
// after testkit.DefaultWait.
func (c *Cluster[N]) WaitMembers(observer string, members ...string) {
	c.t.Helper()
	c.waitView(observer, fmt.Sprintf("%s to see exactly %v", observer, members), func(seen map[string]bool) bool {
		return len(seen) == len(members) && every(members, seen, true)
	})
}

// every reports whether seen[m] == want for each of members.
func every(members []string, seen map[string]bool, want bool) bool {
	for _, m := range members {
		if seen[m] != want {
			return false
		}
	}
	return true
}

// waitView subscribes to observer's membership events and blocks until
// cond holds of the set they build, woken by each event (no polling).
func (c *Cluster[N]) waitView(observer, what string, cond func(seen map[string]bool) bool) {
	c.t.Helper()
	p := c.Port(observer)
	var mu sync.Mutex
	seen := make(map[string]bool)
	wake := make(chan struct{}, 1)
	cancel := p.Subscribe(func(kind int, name string) {
		mu.Lock()
		if kind == MemberLeft {
			delete(seen, name)
		} else {
			seen[name] = true
		}
		mu.Unlock()
		select {
		case wake <- struct{}{}:
		default:
		}
	})
	defer cancel()
	timeout := time.NewTimer(testkit.DefaultWait)
	defer timeout.Stop()
	for {
		mu.Lock()
		ok := cond(seen)
		mu.Unlock()
		if ok {
			return
		}
		select {
		case <-wake:
		case <-timeout.C:
			c.t.Fatalf("timed out after %v waiting for %s", testkit.DefaultWait, what)
		}
	}
}
