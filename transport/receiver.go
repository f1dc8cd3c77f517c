package transport

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"github.com/gomcat/gomcat/internal/burst"
	"github.com/gomcat/gomcat/internal/seal"
	"github.com/gomcat/gomcat/runtime/lifecycle"
)

const (
	maxStreams   = 1024 // remembered sender streams (for de-duplication)
	streamsSlack = 64   // streams dropped at once when over maxStreams
	maxSyncFails = 1024 // remembered failed sync messages per stream
)

// ReceiverStats are a Receiver's counters since Start.
type ReceiverStats struct {
	Accepted       uint64 // connections accepted
	Active         int    // connections open now
	Messages       uint64 // messages handed to the Handler
	Duplicates     uint64 // re-sent messages recognised and not handled again
	HandlerErrors  uint64 // Handler calls that returned an error
	ProtocolErrors uint64 // connections closed for a *ProtocolError (sealing included)
	SealErrors     uint64 // of which: frames that did not open with the cluster key
	Refused        uint64 // connections closed at accept: over MaxConnections or MaxConnectionsPerHost
	Unadmitted     uint64 // connections whose hello Config.Admit refused
	IdleClosed     uint64 // connections closed after IdleTimeout of silence
	FrameTimeouts  uint64 // connections closed because a frame did not arrive whole in time
	BytesReceived  uint64 // bytes read from all connections (hellos and frames)
}

// Receiver accepts connections from peers' Senders and hands their
// messages to a Handler (Tomcat's NioReceiver). Create it with
// NewReceiver, then Start and Stop it.
type Receiver struct {
	cfg     Config
	h       Handler
	log     zerolog.Logger
	sealers *sealers     // nil unless sealed: one replay cache for all connections
	inc     uint64       // incarnation: random per Receiver, bound into sealed frames
	selfID  atomic.Value // [16]byte: the unique id greetings name (SetUniqueID)

	mu      sync.Mutex // guards the fields below
	ln      net.Listener
	conns   map[*rconn]struct{}
	perHost map[netip.Addr]int // open connections by source IP
	streams map[streamKey]*stream
	state   int // 0 new, 1 started, 2 stopped
	ctx     context.Context
	cancel  context.CancelFunc

	wg sync.WaitGroup

	listen func(ctx context.Context, addr string) (net.Listener, error) // nil: TCP; tests swap it

	accepted, messages, duplicates, handlerErrs, protoErrs, sealErrs atomic.Uint64
	refused, unadmitted, idleClosed, frameTimeouts, bytesIn          atomic.Uint64

	// One log line per burst of each kind of refusal.
	refusedLog, unadmittedLog, timeoutLog, protoLog, acceptLog *burst.Limiter
}

// streamKey names the messages of one Sender instance: ids are unique
// and increasing within it.
type streamKey struct {
	id    [16]byte
	epoch uint64
}

// stream is what the receiver remembers about a sender across its
// connections, to recognise messages re-sent after a reconnect. Only the
// stream's active connection touches it; a new connection waits for the
// previous one to end before it reads (happens-before via rconn.done).
type stream struct {
	active *rconn
	last   uint64 // highest message id handed to the handler
	// fails holds the error text of every use_ack|sync message whose
	// handler failed and that the sender may re-send (its fail-ack may
	// have been lost with the connection). A new connection re-sends from
	// the sender's oldest pending message, so lower ids are forgotten then.
	fails map[uint64]string
}

// failed remembers that the sync message id failed with text.
func (st *stream) failed(id uint64, text string) {
	if st.fails == nil {
		st.fails = make(map[uint64]string)
	}
	if len(st.fails) >= maxSyncFails && id > maxSyncFails/2 {
		st.forgetBelow(id - maxSyncFails/2) // keep the newer half
	}
	st.fails[id] = text
}

// forgetBelow drops the failures of ids below id.
func (st *stream) forgetBelow(id uint64) {
	for k := range st.fails {
		if k < id {
			delete(st.fails, k)
		}
	}
}

// rconn is one accepted connection.
type rconn struct {
	nc     net.Conn
	host   netip.Addr // source IP
	cancel context.CancelFunc
	done   chan struct{}
}

