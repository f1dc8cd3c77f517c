package host

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"regexp"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/gomcat/gomcat/ajp"
	"github.com/gomcat/gomcat/runtime/lifecycle"
)

// AJPStats are an AJP connector's counters since Start.
type AJPStats struct {
	Connections      uint64 // accepted
	Open             int64  // open now
	Requests         uint64 // forward requests served (refused ones included)
	CPings           uint64 // CPing probes answered
	SecretRefused    uint64 // 403: missing or wrong secret
	AttributeRefused uint64 // 403: request attribute not allowed
	ProtocolErrors   uint64 // bad magic, oversized, truncated, malformed: connection closed
	ShutdownRefused  uint64 // AJP shutdown packets (never honoured)
}

// AJPConnector is an AJP/1.3 listener. Start binds and runs the accept
// loop; each connection has one goroutine that reads packets in order and
// runs the handler for each forward request on it (AJP has no pipelining).
// Stop (idempotent) closes the listener and the idle connections, lets
// in-flight requests finish for up to ShutdownGrace, then closes the rest.
type AJPConnector struct {
	cfg     AJPConfig
	log     zerolog.Logger
	name    string
	attrs   *regexp.Regexp // nil: no extra attributes allowed
	threads chan struct{}  // MaxThreads slots
	slots   chan struct{}  // MaxConnections slots
	ctx     context.Context
	cancel  context.CancelFunc

	stats struct {
		conns, requests, cpings, secret, attr, proto, shutdown atomic.Uint64
		open                                                   atomic.Int64
	}

	mu        sync.Mutex
	ln        net.Listener // bound by Listen or Start
	accepting bool         // Start ran: the accept goroutine owns ln
	stopped   bool
	conns     map[*ajpConn]bool // value: a request is in flight
	wg        sync.WaitGroup
}

// NewAJPConnector fills defaults and validates cfg; it opens nothing.
func NewAJPConnector(cfg AJPConfig) (*AJPConnector, error) {
	cfg.fill()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	c := &AJPConnector{cfg: cfg, name: "ajp-" + strconv.Itoa(cfg.Port), conns: map[*ajpConn]bool{},
		threads: make(chan struct{}, cfg.MaxThreads), slots: make(chan struct{}, cfg.MaxConnections)}
	if cfg.AllowedRequestAttributes != "" {
		c.attrs = regexp.MustCompile("^(?:" + cfg.AllowedRequestAttributes + ")$")
	}
	c.log = cfg.Logger.With().Str("component", "connector").Str("protocol", "AJP/1.3").Int("port", cfg.Port).Logger()
	c.ctx, c.cancel = context.WithCancel(context.Background())
	return c, nil
}

// Listen binds the port without accepting yet (bind before the node
// announces itself; connections wait in the backlog until Start). A port
// in use fails with a *ListenError. Idempotent.
func (c *AJPConnector) Listen(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.listenLocked(ctx)
}

func (c *AJPConnector) listenLocked(ctx context.Context) error {
	if c.stopped {
		return ErrClosed
	}
	if c.ln != nil {
		return nil
	}
	addr := net.JoinHostPort(c.cfg.Address, strconv.Itoa(c.cfg.Port))
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return &ListenError{Element: "Connector", Addr: addr, Port: c.cfg.Port, Err: err}
	}
	c.ln = ln
	if c.cfg.Port == 0 {
		c.name = "ajp-" + strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	}
	return nil
}

// Start binds the port (unless Listen did) and starts accepting. A port
// in use fails with a *ListenError.
func (c *AJPConnector) Start(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.listenLocked(ctx); err != nil {
		return err
	}
	if c.accepting {
		return nil
	}
	c.accepting = true
	ln := c.ln
	ev := c.log.Info().Str("addr", ln.Addr().String()).Bool("secret", c.cfg.Secret != "")
	ev.Msgf("Starting ProtocolHandler [\"%s\"]", c.name)
	if c.cfg.Secret == "" {
		c.log.Warn().Msg("AJP connector without a secret: anyone who can reach the port can forge requests (set secret, or keep it on loopback)")
	}
	c.wg.Go(func() { c.accept(ln) })
	return nil
}

