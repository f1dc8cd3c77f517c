package transport

// item is one message on its way to a peer.
type item struct {
	id        uint64
	typ       frameType
	ch        Channel
	opts      int
	buf       []byte     // the frame, or the envelope when sealing
	ck        *chunk     // the arena chunk buf was cut from; nil if its own
	off       int        // offset of buf in ck.data
	done      chan error // nil for async items
	finished  bool       // left the queue: acknowledged, failed or dropped
	cancelled bool       // the waiter gave up
}

// waited reports whether a caller waits for the item's result.
func (it *item) waited() bool { return it.done != nil }

// queue is the pure bookkeeping of a peer's messages: no lock, clock or
// I/O (the peer guards it with peer.mu). An item moves queued → in flight
// (taken to be written, not yet acknowledged) → finished, leaving the
// queue exactly once, through retire: acknowledged (ack), failed (drain,
// takeWaited) or dropped because its waiter gave up (take, requeue,
// takeWaited). Ids increase in queue order; an ack for id finishes every
// item in flight up to id (acks are cumulative). After a broken
// connection, requeue puts the items in flight back in front, to be
// written again in the same order.
type queue struct {
	queued   fifo
	inflight fifo
	bytes    int    // bytes of the items queued and in flight
	lastID   uint64 // id of the last item pushed
}

// push appends it, whose id must be above every earlier one's.
func (q *queue) push(it *item) {
	if it.id <= q.lastID {
		panic("transport: queue ids must increase")
	}
	q.lastID = it.id
	q.queued.push(it)
	q.bytes += len(it.buf)
}

// pending is the number of items queued or in flight.
func (q *queue) pending() int { return q.queued.len() + q.inflight.len() }

// retire takes it out of the byte count and marks it finished: the one
// place an item leaves the queue.
func (q *queue) retire(it *item) {
	q.bytes -= len(it.buf)
	it.finished = true
}

// take moves queued items to in flight, up to maxItems items and about
// maxBytes bytes (at least one item), appending them to batch. Cancelled
// items are retired and appended to drop instead.
func (q *queue) take(batch, drop []*item, maxItems, maxBytes int) ([]*item, []*item) {
	size := 0
	for q.queued.len() > 0 && len(batch) < maxItems && size < maxBytes {
		it := q.queued.pop()
		if it.cancelled {
			q.retire(it)
			drop = append(drop, it)
			continue
		}
		q.inflight.push(it)
		batch = append(batch, it)
		size += len(it.buf)
	}
	return batch, drop
}

// ack retires the items in flight with an id up to id, in order, and
// appends them to done. Ids not in flight (already finished, or never
// written) finish nothing.
func (q *queue) ack(id uint64, done []*item) []*item {
	for q.inflight.len() > 0 && q.inflight.front().id <= id {
		it := q.inflight.pop()
		q.retire(it)
		done = append(done, it)
	}
	return done
}

// requeue puts the items in flight back in front of the queued ones, in
// id order, after their connection broke. Cancelled ones are retired and
// appended to drop.
func (q *queue) requeue(drop []*item) []*item {
	if q.inflight.len() == 0 {
		return drop
	}
	all := make([]*item, 0, q.pending())
	for q.inflight.len() > 0 {
		it := q.inflight.pop()
		if it.cancelled {
			q.retire(it)
			drop = append(drop, it)
			continue
		}
		all = append(all, it)
	}
	for q.queued.len() > 0 {
		all = append(all, q.queued.pop())
	}
	q.queued = fifo{items: all}
	return drop
}

// takeWaited retires the queued items a caller waits for, appending them
// to failed (or to drop if cancelled), and keeps the async ones queued.
// Call it only with nothing in flight (no connection).
func (q *queue) takeWaited(failed, drop []*item) ([]*item, []*item) {
	if q.inflight.len() > 0 {
		panic("transport: takeWaited with items in flight")
	}
	keep := make([]*item, 0, q.queued.len())
	for q.queued.len() > 0 {
		it := q.queued.pop()
		switch {
		case !it.waited():
			keep = append(keep, it)
			continue
		case it.cancelled:
			drop = append(drop, it)
		default:
			failed = append(failed, it)
		}
		q.retire(it)
	}
	q.queued = fifo{items: keep}
	return failed, drop
}

// drain retires every item, in flight first, appending them to failed.
func (q *queue) drain(failed []*item) []*item {
	for _, f := range []*fifo{&q.inflight, &q.queued} {
		for f.len() > 0 {
			it := f.pop()
			q.retire(it)
			failed = append(failed, it)
		}
	}
	return failed
}

// cancel marks it as given up by its waiter; it is dropped when next
// taken or requeued. It returns false if it already finished (its result
// is, or is about to be, in it.done).
func (q *queue) cancel(it *item) bool {
	if it.finished {
		return false
	}
	it.cancelled = true
	return true
}

// hasWaited reports whether a queued item has a waiter.
func (q *queue) hasWaited() bool {
	for _, it := range q.queued.items[q.queued.head:] {
		if it.waited() {
			return true
		}
	}
	return false
}

// fifo is a queue of items.
type fifo struct {
	items []*item
	head  int
}

func (f *fifo) len() int      { return len(f.items) - f.head }
func (f *fifo) front() *item  { return f.items[f.head] }
func (f *fifo) push(it *item) { f.items = append(f.items, it) }

func (f *fifo) pop() *item {
	it := f.items[f.head]
	f.items[f.head] = nil
	f.head++
	switch {
	case f.head == len(f.items):
		f.items, f.head = f.items[:0], 0
	case f.head >= 1024 && f.head*2 >= len(f.items):
		n := copy(f.items, f.items[f.head:])
		clear(f.items[n:])
		f.items, f.head = f.items[:n], 0
	}
	return it
}
