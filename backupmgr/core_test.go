package backupmgr

import (
	"slices"
	"testing"
	"time"
)

var t0 = time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)

func coreWith(self string, n int, peers ...string) *core {
	c := newCore(self, n, 0, 0, 0)
	for _, p := range peers {
		c.peerUp(p, false)
	}
	return c
}

func kindsOf(effs []effect) []effectKind {
	var out []effectKind
	for _, f := range effs {
		out = append(out, f.kind)
	}
	return out
}

func TestCoreRoundRobinAndAnnounce(t *testing.T) {
	c := coreWith("a", 1, "b", "c", "d")
	seen := map[string]int{}
	for _, id := range []string{"1", "2", "3", "4", "5", "6"} {
		c.created(id, t0)
		effs := c.completed(id, true, t0)
		if got := kindsOf(effs); !slices.Equal(got, []effectKind{effReplicate, effSend}) {
			t.Fatalf("%s: effects %v, want replicate then proxy", id, got)
		}
		if len(effs[0].to) != 1 || len(effs[1].to) != 2 || effs[1].msg.Kind != KindProxy {
			t.Fatalf("%s: replicate to %v, proxy to %v", id, effs[0].to, effs[1].to)
		}
		seen[effs[0].to[0]]++
		// A later request with changes goes to the backup only; a read-only one sends nothing.
		if effs := c.completed(id, true, t0); len(effs) != 1 || effs[0].kind != effReplicate {
			t.Fatalf("%s: second request: %v", id, kindsOf(effs))
		}
		if effs := c.completed(id, false, t0); len(effs) != 0 {
			t.Fatalf("%s: read-only request sent %v", id, kindsOf(effs))
		}
	}
	for _, p := range []string{"b", "c", "d"} {
		if seen[p] != 2 {
			t.Fatalf("round-robin: backups %v, want 2 each", seen)
		}
	}
}

func TestCorePeerDown(t *testing.T) {
	tests := []struct {
		name      string
		self      string
		n         int
		e         Entry
		down      []string
		wantKinds []effectKind
		primary   string // "" = entry gone
	}{
		{"backup promotes and picks a new backup", "b", 1, Entry{ID: "x", Primary: "a", Backups: []string{"b"}},
			[]string{"a"}, []effectKind{effPromoted, effReplicate, effSend}, "b"},
		{"bystander computes the same primary", "c", 1, Entry{ID: "x", Primary: "a", Backups: []string{"b"}},
			[]string{"a"}, nil, "b"},
		{"primary replaces a lost backup", "a", 1, Entry{ID: "x", Primary: "a", Backups: []string{"b"}},
			[]string{"b"}, []effectKind{effReplicate, effSend}, "a"},
		{"both copies died: reporter counts", "c", 1, Entry{ID: "x", Primary: "a", Backups: []string{"b"}},
			[]string{"a", "b"}, []effectKind{effForget, effLost}, ""},
		{"both copies died: non-reporter forgets", "d", 1, Entry{ID: "x", Primary: "a", Backups: []string{"b"}},
			[]string{"a", "b"}, []effectKind{effForget}, ""},
		{"backups=2 survives two deaths", "d", 2, Entry{ID: "x", Primary: "a", Backups: []string{"b", "d"}},
			[]string{"a", "b"}, []effectKind{effPromoted, effReplicate}, "d"}, // c and e both get the value
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			peers := slices.DeleteFunc([]string{"a", "b", "c", "d", "e"}, func(p string) bool { return p == tt.self })
			c := coreWith(tt.self, tt.n, peers...)
			c.entries["x"] = &entry{Entry: tt.e, local: tt.e.holds(tt.self), announced: true}
			var effs []effect
			for _, d := range tt.down {
				got, _ := c.peerDown(d)
				effs = append(effs, got...)
			}
			if got := kindsOf(effs); !slices.Equal(got, tt.wantKinds) {
				t.Fatalf("effects %v, want %v", got, tt.wantKinds)
			}
			e := c.entries["x"]
			if tt.primary == "" {
				if e != nil {
					t.Fatalf("entry kept: %+v", e.Entry)
				}
				return
			}
			if e == nil || e.Primary != tt.primary {
				t.Fatalf("entry %+v, want primary %s", e, tt.primary)
			}
			if e.Primary == tt.self && len(e.Backups) != tt.n {
				t.Fatalf("backups %v, want %d", e.Backups, tt.n)
			}
		})
	}
}

