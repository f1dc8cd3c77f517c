package transport

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// queueRig drives a queue with a script and records every item that left
// it, to check that each leaves exactly once.
type queueRig struct {
	t     *testing.T
	q     queue
	items map[uint64]*item
	left  map[uint64]string // id → how it left
}

func newQueueRig(t *testing.T) *queueRig {
	return &queueRig{t: t, items: map[uint64]*item{}, left: map[uint64]string{}}
}

// push adds item id with n bytes; waited gives it a done channel.
func (r *queueRig) push(id uint64, n int, waited bool) {
	it := &item{id: id, buf: make([]byte, n)}
	if waited {
		it.done = make(chan error, 1)
	}
	r.items[id] = it
	r.q.push(it)
}

func (r *queueRig) leave(how string, items []*item) []uint64 {
	var ids []uint64
	for _, it := range items {
		if prev, ok := r.left[it.id]; ok {
			r.t.Fatalf("item %d left twice: %s, then %s", it.id, prev, how)
		}
		if !it.finished {
			r.t.Fatalf("item %d left (%s) without being finished", it.id, how)
		}
		r.left[it.id] = how
		ids = append(ids, it.id)
	}
	return ids
}

func ids(items []*item) []uint64 {
	var out []uint64
	for _, it := range items {
		out = append(out, it.id)
	}
	return out
}

func (r *queueRig) state() string {
	var b strings.Builder
	fmt.Fprintf(&b, "queued %v inflight %v bytes %d",
		ids(r.q.queued.items[r.q.queued.head:]), ids(r.q.inflight.items[r.q.inflight.head:]), r.q.bytes)
	return b.String()
}

// step is one operation of a queue script and the outcome it expects.
type step struct {
	op   string // push, pushw (waited), take, ack, requeue, cancel, waited, drain
	id   uint64 // push, ack, cancel: the id
	n    int    // push: bytes; take: max items
	want []uint64
	st   string // the state after the step, if set
}

