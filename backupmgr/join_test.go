package backupmgr

import (
	"context"
	"testing"
	"time"

	"github.com/gomcat/gomcat/internal/testkit"
)

// TestJoinerGetsMapThenBackupsAtRebalanceRate: a member joining a running
// cluster receives the map (every id with its owners) but no session
// value; it becomes a backup for the sessions created after it joined
// (its turn in the round-robin); rebalancing then moves backups of a
// member's primaries to it, no more than rebalanceRate per second of the
// injected clock, until the load is even. Ticks are driven by the test
// (sweep with the clock), so the counts are exact.
func TestJoinerGetsMapThenBackupsAtRebalanceRate(t *testing.T) {
	const rate = 4
	clock := testkit.NewClock(t0)
	var opts nodeOpt = func(c *Config) {
		c.Now = clock.Now
		c.RebalanceRate = rate
		c.SweepInterval = time.Hour // no sweeper tick of its own: the test sweeps
	}
	h := newCluster(t)
	ns := startCluster(t, h, 3, opts)
	var old []string
	for i := range 60 {
		s, err := ns[i%3].request("", set("v", i))
		if err != nil {
			t.Fatal(err)
		}
		old = append(old, s.ID())
	}
	testkit.WaitFor(t, "every member knows every owner", func() bool {
		for _, n := range ns {
			if n.m.Stats().Entries != len(old) {
				return false
			}
		}
		return true
	})

	// n4 joins: Start returns once the members' maps arrived.
	n4 := startNode(t, h, "n4", opts)
	testkit.WaitFor(t, "every member to see n4", func() bool {
		for _, n := range append(ns, n4) {
			if n.m.Peers() != 3 {
				return false
			}
		}
		return true
	})
	st := n4.m.Stats()
	if st.Entries != len(old) || st.Proxies != len(old) || st.Sessions != 0 || n4.m.Count() != 0 || len(n4.m.Sessions()) != 0 {
		t.Fatalf("n4 after joining: %d entries, %d proxies, %d values (Count %d); want %d, %d, 0",
			st.Entries, st.Proxies, st.Sessions, n4.m.Count(), len(old), len(old))
	}
	for _, id := range old {
		p, b, ok := ns[0].m.Owners(id)
		p4, b4, ok4 := n4.m.Owners(id)
		if !ok || !ok4 || p4 != p || len(b4) != 1 || b4[0] != b[0] || n4.m.store.Get(id) != nil {
			t.Fatalf("%s: n4 knows %q %v %v (value %v), n1 %q %v", id, p4, b4, ok4, n4.m.store.Get(id) != nil, p, b)
		}
	}

	// New sessions on n1: n4 takes its turn as their backup (n2, n3, n4
	// one after the other), and holds their values.
	var fresh []string
	for i := range 9 {
		s, err := ns[0].request("", set("v", 100+i))
		if err != nil {
			t.Fatal(err)
		}
		fresh = append(fresh, s.ID())
	}
	backedBy := func(ids []string) map[string]int {
		load := map[string]int{}
		for _, id := range ids {
			_, b, _ := ns[0].m.Owners(id)
			for _, x := range b {
				load[x]++
			}
		}
		return load
	}
	if l := backedBy(fresh); l["n2"] != 3 || l["n3"] != 3 || l["n4"] != 3 {
		t.Fatalf("backups of the 9 new sessions: %v, want 3 each", l)
	}
	if st := n4.m.Stats(); st.Sessions != 3 || st.Backups != 3 {
		t.Fatalf("n4: %d values, %d backups; want 3, 3", st.Sessions, st.Backups)
	}

	// Rebalancing on n1 (20 old + 9 new primaries; backups n2 13, n3 13,
	// n4 3). The first tick only starts the budget; one second later at
	// most rate backups move, all to n4.
	mine := func() []string {
		var out []string
		for _, id := range append(old, fresh...) {
			if p, _, _ := ns[0].m.Owners(id); p == "n1" {
				out = append(out, id)
			}
		}
		return out
	}
	ctx := context.Background()
	ns[0].m.sweep(ctx)
	if l := backedBy(mine()); l["n4"] != 3 {
		t.Fatalf("the first tick moved backups: %v", l)
	}
	clock.Add(time.Second)
	ns[0].m.sweep(ctx)
	if l := backedBy(mine()); l["n2"]+l["n3"] != 26-rate || l["n4"] != 3+rate {
		t.Fatalf("after 1 s at rate %d: %v, want n4 %d", rate, l, 3+rate)
	}
	// Then until even (29 over 3: 10, 10, 9), however large the budget.
	clock.Add(10 * time.Second)
	ns[0].m.sweep(ctx)
	l := backedBy(mine())
	if l["n2"] != 10 || l["n3"] != 10 || l["n4"] != 9 {
		t.Fatalf("after 10 s more: %v, want n2 10, n3 10, n4 9", l)
	}
	// n4 holds the value of each session it backs; the members a backup
	// moved away from dropped theirs.
	testkit.WaitFor(t, "the values to follow the moved backups", func() bool {
		st := n4.m.Stats()
		return st.Sessions == 9 && st.Backups == 9 && holdersOf(append(ns, n4), mine()) == 2*len(mine())
	})
	for _, id := range mine() {
		_, b, _ := ns[0].m.Owners(id)
		if b[0] == "n4" && n4.m.store.Get(id) == nil {
			t.Fatalf("%s: n4 is its backup but holds no value", id)
		}
	}
}

// holdersOf counts the copies of ids over nodes.
func holdersOf(nodes []*node, ids []string) int {
	k := 0
	for _, id := range ids {
		k += holders(nodes, id)
	}
	return k
}