// Addr is the bound address, or nil before Start.
func (c *AJPConnector) Addr() net.Addr {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ln == nil {
		return nil
	}
	return c.ln.Addr()
}

// Stats returns the counters. Safe for concurrent use.
func (c *AJPConnector) Stats() AJPStats {
	return AJPStats{
		Connections: c.stats.conns.Load(), Open: c.stats.open.Load(), Requests: c.stats.requests.Load(),
		CPings: c.stats.cpings.Load(), SecretRefused: c.stats.secret.Load(), AttributeRefused: c.stats.attr.Load(),
		ProtocolErrors: c.stats.proto.Load(), ShutdownRefused: c.stats.shutdown.Load(),
	}
}

func (c *AJPConnector) accept(ln net.Listener) {
	for {
		c.slots <- struct{}{} // MaxConnections: wait for a free slot before accepting
		nc, err := ln.Accept()
		if err != nil {
			<-c.slots
			if errors.Is(err, net.ErrClosed) {
				return
			}
			c.log.Warn().Err(err).Msg("accept failed")
			select {
			case <-c.ctx.Done():
				return
			case <-time.After(50 * time.Millisecond):
			}
			continue
		}
		ac := &ajpConn{c: c, nc: nc}
		c.mu.Lock()
		if c.stopped {
			c.mu.Unlock()
			nc.Close()
			<-c.slots
			return
		}
		c.conns[ac] = false
		c.mu.Unlock()
		c.stats.conns.Add(1)
		c.stats.open.Add(1)
		c.wg.Go(func() {
			defer func() {
				nc.Close()
				c.mu.Lock()
				delete(c.conns, ac)
				c.mu.Unlock()
				c.stats.open.Add(-1)
				<-c.slots
			}()
			ac.serve()
		})
	}
}

// setBusy marks a connection as serving a request (true) or idle; it
// returns false when the connector is stopping and an idle connection
// must not take a new request.
func (c *AJPConnector) setBusy(ac *ajpConn, busy bool) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if busy && c.stopped {
		return false
	}
	c.conns[ac] = busy
	return true
}

func (c *AJPConnector) stopping() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stopped
}

// Stop stops accepting, closes idle connections, lets in-flight requests
// finish for up to ShutdownGrace (or until ctx ends), then closes the rest.
func (c *AJPConnector) Stop(ctx context.Context) error {
	c.mu.Lock()
	if c.stopped {
		c.mu.Unlock()
		return nil
	}
	c.stopped = true
	ln := c.ln
	if ln == nil {
		c.mu.Unlock()
		c.cancel()
		return nil
	}
	c.log.Info().Msgf("Pausing ProtocolHandler [\"%s\"]", c.name)
	ln.Close()
	for ac, busy := range c.conns {
		if !busy {
			ac.nc.Close()
		}
	}
	c.mu.Unlock()
	gctx, cancel := context.WithTimeout(ctx, c.cfg.ShutdownGrace)
	err := lifecycle.Wait(gctx, &c.wg)
	cancel()
	if err != nil && ctx.Err() == nil {
		err = fmt.Errorf("AJP connector port %d: requests still running after %s", c.cfg.Port, c.cfg.ShutdownGrace)
	} else if err != nil {
		err = ctx.Err()
	}
	if err != nil {
		c.log.Warn().Err(err).Msg("closing the AJP connections still serving")
		c.cancel()
		c.mu.Lock()
		for ac := range c.conns {
			ac.nc.Close()
		}
		c.mu.Unlock()
		c.wg.Wait() // every connection is closed: their goroutines end
	}
	c.cancel()
	st := c.Stats()
	c.log.Info().Uint64("connections", st.Connections).Uint64("requests", st.Requests).Uint64("cpings", st.CPings).
		Uint64("secret_refused", st.SecretRefused).Uint64("attribute_refused", st.AttributeRefused).
		Uint64("protocol_errors", st.ProtocolErrors).Msgf("Stopping ProtocolHandler [\"%s\"]", c.name)
	return err
}