// NewReceiver validates cfg and returns a Receiver that will call h. It
// opens no socket.
func NewReceiver(cfg Config, h Handler) (*Receiver, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if h == nil {
		return nil, errors.New("transport: nil handler")
	}
	r := &Receiver{
		cfg:     cfg,
		h:       h,
		log:     cfg.Logger.With().Str("component", "transport").Logger(),
		conns:   make(map[*rconn]struct{}),
		perHost: make(map[netip.Addr]int),
		streams: make(map[streamKey]*stream),

		refusedLog:    burst.New(0),
		unadmittedLog: burst.New(0),
		timeoutLog:    burst.New(0),
		protoLog:      burst.New(0),
		acceptLog:     burst.New(0),
	}
	var err error
	if r.sealers, err = sealersFor(&r.cfg); err != nil {
		return nil, err
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	r.inc = binary.BigEndian.Uint64(b[:])
	r.selfID.Store(cfg.Self.UniqueID)
	return r, nil
}

// SetUniqueID sets the member unique id that sealed connections are bound
// to (the membership makes it after the receiver is bound). Concurrency-safe.
func (r *Receiver) SetUniqueID(id [16]byte) { r.selfID.Store(id) }

// Start binds the first free port of Port..Port+AutoBind-1 and starts
// accepting. ctx bounds the bind only; the receiver runs until Stop.
func (r *Receiver) Start(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.state != 0 {
		return errors.New("transport: receiver already started")
	}
	tries := max(r.cfg.AutoBind, 1)
	if r.cfg.Port == 0 {
		tries = 1
	}
	var lc net.ListenConfig
	var err error
	for i := 0; i < tries; i++ {
		addr := net.JoinHostPort(r.cfg.Address, strconv.Itoa(r.cfg.Port+i))
		if r.listen != nil {
			r.ln, err = r.listen(ctx, addr)
		} else {
			r.ln, err = lc.Listen(ctx, "tcp", addr)
		}
		if err == nil || !errors.Is(err, syscall.EADDRINUSE) {
			break
		}
	}
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return fmt.Errorf("transport: no free port in %s-%d: %w",
				net.JoinHostPort(r.cfg.Address, strconv.Itoa(r.cfg.Port)), r.cfg.Port+tries-1, err)
		}
		return fmt.Errorf("transport: listen: %w", err)
	}
	r.state = 1
	r.ctx, r.cancel = context.WithCancel(context.WithoutCancel(ctx))
	r.log.Info().Msg("Receiver Server Socket bound to:[/" + r.ln.Addr().String() + "]")
	r.wg.Go(r.accept)
	return nil
}

// Addr returns the bound address (the port to advertise), nil before Start.
func (r *Receiver) Addr() net.Addr {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ln == nil {
		return nil
	}
	return r.ln.Addr()
}

// Port returns the bound port, 0 before Start.
func (r *Receiver) Port() int {
	if a, ok := r.Addr().(*net.TCPAddr); ok {
		return a.Port
	}
	return 0
}

// Stop closes the listener and every connection, cancels handlers' ctx
// and waits for the receiver's goroutines, or for ctx. Idempotent.
func (r *Receiver) Stop(ctx context.Context) error {
	r.mu.Lock()
	if r.state == 1 {
		r.ln.Close()
		r.cancel()
		for c := range r.conns {
			c.nc.Close()
		}
	}
	r.state = 2
	r.mu.Unlock()
	if err := lifecycle.Wait(ctx, &r.wg); err != nil {
		return fmt.Errorf("transport: stop receiver: %w", err)
	}
	return nil
}

// Stats returns the receiver's counters.
func (r *Receiver) Stats() ReceiverStats {
	r.mu.Lock()
	active := len(r.conns)
	r.mu.Unlock()
	return ReceiverStats{
		Accepted:       r.accepted.Load(),
		Active:         active,
		Messages:       r.messages.Load(),
		Duplicates:     r.duplicates.Load(),
		HandlerErrors:  r.handlerErrs.Load(),
		ProtocolErrors: r.protoErrs.Load(),
		SealErrors:     r.sealErrs.Load(),
		Refused:        r.refused.Load(),
		Unadmitted:     r.unadmitted.Load(),
		IdleClosed:     r.idleClosed.Load(),
		FrameTimeouts:  r.frameTimeouts.Load(),
		BytesReceived:  r.bytesIn.Load(),
	}
}

