package transport

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/rs/zerolog"
)

// peer is one destination of a Sender: a FIFO of items, the connection,
// and the writer goroutine (run) that drains the FIFO into it. Items move
// queue → inflight (written, awaiting the peer's ack) → finished. When a
// connection breaks, inflight items go back to the front of the queue
// and are written again on the next connection; the receiver recognises
// those it already handled by id, so nothing is handled twice.
type peer struct {
	s      *Sender
	addr   string
	log    zerolog.Logger
	ctx    context.Context // ends at close
	cancel context.CancelFunc
	wake   chan struct{} // wakes the writer (capacity 1)
	arena  arena         // frame buffers of queued items

	trimTimer   *time.Timer // the writer's idle timer for arena trimming
	lingerTimer *time.Timer // the writer's batching wait

	// Scratch of the write token's holder.
	batch   []*item
	iov     net.Buffers
	scratch []byte

	mu        sync.Mutex // guards the fields below
	queue     fifo
	inflight  fifo
	free      []*item       // recycled async items, at most maxFreeItems
	bytes     int           // bytes of queue + inflight
	space     chan struct{} // closed when bytes drop; nil if nobody waits
	cur       *pconn        // current connection, nil when down
	idle      bool          // the writer is waiting for work
	writing   bool          // the write token: someone connects or writes
	closed    bool
	closeErr  error
	failures  int       // failed dials or connections since the last ack
	refusals  int       // dials actively refused in a row (see refusedGrace)
	downSince time.Time // first failure of the current outage; zero when up
	nextDial  time.Time
	connected bool      // has ever connected
	lastWrite time.Time // when the last batch was taken to be written
	lingering bool      // the writer waits to batch async messages

	queued                          atomic.Int64 // len(queue), read by the writer without the lock
	sent, acked, failed, reconnects atomic.Uint64
}

// pconn is one connection to the peer.
type pconn struct {
	nc      net.Conn
	out, in *connSeal // sealed: frames out and acks in, bound to this connection
}

