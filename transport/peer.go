package transport

import (
	"context"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
)

// peer is one destination of a Sender: its queue and dial policy (pure,
// guarded by mu) and the writer goroutine (writer.go), which owns the
// connection: only the writer dials and retires it, and writes hold the
// write token (peer.writing). Send pushes to the queue and wakes an idle
// writer, or, when the writer is idle and nothing else is queued, takes
// the token and writes its own frame. The connection's ack reader applies
// acks to the queue and, when the connection fails, marks it lost and
// wakes the writer, which requeues what was in flight and reconnects. The
// receiver recognises re-sent messages by id: none is handled twice.
type peer struct {
	s      *Sender
	addr   string
	log    zerolog.Logger
	ctx    context.Context // ends at close
	cancel context.CancelFunc
	wake   chan struct{} // wakes the writer (capacity 1)
	arena  arena         // frame buffers of queued items

	// Scratch of the write token's holder.
	trimTimer   *time.Timer // idle timer for arena trimming
	lingerTimer *time.Timer // the writer's batching wait
	batch       []*item
	drop        []*item
	iov         net.Buffers
	scratch     []byte

	mu        sync.Mutex // guards the fields below
	q         queue
	dial      dialPolicy
	free      []*item       // recycled async items, at most maxFreeItems
	space     chan struct{} // closed when bytes drop; nil if nobody waits
	cur       *pconn        // current connection, nil when down
	idle      bool          // the writer waits for work: wake it
	writing   bool          // the write token: its holder dials, writes or retires
	lingering bool          // the writer waits to batch async messages (see linger)
	lastWrite time.Time     // when the last batch was taken to be written
	closed    bool
	closeErr  error
	connected bool // has ever connected

	sent, acked, failed, reconnects atomic.Uint64
	sentBytes                       atomic.Uint64 // frame bytes of successful writes (direct ones included)
}

// enqueue appends the item v to the queue, waiting for space until the
// timeout or ctx. The item is stored in w (a waited-for item, whose done
// channel is kept) or, when w is nil, in one from the peer's free list.
func (p *peer) enqueue(ctx context.Context, v item, w *item) (*item, error) {
	var timer *time.Timer
	p.mu.Lock()
	for !p.closed && p.q.bytes > 0 && p.q.bytes+len(v.buf) > p.s.cfg.MaxQueueBytes {
		if p.space == nil {
			p.space = make(chan struct{})
		}
		ch := p.space
		p.mu.Unlock()
		if timer == nil {
			timer = time.NewTimer(p.s.cfg.Timeout)
			defer timer.Stop()
		}
		select {
		case <-ch:
		case <-timer.C:
			return w, ErrQueueFull
		case <-ctx.Done():
			return w, fmt.Errorf("%w: %w", ErrQueueFull, ctx.Err())
		}
		p.mu.Lock()
	}
	if p.closed {
		err := p.closeErr
		p.mu.Unlock()
		return w, err
	}
	it := w
	if it == nil {
		if len(p.free) == 0 {
			slab := make([]item, itemSlab) // one allocation for many items
			for i := range slab {
				p.free = append(p.free, &slab[i])
			}
		}
		it = p.free[len(p.free)-1]
		p.free = p.free[:len(p.free)-1]
	}
	v.done = it.done
	*it = v
	p.s.setID(it, p.s.nextID.Add(1)) // under p.mu: ids increase in queue order
	p.q.push(it)
	var direct *pconn
	wake := false
	switch c := p.cur; {
	case p.idle && !p.writing && c != nil && c.lost == nil && p.q.queued.len() == 1 &&
		(w != nil || p.q.bytes == len(it.buf) && len(it.buf) <= maxDirectAsync &&
			time.Since(p.lastWrite) >= linger):
		// Nothing else to send: write the frame from this goroutine,
		// saving the hand-off to the writer (a wake-up that can cost more
		// than the write on a busy machine; bench replication shows it in
		// the latency). A waited-for send waits anyway; an async one only
		// when nothing is unacknowledged, so the socket buffer is empty
		// and a small frame's write cannot block, and not right after a
		// write: frames of a burst go to the writer, to share a writev.
		p.writing, direct = true, c
	case p.idle:
		p.idle, wake = false, true
	case w != nil && p.lingering:
		wake = true // a waited-for send ends the writer's batching wait
	}
	if w != nil && p.cur == nil && p.dial.refusing() {
		// The peer refuses connections: a waited-for send dials at once
		// instead of after the back-off, so it fails (or gets through) fast.
		p.dial.dialNow()
		wake = true // the writer may be sleeping in the back-off
	}
	p.mu.Unlock()
	if direct != nil {
		p.write(direct)
		p.endWrite(true)
	}
	if wake {
		p.signal()
	}
	return it, nil
}