// accept runs until the listener is closed by Stop.
func (r *Receiver) accept() {
	var delay time.Duration
	for {
		nc, err := r.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// Temporary (EMFILE...): back off like net/http.
			delay = min(max(2*delay, 5*time.Millisecond), time.Second)
			if ok, n := r.acceptLog.Allow(time.Now()); ok {
				r.log.Warn().Err(err).Dur("retry_in", delay).Uint64("suppressed", n).Msg("accept failed")
			}
			select {
			case <-time.After(delay):
			case <-r.ctx.Done():
				return
			}
			continue
		}
		delay = 0
		host := remoteHost(nc)
		ctx, cancel := context.WithCancel(r.ctx)
		c := &rconn{nc: nc, host: host, cancel: cancel, done: make(chan struct{})}
		r.mu.Lock()
		if r.state != 1 {
			r.mu.Unlock()
			cancel()
			nc.Close()
			return
		}
		total, fromHost := len(r.conns), r.perHost[host]
		over := total >= r.cfg.MaxConnections || fromHost >= r.cfg.MaxConnectionsPerHost
		if !over {
			r.conns[c] = struct{}{}
			r.perHost[host]++
		}
		r.mu.Unlock()
		if over {
			cancel()
			nc.Close()
			r.refused.Add(1)
			if ok, n := r.refusedLog.Allow(time.Now()); ok {
				r.log.Warn().Str("remote", host.String()).Int("connections", total).Int("from_host", fromHost).
					Int("max", r.cfg.MaxConnections).Int("max_per_host", r.cfg.MaxConnectionsPerHost).
					Uint64("suppressed", n).Msg("connection refused: too many connections")
			}
			continue
		}
		r.accepted.Add(1)
		r.wg.Go(func() { r.serve(ctx, c) })
	}
}

// serve reads one connection until it ends.
func (r *Receiver) serve(ctx context.Context, c *rconn) {
	var st *stream
	defer func() {
		c.cancel()
		c.nc.Close()
		r.mu.Lock()
		delete(r.conns, c)
		if r.perHost[c.host]--; r.perHost[c.host] <= 0 {
			delete(r.perHost, c.host)
		}
		if st != nil && st.active == c {
			st.active = nil
		}
		r.mu.Unlock()
		close(c.done)
	}()
	remote := c.nc.RemoteAddr().String()
	log := r.log.With().Str("remote", remote).Logger()
	fr := newFrameReader(c.nc, c.nc, r.cfg.Timeout, min(maxHelloBody, r.cfg.MaxFrameSize))
	fr.count = &r.bytesIn
	fr.idle, fr.minRate = r.cfg.IdleTimeout, r.cfg.MinFrameRate
	s := &session{
		r:   r,
		fr:  fr,
		nc:  c.nc,
		log: log,
	}
	var g greeting
	if r.sealers != nil {
		g = newGreeting(r.selfID.Load().([16]byte), r.inc)
		if err := r.sealers.writeGreeting(c.nc, g, r.cfg.Timeout); err != nil {
			r.closed(log, err)
			return
		}
		s.opener = newConnSeal(r.sealers, dirHello, g, [16]byte{}, 0)
	}
	err := s.handshake()
	if err == nil && r.sealers != nil {
		s.opener = newConnSeal(r.sealers, dirSender, g, s.peer.peer.UniqueID, s.peer.epoch)
		s.acker = newConnSeal(r.sealers, dirReceiver, g, s.peer.peer.UniqueID, s.peer.epoch)
	}
	if err == nil {
		s.peer.peer.Host = c.host
		err = r.admit(ctx, log, s.peer.peer)
	}
	if err == nil {
		fr.maxBody = r.cfg.MaxFrameSize // admitted: full-size frames from now on
		st, err = r.attach(ctx, c, s.peer)
	}
	if err == nil {
		err = s.reply(typeAck, 0, "") // the hello is accepted
	}
	if err == nil {
		err = s.loop(ctx, st)
	}
	r.closed(log, err)
}

// errUnadmitted is returned by serve for a hello Config.Admit refused (it
// is counted and logged there).
var errUnadmitted = errors.New("transport: hello not admitted")