func TestQueue(t *testing.T) {
	tests := []struct {
		name  string
		steps []step
	}{
		{"queued, in flight, acked", []step{
			{op: "push", id: 1, n: 10}, {op: "push", id: 2, n: 20}, {op: "push", id: 3, n: 30},
			{op: "take", n: 2, want: []uint64{1, 2}, st: "queued [3] inflight [1 2] bytes 60"},
			{op: "ack", id: 1, want: []uint64{1}, st: "queued [3] inflight [2] bytes 50"},
			{op: "take", n: 10, want: []uint64{3}},
			{op: "ack", id: 3, want: []uint64{2, 3}, st: "queued [] inflight [] bytes 0"}, // cumulative
			{op: "ack", id: 3, want: nil},                                                 // a repeated ack finishes nothing
		}},
		{"ack of an id not yet written", []step{
			{op: "push", id: 1, n: 1}, {op: "push", id: 2, n: 1},
			{op: "take", n: 1, want: []uint64{1}},
			{op: "ack", id: 2, want: []uint64{1}, st: "queued [2] inflight [] bytes 1"},
		}},
		{"requeue after a broken connection keeps order", []step{
			{op: "push", id: 1, n: 1}, {op: "push", id: 2, n: 1}, {op: "push", id: 3, n: 1}, {op: "push", id: 4, n: 1},
			{op: "take", n: 3, want: []uint64{1, 2, 3}},
			{op: "ack", id: 1, want: []uint64{1}},
			{op: "requeue", want: nil, st: "queued [2 3 4] inflight [] bytes 3"},
			{op: "take", n: 10, want: []uint64{2, 3, 4}},
			{op: "ack", id: 4, want: []uint64{2, 3, 4}, st: "queued [] inflight [] bytes 0"},
		}},
		{"a cancelled item is dropped, queued or in flight", []step{
			{op: "pushw", id: 1, n: 5}, {op: "pushw", id: 2, n: 5}, {op: "push", id: 3, n: 5},
			{op: "take", n: 1, want: []uint64{1}},
			{op: "cancel", id: 1, want: []uint64{1}}, {op: "cancel", id: 2, want: []uint64{2}},
			{op: "take", n: 10, want: []uint64{3}, st: "queued [] inflight [1 3] bytes 10"}, // 2 dropped
			{op: "requeue", want: []uint64{1}, st: "queued [3] inflight [] bytes 5"},
		}},
		{"cancel after the ack is refused", []step{
			{op: "pushw", id: 1, n: 5}, {op: "take", n: 1, want: []uint64{1}}, {op: "ack", id: 1, want: []uint64{1}},
			{op: "cancel", id: 1, want: nil},
		}},
		{"refusing peer fails waited items, keeps async", []step{
			{op: "push", id: 1, n: 1}, {op: "pushw", id: 2, n: 2}, {op: "pushw", id: 3, n: 3}, {op: "push", id: 4, n: 4},
			{op: "cancel", id: 3, want: []uint64{3}},
			{op: "waited", want: []uint64{2, 3}, st: "queued [1 4] inflight [] bytes 5"},
		}},
		{"drain fails everything, in flight first", []step{
			{op: "push", id: 1, n: 1}, {op: "push", id: 2, n: 1}, {op: "pushw", id: 3, n: 1},
			{op: "take", n: 2, want: []uint64{1, 2}},
			{op: "drain", want: []uint64{1, 2, 3}, st: "queued [] inflight [] bytes 0"},
			{op: "drain", want: nil},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newQueueRig(t)
			for i, s := range tt.steps {
				var got []uint64
				switch s.op {
				case "push", "pushw":
					r.push(s.id, s.n, s.op == "pushw")
					continue
				case "take":
					batch, drop := r.q.take(nil, nil, s.n, 1<<20)
					r.leave("dropped", drop)
					got = ids(batch)
				case "ack":
					got = r.leave("acked", r.q.ack(s.id, nil))
				case "requeue":
					got = r.leave("dropped", r.q.requeue(nil))
				case "cancel":
					if r.q.cancel(r.items[s.id]) {
						got = []uint64{s.id}
					}
				case "waited":
					failed, drop := r.q.takeWaited(nil, nil)
					got = append(r.leave("failed", failed), r.leave("dropped", drop)...)
					slices.Sort(got)
				case "drain":
					got = r.leave("failed", r.q.drain(nil))
				default:
					t.Fatalf("unknown op %q", s.op)
				}
				if !slices.Equal(got, s.want) {
					t.Fatalf("step %d %s %d: got %v, want %v (%s)", i, s.op, s.id, got, s.want, r.state())
				}
				if s.st != "" && r.state() != s.st {
					t.Fatalf("step %d %s: state %s, want %s", i, s.op, r.state(), s.st)
				}
			}
			// Bytes are accounted for exactly: what is left is what is pending.
			sum := 0
			for id, it := range r.items {
				if _, gone := r.left[id]; !gone {
					sum += len(it.buf)
				}
			}
			if r.q.bytes != sum {
				t.Fatalf("bytes %d, pending items hold %d", r.q.bytes, sum)
			}
		})
	}
}

// Many pushes, takes, acks and breaks in a row: every id leaves exactly
// once, in id order for acks, and the byte count returns to zero.
func TestQueueExactlyOnce(t *testing.T) {
	r := newQueueRig(t)
	next := uint64(1)
	var acked []uint64
	for round := range 200 {
		for range round%7 + 1 {
			r.push(next, int(next%13), next%5 == 0)
			next++
		}
		batch, drop := r.q.take(nil, nil, round%4+1, 40)
		r.leave("dropped", drop)
		if round%9 == 0 && len(batch) > 0 {
			r.q.cancel(batch[0])
		}
		switch {
		case round%11 == 10:
			r.leave("dropped", r.q.requeue(nil))
		case len(batch) > 0:
			acked = append(acked, r.leave("acked", r.q.ack(batch[len(batch)-1].id, nil))...)
		}
	}
	for r.q.pending() > 0 {
		batch, drop := r.q.take(nil, nil, 1024, 1<<20)
		r.leave("dropped", drop)
		if len(batch) > 0 {
			acked = append(acked, r.leave("acked", r.q.ack(batch[len(batch)-1].id, nil))...)
		}
	}
	if len(r.left) != int(next-1) || r.q.bytes != 0 {
		t.Fatalf("%d of %d items left, %d bytes held", len(r.left), next-1, r.q.bytes)
	}
	if !slices.IsSorted(acked) {
		t.Fatal("acks finished items out of order")
	}
}

func TestQueuePushNeedsIncreasingIDs(t *testing.T) {
	var q queue
	q.push(&item{id: 5})
	defer func() {
		if recover() == nil {
			t.Fatal("a repeated id was accepted")
		}
	}()
	q.push(&item{id: 5})
}