func TestCoreTakeOverKeepsOldPrimary(t *testing.T) {
	c := coreWith("c", 1, "a", "b", "d")
	c.entries["x"] = &entry{Entry: Entry{ID: "x", Primary: "a", Backups: []string{"b"}, Ver: 3}}
	if r, from := c.lookup("x"); r != roleProxy || !slices.Equal(from, []string{"b", "a"}) {
		t.Fatalf("lookup: %v %v, want proxy, backups first", r, from)
	}
	effs := c.takeOver("x", &Entry{ID: "x", Primary: "a", Backups: []string{"b"}, Ver: 3}, 7, t0)
	e := c.entries["x"]
	if e.Primary != "c" || !slices.Equal(e.Backups, []string{"a"}) || e.Ver != 5 || e.gen != 7 {
		t.Fatalf("after takeover %+v gen %d", e.Entry, e.gen)
	}
	// Nothing but roles travels: the old primary holds the value. The old
	// holders are told first and waited for, the bystander async.
	if got := kindsOf(effs); !slices.Equal(got, []effectKind{effPromoted, effSend, effSend}) {
		t.Fatalf("effects %v", got)
	}
	if !effs[1].wait || !slices.Equal(effs[1].to, []string{"a", "b"}) || effs[2].wait || !slices.Equal(effs[2].to, []string{"d"}) {
		t.Fatalf("proxies: %+v %+v", effs[1], effs[2])
	}
	// b is told it no longer holds a copy.
	b := coreWith("b", 1, "a", "c", "d")
	b.entries["x"] = &entry{Entry: Entry{ID: "x", Primary: "a", Backups: []string{"b"}, Ver: 3}, local: true}
	if got := kindsOf(b.receive("c", effs[1].msg, t0)); !slices.Equal(got, []effectKind{effDrop}) {
		t.Fatalf("old backup: %v, want drop", got)
	}
}

func TestCoreAcceptOrder(t *testing.T) {
	c := coreWith("z", 1, "a", "b", "c")
	c.entries["x"] = &entry{Entry: Entry{ID: "x", Primary: "b", Ver: 5}}
	for _, tt := range []struct {
		r    Entry
		want bool
	}{
		{Entry{ID: "x", Primary: "a", Ver: 4}, false},
		{Entry{ID: "x", Primary: "c", Ver: 5}, false},
		{Entry{ID: "x", Primary: "a", Ver: 5}, true}, // healed partition: first name wins
		{Entry{ID: "x", Primary: "c", Ver: 6}, true},
		{Entry{ID: "y", Primary: "c", Ver: 1}, true},
		{Entry{ID: "y", Primary: "gone", Ver: 9}, false},
	} {
		if got := c.accept(&tt.r); got != tt.want {
			t.Errorf("accept(%+v) = %v, want %v", tt.r, got, tt.want)
		}
	}
}

func TestCoreJoinTopsUpAndRebalancesWithinBudget(t *testing.T) {
	c := newCore("a", 1, 10, 0, 0)
	for i := range 40 {
		id := string(rune('A' + i))
		c.created(id, t0)
		c.completed(id, true, t0)
	}
	// Alone: no backups. A peer arrives: every primary gets it at once.
	effs := c.peerUp("b", true)
	if effs[0].msg.Kind != KindState || len(effs[0].msg.Entries) != 40 {
		t.Fatalf("state to the joiner: %+v", effs[0])
	}
	reps := 0
	for _, f := range effs {
		if f.kind == effReplicate {
			reps++
		}
	}
	if reps != 40 {
		t.Fatalf("top-up replications %d, want 40", reps)
	}
	// A third member: rebalancing moves at most rate×seconds backups per tick.
	c.peerUp("c", false)
	c.tick(t0)
	moved := func(effs []effect) int {
		n := 0
		for _, f := range effs {
			if f.kind == effReplicate {
				n++
			}
		}
		return n
	}
	if got := moved(c.tick(t0.Add(time.Second))); got != 10 {
		t.Fatalf("moved %d in 1 s at rate 10, want 10", got)
	}
	if got := moved(c.tick(t0.Add(10 * time.Second))); got != 10 {
		t.Fatalf("second tick moved %d, want 10 (even: 20/20)", got)
	}
	load := map[string]int{}
	for _, e := range c.entries {
		load[e.Backups[0]]++
	}
	if load["b"] != 20 || load["c"] != 20 {
		t.Fatalf("load %v, want even", load)
	}
}