// admit asks Config.Admit about a connection's hello.
func (r *Receiver) admit(ctx context.Context, log zerolog.Logger, p Peer) error {
	if r.cfg.Admit == nil {
		return nil
	}
	err := r.cfg.Admit(ctx, p)
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	r.unadmitted.Add(1)
	if ok, n := r.unadmittedLog.Allow(time.Now()); ok {
		log.Warn().Err(err).Str("peer", p.Name).Uint64("suppressed", n).Msg("connection refused: hello does not match a member")
	}
	return errUnadmitted
}

// remoteHost is the source IP of nc (zero if it has none).
func remoteHost(nc net.Conn) netip.Addr {
	if a, ok := nc.RemoteAddr().(*net.TCPAddr); ok {
		return a.AddrPort().Addr().Unmap()
	}
	return netip.Addr{}
}

// closed logs and counts why a connection ended.
func (r *Receiver) closed(log zerolog.Logger, err error) {
	var pe *ProtocolError
	switch {
	case errors.Is(err, errUnadmitted):
	case errors.Is(err, errIdle):
		r.idleClosed.Add(1)
		log.Debug().Msg("closing idle connection")
	case errors.Is(err, errFrameTimeout):
		r.frameTimeouts.Add(1)
		if ok, n := r.timeoutLog.Allow(time.Now()); ok {
			log.Warn().Err(err).Uint64("suppressed", n).Msg("closing connection: frame not complete in time")
		}
	case errors.As(err, &pe):
		r.protoErrs.Add(1)
		if errors.Is(err, seal.ErrAuth) || errors.Is(err, seal.ErrReplay) || errors.Is(err, seal.ErrStale) {
			r.sealErrs.Add(1)
		}
		if ok, n := r.protoLog.Allow(time.Now()); ok {
			log.Warn().Err(err).Uint64("suppressed", n).Uint64("seal_errors", r.sealErrs.Load()).Msg("closing connection")
		}
	case err == nil, isClosedErr(err):
		log.Debug().Msg("connection closed")
	default:
		log.Info().Err(err).Msg("connection lost")
	}
}

