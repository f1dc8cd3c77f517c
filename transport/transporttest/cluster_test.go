package transporttest

import (
	"context"
	"slices"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gomcat/gomcat/internal/testkit"
)

// tnode is the member a test Build makes: a recorder and a stop counter.
type tnode struct {
	name    string
	rec     *recorder
	port    *Port
	stopped atomic.Int32
}

func tbuild(t testing.TB, name string, join func(DeliverFunc) *Port) (*tnode, func()) {
	n := &tnode{name: name, rec: &recorder{}}
	n.port = join(n.rec.deliver)
	return n, func() { n.stopped.Add(1) }
}

func names(ns []*tnode) []string {
	var out []string
	for _, n := range ns {
		out = append(out, n.name)
	}
	return out
}

func TestClusterAddKillRestart(t *testing.T) {
	c := NewCluster[*tnode](t, 1)
	ns := c.AddAll(tbuild, Names("n", 3)...)
	if got := names(ns); !slices.Equal(got, []string{"n1", "n2", "n3"}) {
		t.Fatalf("AddAll made %v", got)
	}
	if got := ns[0].port.Members(); !slices.Equal(got, []string{"n2", "n3"}) {
		t.Fatalf("n1 sees %v", got)
	}
	if err := ns[0].port.Send(context.Background(), "n2", []byte("hi"), optSync); err != nil {
		t.Fatal(err)
	}
	if got := ns[1].rec.list(); !slices.Equal(got, []string{"n1:hi"}) {
		t.Fatalf("n2 got %v", got)
	}

	c.Kill("n2", "n3")
	if got := names(c.Alive()); !slices.Equal(got, []string{"n1"}) {
		t.Fatalf("alive after kill: %v", got)
	}
	c.WaitMembers("n1")
	if ns[1].stopped.Load() != 1 || ns[2].stopped.Load() != 1 {
		t.Fatal("kill did not stop both")
	}

	back := c.Restart("n2", nil) // the Build it was added with
	if back == ns[1] || back.name != "n2" {
		t.Fatalf("restart returned %+v", back)
	}
	c.WaitJoined("n1", "n2")
	if c.Node("n2") != back || c.Port("n2") != back.port {
		t.Fatal("Node/Port do not name the restarted member")
	}
	if got := names(c.Alive()); !slices.Equal(got, []string{"n1", "n2"}) {
		t.Fatalf("alive after restart: %v", got)
	}
	if ns[1].stopped.Load() != 1 {
		t.Fatalf("the old n2 stopped %d times", ns[1].stopped.Load())
	}

	// A raw Leave takes a member out of Alive; its node still runs until
	// Restart (or the cleanup) stops it.
	c.Leave("n2")
	c.WaitLeft("n1", "n2")
	if len(c.Alive()) != 1 || back.stopped.Load() != 0 {
		t.Fatalf("after Leave: alive %v, stopped %d", names(c.Alive()), back.stopped.Load())
	}
	c.Restart("n2", nil)
	if back.stopped.Load() != 1 {
		t.Fatal("restart after Leave did not stop the old node")
	}
}

func TestClusterStopsAtCleanupOnce(t *testing.T) {
	var n1, n2 *tnode
	t.Run("inner", func(t *testing.T) {
		c := NewCluster[*tnode](t, 1)
		n1 = c.Add("n1", tbuild)
		n2 = c.Add("n2", tbuild)
		c.Kill("n2")
	})
	if n1.stopped.Load() != 1 || n2.stopped.Load() != 1 {
		t.Fatalf("stops: n1 %d, n2 %d; want 1 each", n1.stopped.Load(), n2.stopped.Load())
	}
}

// The waits block on the observer's events: a partition and a heal made
// by another goroutine later (on the bubble's clock) wake them.
func TestClusterWaitsOnEvents(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := NewCluster[*tnode](t, 1)
		c.AddAll(tbuild, "a", "b", "c")
		start := time.Now()
		go func() {
			time.Sleep(time.Second)
			c.Partition([]string{"a"}, []string{"b", "c"})
			time.Sleep(time.Second)
			c.Heal()
		}()
		c.WaitLeft("a", "b", "c")
		if d := time.Since(start); d != time.Second {
			t.Fatalf("WaitLeft returned after %v, want 1s", d)
		}
		c.WaitMembers("a", "c", "b")
		if d := time.Since(start); d != 2*time.Second {
			t.Fatalf("WaitMembers returned after %v, want 2s", d)
		}
	})
}

// A wait that never comes true fails the test after testkit.DefaultWait.
func TestClusterWaitTimesOut(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := NewCluster[*tnode](t, 1)
		c.Add("a", tbuild)
		msg := testkit.Fatal(t, func(tb testing.TB) {
			(&Cluster[*tnode]{Hub: c.Hub, t: tb, members: c.members}).WaitJoined("a", "ghost")
		})
		if msg != "timed out after 10s waiting for a to see [ghost] join" {
			t.Fatalf("message %q", msg)
		}
	})
}
