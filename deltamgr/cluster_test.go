package deltamgr

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/gomcat/gomcat/internal/testkit"
	"github.com/gomcat/gomcat/runtime/session"
)

// Four members, a partition, a heal, then the primary dies and the session
// fails over with a route rewrite.
func TestPartitionHealAndFailover(t *testing.T) {
	h := newCluster(t)
	ns := startNodes(t, h, []string{"n1", "n2", "n3", "n4"})
	n1, n2, n3, n4 := ns[0], ns[1], ns[2], ns[3]
	s, _ := n1.request(t, "", func(s *session.Session) { mustSet(t, s, "a", 1) })
	id := s.ID()
	for _, nd := range ns {
		testkit.WaitWithin(t, "a=1 on "+nd.name, 5*time.Second, func() bool { v, _ := nd.get(id, "a"); return v == int64(1) })
	}

	h.Partition([]string{"n1", "n2"}, []string{"n3", "n4"})
	n1.request(t, id, func(s *session.Session) { mustSet(t, s, "a", 2) })
	testkit.WaitWithin(t, "a=2 on n2", 5*time.Second, func() bool { v, _ := n2.get(id, "a"); return v == int64(2) })
	other, _ := n3.request(t, "", func(s *session.Session) { mustSet(t, s, "b", 1) })
	testkit.WaitWithin(t, "b on n4", 5*time.Second, func() bool { _, ok := n4.get(other.ID(), "b"); return ok })
	for _, nd := range []*node{n3, n4} {
		if v, _ := nd.get(id, "a"); v != int64(1) {
			t.Fatalf("%s saw a write across the partition", nd.name)
		}
	}
	if n1.m.store.Get(other.ID()) != nil {
		t.Fatal("n1 saw a session across the partition")
	}

	h.Heal()
	n1.request(t, id, func(s *session.Session) { mustSet(t, s, "a", 3) })
	n3.request(t, other.ID(), func(s *session.Session) { mustSet(t, s, "c", 1) })
	for _, nd := range ns {
		testkit.WaitWithin(t, "a=3 on "+nd.name, 5*time.Second, func() bool { v, _ := nd.get(id, "a"); return v == int64(3) })
		testkit.WaitWithin(t, "c on "+nd.name, 5*time.Second, func() bool { _, ok := nd.get(other.ID(), "c"); return ok })
	}
	if n1.m.Stats().UnknownSessionDeltas != 1 {
		t.Fatalf("n1: unknown-session deltas %d, want 1 (created, not dropped)", n1.m.Stats().UnknownSessionDeltas)
	}

	// n1 dies; the balancer sends the user to n3, whose JvmRouteBinderValve
	// rewrites the route.
	h.Kill("n1")
	base, _ := session.SplitID(id)
	moved := base + ".n3"
	n3.request(t, id, func(s *session.Session) {
		if err := n3.m.ChangeID(s, moved); err != nil {
			t.Fatal(err)
		}
		mustSet(t, s, "after", "failover")
	})
	for _, nd := range []*node{n2, n4} {
		testkit.WaitWithin(t, "failover write on "+nd.name, 5*time.Second, func() bool { v, _ := nd.get(moved, "after"); return v == "failover" })
		if nd.m.Find(id) == nil {
			t.Fatalf("%s: old id lost during the rename grace", nd.name)
		}
		if nd.m.IsPrimary(nd.m.Find(moved)) {
			t.Fatalf("%s: replica marked primary", nd.name)
		}
	}
	if v, _ := n2.get(moved, "a"); v != int64(3) {
		t.Fatal("content lost in failover")
	}
}

// Sync mode with 30% of messages dropped: whenever RequestCompleted returns
// nil, every member already has the write; failures are reported.
func TestSyncModeWithDrops(t *testing.T) {
	h := newCluster(t)
	ns := startNodes(t, h, []string{"n1", "n2", "n3"}, withSync())
	s, err := ns[0].request(t, "", func(s *session.Session) { mustSet(t, s, "i", -1) })
	if err != nil {
		t.Fatal(err)
	}
	h.SetDrop(0.3)
	failures := 0
	for i := range 100 {
		_, err := ns[0].request(t, s.ID(), func(s *session.Session) { mustSet(t, s, "i", i) })
		if err != nil {
			failures++
			continue
		}
		for _, nd := range ns[1:] {
			if v, _ := nd.get(s.ID(), "i"); v != int64(i) {
				t.Fatalf("request %d acknowledged but %s has i=%v", i, nd.name, v)
			}
		}
	}
	if failures == 0 {
		t.Fatal("no failure reported with 30% drops")
	}
}

// Five members, async, drops and delays: the writes that were dropped are
// lost (async), but no session is: the next delta creates it wherever it
// was missing.
// Under testing/synctest: the hub's delays pass on the bubble's clock.
func TestAsyncDropsLoseNoSession(t *testing.T) { synctest.Test(t, testAsyncDropsLoseNoSession) }

func testAsyncDropsLoseNoSession(t *testing.T) {
	h := newCluster(t)
	names := []string{"n1", "n2", "n3", "n4", "n5"}
	ns := startNodes(t, h, names)
	h.SetDrop(0.2)
	h.SetDelay(0, time.Millisecond)
	ids := make([]string, 60)
	for i := range ids {
		nd := ns[i%len(ns)]
		s, _ := nd.request(t, "", func(s *session.Session) { mustSet(t, s, "w", 0) })
		for w := 1; w <= 2; w++ {
			nd.request(t, s.ID(), func(s *session.Session) { mustSet(t, s, "w", w) })
		}
		ids[i] = s.ID()
	}
	h.SetDrop(0)
	for i, id := range ids {
		ns[i%len(ns)].request(t, id, func(s *session.Session) { mustSet(t, s, "final", true) })
	}
	for _, nd := range ns {
		testkit.WaitWithin(t, "every session on "+nd.name, 10*time.Second, func() bool {
			for _, id := range ids {
				if v, _ := nd.get(id, "final"); v != true {
					return false
				}
			}
			return true
		})
	}
}