// ajpConn is one connection from the web server. Only its goroutine reads;
// writes take wmu (a handler may write from another goroutine).
type ajpConn struct {
	c     *AJPConnector
	nc    net.Conn
	br    *bufio.Reader
	buf   []byte // one packet, reused for every read
	chunk []byte // the response body buffer, reused by every request

	wmu sync.Mutex
	bw  *bufio.Writer
}

func (ac *ajpConn) serve() {
	c := ac.c
	ac.br = bufio.NewReaderSize(ac.nc, c.cfg.PacketSize)
	ac.bw = bufio.NewWriterSize(ac.nc, 2*c.cfg.PacketSize)
	ac.buf = make([]byte, c.cfg.PacketSize)
	log := c.log.With().Str("peer", ac.nc.RemoteAddr().String()).Logger()
	for {
		if c.cfg.KeepAliveTimeout > 0 {
			ac.nc.SetReadDeadline(time.Now().Add(c.cfg.KeepAliveTimeout))
		} else {
			ac.nc.SetReadDeadline(time.Time{})
		}
		p, err := ajp.ReadFrame(ac.br, ajp.ToContainer, ac.buf)
		if err != nil {
			ac.readFailed(log, err, "between requests")
			return
		}
		switch ajp.KindOf(p) {
		case ajp.KindCPing:
			c.stats.cpings.Add(1)
			if !ac.writePacket(ajp.AppendCPong(nil)) {
				return
			}
		case ajp.KindForwardRequest:
			fr, err := ajp.DecodeForwardRequest(p)
			if err != nil {
				c.protocolError(log, err)
				return
			}
			if !c.setBusy(ac, true) {
				return
			}
			reuse := ac.serveRequest(log, fr)
			c.setBusy(ac, false)
			if !reuse || c.stopping() {
				return
			}
		case ajp.KindShutdown:
			n := c.stats.shutdown.Add(1)
			if n&(n-1) == 0 {
				log.Warn().Uint64("count", n).Msg("AJP shutdown packet refused; closing the connection")
			}
			return
		default:
			c.protocolError(log, fmt.Errorf("%w: unexpected %s packet", ajp.ErrMalformed, ajp.KindOf(p)))
			return
		}
	}
}

// readFailed classifies a failed read: a clean close or an idle timeout
// is routine; anything else is a protocol error.
func (ac *ajpConn) readFailed(log zerolog.Logger, err error, where string) {
	var ne net.Error
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, net.ErrClosed):
	case errors.As(err, &ne) && ne.Timeout(), errors.Is(err, os.ErrDeadlineExceeded):
		log.Debug().Str("where", where).Msg("AJP connection timed out; closing it")
	case errors.Is(err, ajp.ErrBadMagic), errors.Is(err, ajp.ErrTooLarge), errors.Is(err, ajp.ErrTruncated), errors.Is(err, ajp.ErrMalformed):
		ac.c.protocolError(log, err)
	default:
		log.Debug().Err(err).Str("where", where).Msg("AJP connection read failed")
	}
}

func (c *AJPConnector) protocolError(log zerolog.Logger, err error) {
	n := c.stats.proto.Add(1)
	if n&(n-1) == 0 { // the 1st, 2nd, 4th, 8th…: never a log flood
		log.Warn().Err(err).Uint64("count", n).Msg("AJP protocol error; closing the connection")
	}
}

// writePacket writes one container→server packet and flushes.
func (ac *ajpConn) writePacket(payload []byte) bool {
	ac.wmu.Lock()
	defer ac.wmu.Unlock()
	hdr := ajp.AppendFrame(make([]byte, 0, ajp.HeaderLen), ajp.ToServer, len(payload))
	ac.bw.Write(hdr)
	ac.bw.Write(payload)
	return ac.bw.Flush() == nil
}