// endWrite gives the write token back. A direct writer (a Send) wakes an
// idle writer for what came meanwhile or a connection lost meanwhile.
func (p *peer) endWrite(direct bool) {
	p.mu.Lock()
	p.writing = false
	wake := direct && p.idle && (p.q.queued.len() > 0 || p.cur != nil && p.cur.lost != nil)
	if wake {
		p.idle = false
	}
	p.mu.Unlock()
	if wake {
		p.signal()
	}
}

// wait blocks until it is acknowledged, fails, or the deadline or ctx ends.
func (p *peer) wait(ctx context.Context, it *item) error {
	timer := time.NewTimer(p.s.cfg.Timeout)
	defer timer.Stop()
	var err error
	select {
	case err = <-it.done:
		p.s.putItem(it)
		return err
	case <-timer.C:
		err = ErrTimeout
	case <-ctx.Done():
		err = ctx.Err()
	}
	p.mu.Lock()
	if !p.q.cancel(it) { // finished meanwhile: its result is on the way
		p.mu.Unlock()
		err = <-it.done
		p.s.putItem(it)
		return err
	}
	p.mu.Unlock()
	p.failed.Add(1)
	return fmt.Errorf("send to %s: message %d: %w", p.addr, it.id, err)
}

func (p *peer) signal() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// giveUp fails items after the peer stayed unreachable.
func (p *peer) giveUp(items []*item, err error) {
	if len(items) == 0 {
		return
	}
	p.log.Error().Err(err).Int("messages", len(items)).Msg("peer unreachable, messages failed")
	p.report(items, fmt.Errorf("%w: %s: %w", ErrUnreachable, p.addr, err))
}

// release lets the arena reuse the chunks of items that were never
// written, and clears the scratch list.
func (p *peer) release(items []*item) {
	for _, it := range items {
		p.arena.release(it.ck)
	}
	clear(items)
}

// freeSpace wakes callers waiting for queue space; p.mu is held.
func (p *peer) freeSpace() {
	if p.space != nil {
		close(p.space)
		p.space = nil
	}
}

// report fails items: waiters get err, async items go to OnError.
func (p *peer) report(items []*item, err error) {
	for _, it := range items {
		if it.waited() {
			if !it.cancelled {
				p.failed.Add(1)
			}
			it.done <- err
			continue
		}
		p.failed.Add(1)
		if p.s.cfg.OnError != nil {
			p.s.cfg.OnError(p.addr, p.s.message(it), err)
		}
	}
}

// close fails everything pending with err and stops the writer (closing
// the connection ends a write in progress).
func (p *peer) close(err error) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed, p.closeErr = true, err
	p.arena.close()
	items := p.q.drain(nil)
	p.freeSpace()
	c := p.cur
	p.cur = nil
	p.mu.Unlock()
	p.cancel()
	if c != nil {
		c.nc.Close()
	}
	if len(items) > 0 {
		p.log.Info().Err(err).Int("messages", len(items)).Msg("peer closed with messages pending")
	}
	p.report(items, fmt.Errorf("send to %s: %w", p.addr, err))
}

func (p *peer) stats() PeerStats {
	p.mu.Lock()
	st := PeerStats{
		Addr:           p.addr,
		Connected:      p.cur != nil && p.cur.lost == nil,
		QueuedBytes:    p.q.bytes,
		QueuedMessages: p.q.pending(),
	}
	p.mu.Unlock()
	st.Sent = p.sent.Load()
	st.SentBytes = p.sentBytes.Load()
	st.Acked = p.acked.Load()
	st.Failed = p.failed.Load()
	st.Reconnects = p.reconnects.Load()
	return st
}