// enqueue appends the item v to the queue, waiting for space until the
// timeout or ctx. The item is stored in w (a waited-for item, whose done
// channel is kept) or, when w is nil, in one from the peer's free list.
func (p *peer) enqueue(ctx context.Context, v item, w *item) (*item, error) {
	var timer *time.Timer
	p.mu.Lock()
	for !p.closed && p.bytes > 0 && p.bytes+len(v.buf) > p.s.cfg.MaxQueueBytes {
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
	p.queue.push(it)
	p.queued.Store(int64(p.queue.len()))
	p.bytes += len(it.buf)
	var direct *pconn
	wake := false
	// The peer refuses connections: a waited-for send dials at once
	// instead of after the back-off, so it fails (or gets through) fast.
	dialNow := w != nil && p.cur == nil && p.refusals >= refusedGrace
	if dialNow {
		p.nextDial = time.Time{}
	}
	switch {
	case p.idle && !p.writing && p.cur != nil && p.queue.len() == 1 &&
		(w != nil || p.bytes == len(it.buf) && len(it.buf) <= maxDirectAsync &&
			time.Since(p.lastWrite) >= linger):
		// Nothing else to send: write the frame from this goroutine,
		// saving the hand-off to the writer (a wake-up that can cost more
		// than the write on a busy machine). A waited-for send waits
		// anyway; an async one only when the peer acknowledged everything
		// before it, so its socket buffer is empty and a small frame's
		// write cannot block.
		p.writing, direct = true, p.cur
	case p.idle && !p.writing:
		p.idle, wake = false, true
	case dialNow, w != nil && p.lingering:
		wake = true // the writer may be sleeping in a dial back-off or lingering
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

// endWrite gives the write token back. A direct writer (not the writer
// goroutine) wakes the writer for what was queued meanwhile.
func (p *peer) endWrite(direct bool) {
	p.mu.Lock()
	p.writing = false
	wake := direct && p.idle && p.queue.len() > 0
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
	if it.finished {
		p.mu.Unlock()
		err = <-it.done
		p.s.putItem(it)
		return err
	}
	it.cancelled = true // the writer skips it if not yet written
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

// run is the writer goroutine; it ends when the peer is closed. It
// holds the write token (peer.writing) while it connects and writes.
func (p *peer) run() {
	defer func() {
		if p.trimTimer != nil {
			p.trimTimer.Stop()
		}
	}()
	for {
		c, ok := p.waitWork()
		if !ok {
			return
		}
		if c == nil {
			c = p.connect()
		} else {
			p.linger()
		}
		if c != nil {
			p.write(c)
		}
		p.endWrite(false)
	}
}

// write sends one batch from the queue on c with one writev: runs of
// frames adjacent in the arena are one iovec, and nothing is copied
// (sealed frames are sealed into one scratch buffer). The caller holds
// the write token, which guards the scratch fields.
func (p *peer) write(c *pconn) {
	batch := p.take(c, p.batch[:0])
	p.batch = batch
	if len(batch) == 0 {
		return
	}
	iov := p.iov[:0]
	if c.out == nil {
		iov = gather(iov, batch)
	} else {
		scratch := p.scratch[:0]
		for _, it := range batch {
			start := len(scratch)
			scratch = beginFrame(scratch)
			scratch = c.out.seal(scratch, it.buf)
			scratch = endFrame(scratch, start)
		}
		iov = append(iov, scratch)
		p.scratch = scratch
		if cap(scratch) > maxScratch {
			p.scratch = nil
		}
	}
	c.nc.SetWriteDeadline(time.Now().Add(p.s.cfg.Timeout))
	wv := iov // WriteTo consumes its receiver
	_, err := wv.WriteTo(c.nc)
	clear(iov)
	p.iov = iov[:0]
	clear(batch)
	if err != nil {
		p.broken(c, err)
		return
	}
	p.sent.Add(uint64(len(batch)))
}

// gather appends the frames of batch to iov, one iovec per run of
// frames that are adjacent in an arena chunk.
func gather(iov net.Buffers, batch []*item) net.Buffers {
	var run *chunk // chunk of the open run, nil if none
	var start, end int
	for _, it := range batch {
		if it.ck != nil && it.ck == run && it.off == end {
			end += len(it.buf)
			continue
		}
		if run != nil {
			iov = append(iov, run.data[start:end])
		}
		if it.ck == nil {
			iov = append(iov, it.buf)
			run = nil
			continue
		}
		run, start, end = it.ck, it.off, it.off+len(it.buf)
	}
	if run != nil {
		iov = append(iov, run.data[start:end])
	}
	return iov
}

// linger waits, before writing async messages that came soon after the
// previous write, until linger has passed since it, so that those
// arriving meanwhile go in the same write. A waited-for send, queued
// already or meanwhile, ends it, as does a long queue.
func (p *peer) linger() {
	p.mu.Lock()
	d := linger - time.Since(p.lastWrite)
	if d <= 0 || p.queue.len() > lingerMax {
		p.mu.Unlock()
		return
	}
	for _, it := range p.queue.items[p.queue.head:] {
		if it.done != nil {
			p.mu.Unlock()
			return
		}
	}
	p.lingering = true
	p.mu.Unlock()
	if p.lingerTimer == nil {
		p.lingerTimer = time.NewTimer(d)
	} else {
		p.lingerTimer.Reset(d)
	}
	select {
	case <-p.lingerTimer.C:
	case <-p.wake:
		p.lingerTimer.Stop()
	case <-p.ctx.Done():
	}
	p.mu.Lock()
	p.lingering = false
	p.mu.Unlock()
}

// waitWork blocks until the queue has items; it returns the current
// connection (nil when down) and false once the peer is closed.
func (p *peer) waitWork() (*pconn, bool) {
	var trim <-chan time.Time // set while idle chunks wait to be trimmed
	for {
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			return nil, false
		}
		if p.queue.len() > 0 && !p.writing {
			p.writing = true
			c := p.cur
			p.mu.Unlock()
			return c, true
		}
		p.idle = true // a direct writer wakes us when it is done
		p.mu.Unlock()
		if trim == nil && p.arena.spare() > 0 {
			if p.trimTimer == nil {
				p.trimTimer = time.NewTimer(arenaIdle)
			} else {
				p.trimTimer.Reset(arenaIdle)
			}
			trim = p.trimTimer.C
		}
		select {
		case <-p.wake:
		case <-p.ctx.Done():
		case <-trim:
			p.arena.trim() // idle for a while: give the spare chunks back
			trim = nil
		}
	}
}

// take moves up to maxBatch items from the queue to inflight, dropping
// those whose waiter gave up; nothing if c is no longer current.
func (p *peer) take(c *pconn, batch []*item) []*item {
	var drop []*item
	p.mu.Lock()
	if p.cur != c {
		p.mu.Unlock()
		return batch
	}
	size := 0
	p.lastWrite = time.Now()
	for p.queue.len() > 0 && len(batch) < maxBatch && size < maxBatchBytes {
		it := p.queue.pop()
		if it.cancelled {
			p.bytes -= len(it.buf)
			drop = append(drop, it)
			continue
		}
		p.inflight.push(it)
		batch = append(batch, it)
		size += len(it.buf)
	}
	p.queued.Store(int64(p.queue.len()))
	if len(drop) > 0 {
		p.freeSpace()
	}
	p.mu.Unlock()
	for _, it := range drop {
		p.arena.release(it.ck) // never written: the chunk may be reused
	}
	return batch
}

// connect dials the peer (after the back-off of earlier failures) and
// sends the hello. After Timeout of failing, every pending message fails
// with ErrUnreachable; once refusedGrace dials in a row were actively
// refused, waited-for messages fail with ErrUnreachable at once (async
// ones keep waiting for the peer until Timeout). Returns nil when not
// connected.
func (p *peer) connect() *pconn {
	for {
		p.mu.Lock()
		wait := time.Until(p.nextDial)
		p.mu.Unlock()
		if wait <= 0 {
			break
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-p.wake: // a waited-for send may want a dial now
			t.Stop()
		case <-p.ctx.Done():
			t.Stop()
			return nil
		}
	}
	c, err := p.dial()
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		if c != nil {
			c.nc.Close()
		}
		return nil
	}
	if err != nil {
		failed := p.failedLocked()
		first := p.failures == 1
		var waited []*item // failed at once: the peer refuses connections
		refusing := false  // just reached refusedGrace: log it once
		if refused(err) {
			p.refusals++
			refusing = p.refusals == refusedGrace
			if failed == nil && p.refusals >= refusedGrace {
				waited = p.takeWaitedLocked()
			}
		} else {
			p.refusals = 0
		}
		p.mu.Unlock()
		if first {
			p.log.Warn().Err(err).Msg("cannot connect to peer, retrying")
		}
		p.giveUp(failed, err)
		if refusing {
			p.log.Warn().Err(err).Msg("peer refuses connections; sends waiting for it fail at once")
		}
		if len(waited) > 0 {
			p.log.Debug().Err(err).Int("messages", len(waited)).Msg("waiting sends failed: peer refuses connections")
			p.report(waited, fmt.Errorf("%w: %s: %w", ErrUnreachable, p.addr, err))
		}
		return nil
	}
	if p.connected {
		p.reconnects.Add(1)
	}
	p.connected = true
	p.refusals = 0
	p.cur = c
	p.mu.Unlock()
	p.s.wg.Go(func() { p.readAcks(c) })
	return c
}

// dial opens a connection and writes the hello frame.
func (p *peer) dial() (*pconn, error) {
	cfg := &p.s.cfg
	d := net.Dialer{Timeout: cfg.Timeout}
	nc, err := d.DialContext(p.ctx, "tcp", p.addr)
	if err != nil {
		return nil, err
	}
	c := &pconn{nc: nc}
	e := envelope{typ: typeHello, payload: appendHello(nil, hello{peer: cfg.Self, epoch: p.s.epoch})}
	frame := beginFrame(nil)
	if sl := p.s.sealers; sl != nil {
		g, err := sl.readGreeting(nc, cfg.Timeout)
		if err != nil {
			nc.Close()
			return nil, err
		}
		frame = newConnSeal(sl, dirHello, g, [16]byte{}, 0).seal(frame, appendEnvelope(nil, &e))
		c.out = newConnSeal(sl, dirSender, g, cfg.Self.UniqueID, p.s.epoch)
		c.in = newConnSeal(sl, dirReceiver, g, cfg.Self.UniqueID, p.s.epoch)
	} else {
		frame = appendEnvelope(frame, &e)
	}
	frame = endFrame(frame, 0)
	nc.SetWriteDeadline(time.Now().Add(cfg.Timeout))
	if _, err := nc.Write(frame); err != nil {
		nc.Close()
		return nil, err
	}
	return c, nil
}

// failedLocked records a failed dial or connection: the next dial backs
// off, and once the outage has lasted Timeout every pending item is
// taken out to fail. p.mu is held.
func (p *peer) failedLocked() []*item {
	now := time.Now()
	p.failures++
	if p.downSince.IsZero() {
		p.downSince = now
	}
	p.nextDial = now.Add(backoff(p.failures))
	if now.Sub(p.downSince) >= p.s.cfg.Timeout {
		return p.drainLocked()
	}
	return nil
}

// giveUp fails items after the peer stayed unreachable.
func (p *peer) giveUp(items []*item, err error) {
	if len(items) == 0 {
		return
	}
	p.log.Error().Err(err).Int("messages", len(items)).Msg("peer unreachable, messages failed")
	p.report(items, fmt.Errorf("%w: %s: %w", ErrUnreachable, p.addr, err))
}

// broken retires c after an error: unacknowledged items go back to the
// front of the queue, and the writer reconnects.
func (p *peer) broken(c *pconn, err error) {
	p.mu.Lock()
	if p.cur != c {
		p.mu.Unlock()
		return
	}
	p.cur = nil
	var drop []*item
	q := make([]*item, 0, p.inflight.len()+p.queue.len())
	for p.inflight.len() > 0 {
		it := p.inflight.pop()
		if it.cancelled {
			p.bytes -= len(it.buf)
			drop = append(drop, it)
			continue
		}
		q = append(q, it)
	}
	for p.queue.len() > 0 {
		q = append(q, p.queue.pop())
	}
	p.queue = fifo{items: q}
	p.queued.Store(int64(len(q)))
	if len(drop) > 0 {
		p.freeSpace()
	}
	failed := p.failedLocked()
	first := p.failures == 1
	p.mu.Unlock()
	c.nc.Close()
	if first {
		p.log.Warn().Err(err).Msg("connection to peer lost, reconnecting")
	}
	p.giveUp(failed, err)
	p.signal()
}

// readAcks reads the peer's acks on c until c closes.
func (p *peer) readAcks(c *pconn) {
	br := bufio.NewReaderSize(c.nc, ackReadSize)
	var buf, plain []byte
	for {
		var err error
		buf, err = readFrame(br, buf, p.s.cfg.MaxFrameSize, nil)
		if err != nil {
			p.broken(c, err)
			return
		}
		body := buf
		if c.in != nil {
			if plain, err = c.in.open(plain[:0], buf); err != nil {
				p.broken(c, &ProtocolError{Remote: p.addr, Reason: "ack does not open with the cluster key", Err: err})
				return
			}
			body = plain
		}
		e, err := decodeEnvelope(body)
		if err == nil && e.typ != typeAck && e.typ != typeFailAck {
			err = &ProtocolError{Remote: p.addr, Reason: "unexpected frame type from receiver"}
		}
		if err != nil {
			p.broken(c, err)
			return
		}
		p.confirm(c, e)
	}
}

// confirm finishes every inflight item up to the acked id.
func (p *peer) confirm(c *pconn, e envelope) {
	n := 0
	p.mu.Lock()
	if p.cur != c {
		p.mu.Unlock()
		return
	}
	if p.failures > 0 {
		// The peer accepted this connection: the outage is over.
		p.failures, p.downSince, p.nextDial = 0, time.Time{}, time.Time{}
		p.log.Info().Msg("connected to peer")
	}
	var ck *chunk // chunk references are released in runs
	refs := int32(0)
	for p.inflight.len() > 0 && p.inflight.front().id <= e.id {
		it := p.inflight.pop()
		n++
		p.bytes -= len(it.buf)
		it.finished = true
		if it.ck != ck { // acknowledged, so written in full: reusable
			p.arena.releaseN(ck, refs)
			ck, refs = it.ck, 0
		}
		refs++
		if it.done != nil {
			var err error
			if it.id == e.id && e.typ == typeFailAck {
				err = &RemoteError{Peer: p.addr, ID: it.id, Text: string(e.payload)}
			}
			it.done <- err
		} else if len(p.free) < maxFreeItems {
			*it = item{}
			p.free = append(p.free, it)
		}
	}
	p.arena.releaseN(ck, refs)
	p.freeSpace()
	p.mu.Unlock()
	p.acked.Add(uint64(n))
}

// freeSpace wakes callers waiting for queue space; p.mu is held.
func (p *peer) freeSpace() {
	if p.space != nil {
		close(p.space)
		p.space = nil
	}
}

// takeWaitedLocked removes the pending items a caller waits for (sync and
// ack sends) and marks them finished, leaving async ones queued; p.mu is
// held and the peer has no connection (so nothing is inflight). The
// caller reports them outside the lock.
func (p *peer) takeWaitedLocked() []*item {
	var out, drop []*item
	keep := make([]*item, 0, p.queue.len())
	for p.queue.len() > 0 {
		it := p.queue.pop()
		switch {
		case it.done == nil:
			keep = append(keep, it)
		case it.cancelled: // its waiter is gone: just drop it
			p.bytes -= len(it.buf)
			drop = append(drop, it)
		default:
			it.finished = true
			p.bytes -= len(it.buf)
			out = append(out, it)
		}
	}
	p.queue = fifo{items: keep}
	p.queued.Store(int64(len(keep)))
	if len(out)+len(drop) > 0 {
		p.freeSpace()
	}
	for _, it := range drop {
		p.arena.release(it.ck) // not being written (no connection): reusable
	}
	return out
}

// refused reports a dial the peer's host actively turned down: nothing
// listens there (ECONNREFUSED) or the host or network is known to be
// unreachable. A dial timeout is not one: the peer may only be slow.
func refused(err error) bool {
	return errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EHOSTUNREACH) ||
		errors.Is(err, syscall.ENETUNREACH)
}

// drainLocked removes every pending item and marks it finished; p.mu is
// held. The caller reports them outside the lock.
func (p *peer) drainLocked() []*item {
	out := make([]*item, 0, p.inflight.len()+p.queue.len())
	for p.inflight.len() > 0 {
		out = append(out, p.inflight.pop())
	}
	for p.queue.len() > 0 {
		out = append(out, p.queue.pop())
	}
	p.queued.Store(0)
	for _, it := range out {
		it.finished = true
		p.bytes -= len(it.buf)
	}
	p.freeSpace()
	return out
}

// report fails items: waiters get err, async items go to OnError.
func (p *peer) report(items []*item, err error) {
	for _, it := range items {
		if it.done != nil {
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

// close fails everything pending with err and stops the writer.
func (p *peer) close(err error) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed, p.closeErr = true, err
	p.arena.close()
	items := p.drainLocked()
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
		Connected:      p.cur != nil,
		QueuedBytes:    p.bytes,
		QueuedMessages: p.queue.len() + p.inflight.len(),
	}
	p.mu.Unlock()
	st.Sent = p.sent.Load()
	st.Acked = p.acked.Load()
	st.Failed = p.failed.Load()
	st.Reconnects = p.reconnects.Load()
	return st
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