// attach registers the connection as its stream's active one, closing and
// waiting out a previous connection of the same sender so its messages
// are not handled twice or out of order.
func (r *Receiver) attach(ctx context.Context, c *rconn, h hello) (*stream, error) {
	key := streamKey{h.peer.UniqueID, h.epoch}
	r.mu.Lock()
	st := r.streams[key]
	if st == nil {
		if len(r.streams) >= maxStreams {
			r.evictStreams()
		}
		st = &stream{}
		r.streams[key] = st
	}
	old := st.active
	st.active = c
	r.mu.Unlock()
	if old != nil {
		old.cancel()
		old.nc.Close()
		select {
		case <-old.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return st, nil
}

// evictStreams forgets idle streams; r.mu is held.
func (r *Receiver) evictStreams() {
	n := 0
	for k, st := range r.streams {
		if st.active == nil {
			delete(r.streams, k)
			if n++; n == streamsSlack {
				return
			}
		}
	}
}

// session is the per-connection reading state.
type session struct {
	r      *Receiver
	fr     *frameReader
	nc     net.Conn
	opener *connSeal // sealed: opens the peer's frames
	acker  *connSeal // sealed: seals acks
	log    zerolog.Logger
	peer   hello
	plain  []byte // opened envelope, reused when payloads are borrowed
	out    []byte // ack encoding scratch
	seal   []byte // ack envelope scratch (sealed connections)
}

// next reads and decodes one frame. The envelope payload aliases the
// session's buffers until the next call.
func (s *session) next(idleOK bool) (envelope, error) {
	body, err := s.fr.next(idleOK)
	if err != nil {
		return envelope{}, err
	}
	if s.opener != nil {
		var dst []byte // a new buffer the handler may own
		if s.r.cfg.BorrowPayload {
			dst = s.plain[:0]
		}
		body, err = s.opener.open(dst, body)
		if err != nil {
			return envelope{}, err
		}
		if s.r.cfg.BorrowPayload && cap(body) <= maxKeepBuf {
			s.plain = body
		}
	}
	return decodeEnvelope(body)
}

// handshake reads the hello frame, which must come within Timeout.
func (s *session) handshake() error {
	e, err := s.next(false)
	if err != nil {
		return err
	}
	if e.typ != typeHello {
		return &ProtocolError{Reason: "first frame is not a hello"}
	}
	s.peer, err = decodeHello(e.payload)
	if err != nil {
		return err
	}
	s.log = s.log.With().Str("peer", s.peer.peer.Name).Logger()
	s.log.Debug().Msg("peer connected")
	return nil
}

// loop handles frames until the connection ends.
func (s *session) loop(ctx context.Context, st *stream) error {
	var unacked uint64 // highest async id received and not yet acked
	var m Message      // reused: handlers must not keep m, only m.Payload
	first := true      // the first frame after the hello
	for {
		if unacked != 0 && !s.fr.ready() {
			// About to wait for the network: confirm the async messages
			// handled so far with one cumulative ack.
			if err := s.reply(typeAck, unacked, ""); err != nil {
				return err
			}
			unacked = 0
		}
		e, err := s.next(true)
		if err != nil {
			return err
		}
		if first && len(st.fails) > 0 {
			// The sender re-sends from its oldest pending message: it
			// has the result of every earlier one.
			st.forgetBelow(e.id)
		}
		first = false
		switch e.typ {
		case typePing:
			if e.opts&OptUseAck != 0 {
				if err := s.reply(typeAck, e.id, ""); err != nil {
					return err
				}
				unacked = 0
			}
			continue
		case typeData:
		default:
			return &ProtocolError{Reason: "unexpected frame type " + strconv.Itoa(int(e.typ))}
		}
		m = Message{Channel: e.ch, Options: int(e.opts), ID: e.id}
		ack := !m.async() && (m.Options&OptUseAck != 0 || m.Options&OptSync != 0 || m.Options == 0)
		if e.id <= st.last {
			// Re-sent after a reconnect and already handled: answer as
			// the first time, don't handle again.
			s.r.duplicates.Add(1)
			if !ack {
				unacked = e.id
				continue
			}
			typ, text := typeAck, ""
			if fail, ok := st.fails[e.id]; ok {
				typ, text = typeFailAck, fail
			}
			if err := s.reply(typ, e.id, text); err != nil {
				return err
			}
			unacked = 0
			continue
		}
		st.last = e.id
		if ack && !m.sync() {
			if err := s.reply(typeAck, e.id, ""); err != nil {
				return err
			}
			unacked = 0
		}
		switch {
		case s.r.cfg.BorrowPayload:
			m.Payload = e.payload[:len(e.payload):len(e.payload)] // valid during the call
		case s.opener != nil:
			m.Payload = e.payload[:len(e.payload):len(e.payload)] // opened into a new buffer
		default:
			m.Payload = bytes.Clone(e.payload) // owned by the handler
		}
		herr := s.r.h.ServeMessage(ctx, s.peer.peer, &m)
		s.r.messages.Add(1)
		if herr != nil {
			s.r.handlerErrs.Add(1)
		}
		switch {
		case m.sync():
			typ, text := typeAck, ""
			if herr != nil {
				typ, text = typeFailAck, herr.Error()
				if len(text) > maxFailText {
					text = text[:maxFailText]
				}
				st.failed(e.id, text)
			}
			if err := s.reply(typ, e.id, text); err != nil {
				return err
			}
			unacked = 0
		case !ack:
			unacked = e.id
			if herr != nil {
				s.log.Debug().Err(herr).Uint64("seq", e.id).Msg("async message failed in handler")
			}
		}
	}
}

// reply writes and flushes an ack or fail-ack for id.
func (s *session) reply(typ frameType, id uint64, text string) error {
	e := envelope{typ: typ, id: id, payload: []byte(text)}
	s.out = s.out[:0]
	start := len(s.out)
	s.out = beginFrame(s.out)
	if s.acker != nil {
		s.seal = appendEnvelope(s.seal[:0], &e)
		s.out = s.acker.seal(s.out, s.seal)
	} else {
		s.out = appendEnvelope(s.out, &e)
	}
	s.out = endFrame(s.out, start)
	s.nc.SetWriteDeadline(time.Now().Add(s.r.cfg.Timeout))
	_, err := s.nc.Write(s.out)
	return err
}

// isClosedErr reports errors that only say the connection went away.
func isClosedErr(err error) bool {
	return errors.Is(err, net.ErrClosed) || errors.Is(err, io.EOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, context.Canceled)
}
