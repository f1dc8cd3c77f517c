package transport

import (
	"bufio"
	"fmt"
	"net"
	"time"
)

// The writer goroutine and the connection it owns.

// pconn is one connection to the peer.
type pconn struct {
	nc      net.Conn
	out, in *connSeal // sealed: frames out and acks in, bound to this connection
	lost    error     // why it failed, set by lose (guarded by peer.mu)
}

// run is the writer goroutine; it ends when the peer is closed. It holds
// the write token while it retires a lost connection, dials or writes.
func (p *peer) run() {
	defer func() {
		if p.trimTimer != nil {
			p.trimTimer.Stop()
		}
		if p.lingerTimer != nil {
			p.lingerTimer.Stop()
		}
	}()
	for {
		c, ok := p.waitWork()
		if !ok {
			return
		}
		switch {
		case c != nil && c.lost != nil:
			p.retire(c, c.lost)
		case c == nil:
			if c = p.connect(); c != nil {
				p.write(c)
			}
		default:
			p.linger()
			p.write(c)
		}
		p.endWrite(false)
	}
}

// waitWork blocks until there is work and takes the write token: a lost
// connection to retire, or queued items (it returns the connection, nil
// when down). It returns false once the peer is closed. Idle, it trims
// the arena.
func (p *peer) waitWork() (*pconn, bool) {
	var trim <-chan time.Time // set while idle chunks wait to be trimmed
	for {
		p.mu.Lock()
		p.idle = false
		if p.closed {
			p.mu.Unlock()
			return nil, false
		}
		c := p.cur
		if !p.writing && (c != nil && c.lost != nil || p.q.queued.len() > 0) {
			p.writing = true
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

// write sends one batch from the queue on c with one writev: runs of
// frames adjacent in the arena are one iovec, and nothing is copied
// (sealed frames are sealed into one scratch buffer). The frames are
// gathered under p.mu: once the lock is released, close may fail the
// batch's items and their waiters recycle them.
func (p *peer) write(c *pconn) {
	p.mu.Lock()
	if p.cur != c || c.lost != nil {
		p.mu.Unlock()
		return
	}
	p.lastWrite = time.Now()
	batch, drop := p.q.take(p.batch[:0], p.drop[:0], maxBatch, maxBatchBytes)
	if len(drop) > 0 {
		p.freeSpace()
	}
	n := len(batch)
	iov := p.iov[:0]
	if c.out == nil {
		iov = gather(iov, batch)
	} else {
		for _, it := range batch {
			iov = append(iov, it.buf) // envelopes, sealed below
		}
	}
	clear(batch)
	p.batch = batch[:0]
	p.mu.Unlock()
	p.release(drop)
	if n == 0 {
		return
	}
	if c.out != nil {
		sealed := p.seal(c, iov)
		clear(iov)
		iov = append(iov[:0], sealed)
	}
	c.nc.SetWriteDeadline(time.Now().Add(p.s.cfg.Timeout))
	wv := iov // WriteTo consumes its receiver
	nb, err := wv.WriteTo(c.nc)
	clear(iov)
	p.iov = iov[:0]
	if err != nil {
		p.lose(c, err) // the writer retires it
		return
	}
	p.sent.Add(uint64(n))
	p.sentBytes.Add(uint64(nb))
}

// linger waits, before the writer writes async messages that came soon
// after the previous write, until linger has passed since it, so that
// those arriving meanwhile go in the same writev (bench replication:
// more /set throughput with replication). A waited-for send, queued
// already or meanwhile, ends it, as does a long queue.
func (p *peer) linger() {
	p.mu.Lock()
	d := linger - time.Since(p.lastWrite)
	if d <= 0 || p.q.queued.len() > lingerMax || p.q.hasWaited() {
		p.mu.Unlock()
		return
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
		p.lingerTimer.Stop()
	}
	p.mu.Lock()
	p.lingering = false
	p.mu.Unlock()
}

// seal seals envelopes into frames in the scratch buffer.
func (p *peer) seal(c *pconn, envelopes [][]byte) []byte {
	scratch := p.scratch[:0]
	for _, env := range envelopes {
		start := len(scratch)
		scratch = beginFrame(scratch)
		scratch = c.out.seal(scratch, env)
		scratch = endFrame(scratch, start)
	}
	p.scratch = scratch
	if cap(scratch) > maxScratch {
		p.scratch = nil
	}
	return scratch
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

// connect dials the peer, after the back-off of earlier failures, and
// sends the hello; it returns nil when not connected. A failed dial may
// fail messages, as the dial policy decides: every pending one after
// Timeout of outage, the waited-for ones at once when the peer refuses
// connections (async ones keep waiting until Timeout).
func (p *peer) connect() *pconn {
	for {
		p.mu.Lock()
		wait := p.dial.wait(time.Now())
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
	c, err := p.open()
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		if c != nil {
			c.nc.Close()
		}
		return nil
	}
	if err != nil {
		v := p.dial.failed(time.Now(), true, refused(err))
		var failed, drop []*item
		switch {
		case v.giveUp:
			failed = p.q.drain(nil)
		case v.failWaited:
			failed, drop = p.q.takeWaited(nil, p.drop[:0])
		}
		if len(failed)+len(drop) > 0 {
			p.freeSpace()
		}
		p.mu.Unlock()
		p.release(drop) // not being written (no connection): reusable
		if v.first {
			p.log.Warn().Err(err).Msg("cannot connect to peer, retrying")
		}
		if v.refusing {
			p.log.Warn().Err(err).Msg("peer refuses connections; sends waiting for it fail at once")
		}
		switch {
		case v.giveUp:
			p.giveUp(failed, err)
		case len(failed) > 0:
			p.log.Debug().Err(err).Int("messages", len(failed)).Msg("waiting sends failed: peer refuses connections")
			p.report(failed, fmt.Errorf("%w: %s: %w", ErrUnreachable, p.addr, err))
		}
		return nil
	}
	if p.connected {
		p.reconnects.Add(1)
	}
	p.connected = true
	p.dial.connected()
	p.cur = c
	p.mu.Unlock()
	p.s.wg.Go(func() { p.readAcks(c) })
	return c
}

// open opens a connection and writes the hello frame.
func (p *peer) open() (*pconn, error) {
	cfg := &p.s.cfg
	var nc net.Conn
	var err error
	if p.s.dial != nil {
		nc, err = p.s.dial(p.ctx, p.addr)
	} else {
		d := net.Dialer{Timeout: cfg.Timeout}
		if ip := net.ParseIP(cfg.SourceAddress); ip != nil {
			d.LocalAddr = &net.TCPAddr{IP: ip}
		}
		nc, err = d.DialContext(p.ctx, "tcp", p.addr)
	}
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
		if cfg.ExpectedID != nil {
			if want, ok := cfg.ExpectedID(p.addr); ok && want != g.id {
				nc.Close()
				return nil, fmt.Errorf("greeting from %s: receiver %x, want %x: %w", p.addr, g.id, want, ErrWrongReceiver)
			}
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

// retire ends c after err; the writer calls it holding the write token.
// What was in flight goes back in front of the queue for the next
// connection, and the dial policy counts the failure (after Timeout of
// outage, everything pending fails).
func (p *peer) retire(c *pconn, err error) {
	p.mu.Lock()
	if p.cur != c {
		p.mu.Unlock()
		return
	}
	p.cur = nil
	drop := p.q.requeue(p.drop[:0])
	v := p.dial.failed(time.Now(), false, false)
	var failed []*item
	if v.giveUp {
		failed = p.q.drain(nil)
	}
	if len(drop)+len(failed) > 0 {
		p.freeSpace()
	}
	p.mu.Unlock()
	p.release(drop) // the write of them returned: reusable
	c.nc.Close()
	if v.first {
		p.log.Warn().Err(err).Msg("connection to peer lost, reconnecting")
	}
	p.giveUp(failed, err)
}

// lose marks c lost after a read or write error and wakes the writer to
// retire it. Closing the socket ends a write blocked on it.
func (p *peer) lose(c *pconn, err error) {
	p.mu.Lock()
	if c.lost == nil {
		c.lost = err
	}
	p.mu.Unlock()
	c.nc.Close()
	p.signal()
}

// readAcks reads the peer's acks on c until c fails or closes.
func (p *peer) readAcks(c *pconn) {
	br := bufio.NewReaderSize(c.nc, ackReadSize)
	var buf, plain []byte
	var done []*item
	for {
		var err error
		buf, err = readFrame(br, buf, p.s.cfg.MaxFrameSize, nil)
		if err != nil {
			p.lose(c, err)
			return
		}
		body := buf
		if c.in != nil {
			if plain, err = c.in.open(plain[:0], buf); err != nil {
				p.lose(c, &ProtocolError{Remote: p.addr, Reason: "ack does not open with the cluster key", Err: err})
				return
			}
			body = plain
		}
		e, err := decodeEnvelope(body)
		if err == nil && e.typ != typeAck && e.typ != typeFailAck {
			err = &ProtocolError{Remote: p.addr, Reason: "unexpected frame type from receiver"}
		}
		if err != nil {
			p.lose(c, err)
			return
		}
		done = p.confirm(c, e, done[:0])
	}
}

// confirm finishes every item in flight up to the acked id; done is
// scratch, returned for reuse.
func (p *peer) confirm(c *pconn, e envelope, done []*item) []*item {
	p.mu.Lock()
	if p.cur != c || c.lost != nil {
		p.mu.Unlock()
		return done
	}
	if p.dial.acked() {
		p.log.Info().Msg("connected to peer") // the outage is over
	}
	done = p.q.ack(e.id, done)
	p.acked.Add(uint64(len(done))) // counted before a waiter can look
	var ck *chunk                  // chunk references are released in runs
	refs := int32(0)
	for _, it := range done {
		if it.ck != ck { // acknowledged, so written in full: reusable
			p.arena.releaseN(ck, refs)
			ck, refs = it.ck, 0
		}
		refs++
		if it.waited() {
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
	if len(done) > 0 {
		p.freeSpace()
	}
	p.mu.Unlock()
	clear(done)
	return done
}
