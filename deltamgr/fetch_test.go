package deltamgr

import (
	"testing"
	"time"
)

// The asking side of the state transfer, step by step, with no clock,
// goroutine or network: each case feeds fetch a list of inputs and checks
// what it decided.
func TestFetchTable(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	type step struct {
		do   string // next, chunk, complete, nocontext, left, tick
		from string
		id   uint64
		n    int // chunk: sessions; complete: count
		seq  int
		at   time.Duration
		// want
		target string // next: the senior asked ("" none)
		end    end    // next: why nobody
		ended  bool   // the input ended the round
		res    result // the round's result after the step
	}
	seniors := []string{"a", "b", "c"}
	cases := []struct {
		name       string
		total, per time.Duration
		steps      []step
	}{
		{"complete from the oldest", time.Minute, 10 * time.Second, []step{
			{do: "next", id: 1, target: "a"},
			{do: "chunk", from: "a", id: 1, n: 1000, at: time.Second},
			{do: "chunk", from: "a", id: 1, n: 500, at: 2 * time.Second},
			{do: "complete", from: "a", id: 1, n: 1500, seq: 2, ended: true, res: resultComplete},
		}},
		{"count or chunk mismatch is incomplete, then the next senior", time.Minute, 0, []step{
			{do: "next", id: 1, target: "a"},
			{do: "chunk", from: "a", id: 1, n: 2},
			{do: "complete", from: "a", id: 1, n: 3, seq: 1, ended: true, res: resultIncomplete},
			{do: "next", id: 2, target: "b"},
			{do: "chunk", from: "b", id: 2, n: 3},
			{do: "complete", from: "b", id: 2, n: 3, seq: 2, ended: true, res: resultIncomplete},
		}},
		{"stale replies are refused", time.Minute, 0, []step{
			{do: "next", id: 1, target: "a"},
			{do: "left", from: "a", ended: true, res: resultGone},
			{do: "next", id: 2, target: "b"},
			{do: "chunk", from: "a", id: 1, n: 5, res: resultPending},    // the old round
			{do: "chunk", from: "c", id: 2, n: 5, res: resultPending},    // not the target
			{do: "complete", from: "b", id: 1, n: 0, res: resultPending}, // wrong id
			{do: "left", from: "c", res: resultPending},                  // not the target
			{do: "complete", from: "b", id: 2, n: 0, ended: true, res: resultComplete},
			{do: "complete", from: "b", id: 2, n: 0, res: resultComplete}, // already ended
		}},
		{"a silent senior costs its own timeout, not the total", time.Minute, 10 * time.Second, []step{
			{do: "next", id: 1, target: "a"},
			{do: "tick", at: 9 * time.Second, res: resultPending},
			{do: "tick", at: 10 * time.Second, ended: true, res: resultSilent},
			{do: "next", id: 2, target: "b", at: 10 * time.Second},
			{do: "chunk", from: "b", id: 2, n: 1, at: 19 * time.Second},
			{do: "tick", at: 25 * time.Second, res: resultPending}, // the chunk reset b's timer
			{do: "tick", at: 29 * time.Second, ended: true, res: resultSilent},
		}},
		{"the total ends the round even while the senior talks", 15 * time.Second, 10 * time.Second, []step{
			{do: "next", id: 1, target: "a"},
			{do: "chunk", from: "a", id: 1, n: 1, at: 9 * time.Second},
			{do: "tick", at: 15 * time.Second, ended: true, res: resultTimeout},
		}},
		{"forever and no per-senior limit never time out", -1, 0, []step{
			{do: "next", id: 1, target: "a"},
			{do: "tick", at: 1000 * time.Hour, res: resultPending},
		}},
		{"every senior without the context: a new context", time.Minute, 0, []step{
			{do: "next", id: 1, target: "a"},
			{do: "nocontext", from: "a", id: 1, ended: true, res: resultNoContext},
			{do: "next", id: 2, target: "b"},
			{do: "nocontext", from: "b", id: 2, ended: true, res: resultNoContext},
			{do: "next", id: 3, target: "c"},
			{do: "nocontext", from: "c", id: 3, ended: true, res: resultNoContext},
			{do: "next", id: 4, end: endNoContext},
		}},
		{"one senior failed: no senior left", time.Minute, 0, []step{
			{do: "next", id: 1, target: "a"},
			{do: "nocontext", from: "a", id: 1, ended: true, res: resultNoContext},
			{do: "next", id: 2, target: "b"},
			{do: "left", from: "b", ended: true, res: resultGone},
			{do: "next", id: 3, target: "c"},
			{do: "left", from: "c", ended: true, res: resultGone},
			{do: "next", id: 4, end: endNoSenior},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFetch(tc.total, tc.per, t0)
			var r *round
			for i, s := range tc.steps {
				now := at(s.at)
				ended := false
				switch s.do {
				case "next":
					var why end
					r, why = f.next(seniors, s.id, now)
					got := ""
					if r != nil {
						got = r.target
					}
					if got != s.target || why != s.end {
						t.Fatalf("step %d: next = %q, %v; want %q, %v", i, got, why, s.target, s.end)
					}
					continue
				case "chunk":
					if x := f.open(s.from, s.id); x != nil {
						f.chunk(x, s.n, 1, now)
					}
				case "complete":
					ended = f.complete(s.from, s.id, s.n, s.seq, 1)
				case "nocontext":
					ended = f.finish(f.open(s.from, s.id), resultNoContext)
				case "left":
					ended = f.left(s.from)
				case "tick":
					ended = f.tick(now)
				}
				if ended != s.ended || r.result != s.res {
					t.Fatalf("step %d (%s): ended %v result %v; want %v %v", i, s.do, ended, r.result, s.ended, s.res)
				}
			}
		})
	}
}

// The shell's timer follows fetch's earliest deadline.
func TestFetchDeadline(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f := newFetch(time.Minute, 10*time.Second, t0)
	if d := f.deadline(); !d.Equal(t0.Add(time.Minute)) {
		t.Fatalf("before a round: %v", d)
	}
	r, _ := f.next([]string{"a"}, 1, t0.Add(55*time.Second))
	if d := f.deadline(); !d.Equal(t0.Add(time.Minute)) {
		t.Fatalf("total first: %v", d)
	}
	f = newFetch(-1, 10*time.Second, t0)
	r, _ = f.next([]string{"a"}, 1, t0)
	f.chunk(r, 1, 1, t0.Add(3*time.Second))
	if d := f.deadline(); !d.Equal(t0.Add(13 * time.Second)) {
		t.Fatalf("per senior after a chunk: %v", d)
	}
	f.finish(r, resultComplete)
	if d := f.deadline(); !d.IsZero() {
		t.Fatalf("after the round, forever: %v", d)
	}
}

// The queued messages a received state already contains are dropped.
func TestStaleQueued(t *testing.T) {
	for _, tc := range []struct {
		drop      bool
		snapT, ts int64
		want      bool
	}{
		{true, 100, 99, true},
		{true, 100, 100, false}, // same millisecond: kept (applying twice is harmless)
		{true, 100, 101, false},
		{true, 0, 5, false}, // no state received: keep everything
		{false, 100, 99, false},
	} {
		if got := stale(tc.drop, tc.snapT, tc.ts); got != tc.want {
			t.Errorf("stale(%v, %d, %d) = %v, want %v", tc.drop, tc.snapT, tc.ts, got, tc.want)
		}
	}
}
