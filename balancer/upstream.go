package balancer

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/textproto"
	"sync"
	"sync/atomic"
	"time"
)

// upstream is a node's HTTP/1.1 client for plain requests: GET and HEAD over
// http:// without a body or an Upgrade. It writes the request and reads the
// response in the caller's goroutine, where http.Transport hands each request
// to a writer goroutine and the response back from a reader goroutine; on a
// small machine those wake-ups were most of the time the balancer added.
// Everything else (bodies, WebSockets, https) goes through the node's
// http.Transport. Both share the node's connection cap (slots).
//
// Keep-alive connections are reused LIFO; one idle longer than idleTimeout
// is closed when met. A reused connection that fails before any response
// byte arrives was closed by the node while idle: the request is sent once
// more on a new connection, as http.Transport does for idempotent requests.
type upstream struct {
	addr        string
	dial        func(ctx context.Context, network, addr string) (net.Conn, error)
	slots       *slots // nil: no cap
	maxIdle     int
	idleTimeout time.Duration
	headerWait  time.Duration // ResponseHeaderTimeout; 0: none
	freeOther   func()        // closes the http.Transport's idle connections (slots full)

	idleReady chan struct{} // a connection went idle (buffer 1)

	mu   sync.Mutex
	idle []*upConn
}

type upConn struct {
	nc     net.Conn
	br     *bufio.Reader
	bw     *bufio.Writer
	idleAt time.Time
}

// eligible reports whether req may take the direct path.
func (u *upstream) eligible(req *http.Request) bool {
	return req.URL.Scheme == "http" &&
		(req.Method == http.MethodGet || req.Method == http.MethodHead) &&
		(req.Body == nil || req.Body == http.NoBody) &&
		req.Header["Upgrade"] == nil
}

// RoundTrip sends an eligible request (see eligible) and returns the
// response; closing its body after reading it to the end returns the
// connection to the pool.
func (u *upstream) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	for try := 0; ; try++ {
		c, reused, err := u.get(ctx, try > 0)
		if err != nil {
			return nil, err
		}
		resp, err := u.send(ctx, c, req)
		if err == nil {
			return resp, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		var ne net.Error
		if !reused || try > 0 || errors.Is(err, errNotReplayable) || errors.As(err, &ne) && ne.Timeout() {
			return nil, err
		}
	}
}

// errNotReplayable marks failures after response bytes arrived.
var errNotReplayable = errors.New("balancer: bad response from node")

type notReplayable struct{ err error }

func (e notReplayable) Error() string        { return e.err.Error() }
func (e notReplayable) Unwrap() []error      { return []error{e.err, errNotReplayable} }
func (e notReplayable) Is(target error) bool { return target == errNotReplayable }

// send writes req on c and reads the response head. On error c is closed.
func (u *upstream) send(ctx context.Context, c *upConn, req *http.Request) (*http.Response, error) {
	stop := context.AfterFunc(ctx, func() { _ = c.nc.SetDeadline(aLongTimeAgo) })
	fail := func(err error) (*http.Response, error) {
		stop()
		u.discard(c)
		return nil, err
	}
	if err := req.Write(c.bw); err != nil {
		return fail(err)
	}
	if err := c.bw.Flush(); err != nil {
		return fail(err)
	}
	if u.headerWait > 0 {
		_ = c.nc.SetReadDeadline(time.Now().Add(u.headerWait))
	}
	if _, err := c.br.Peek(1); err != nil {
		return fail(err)
	}
	var trace *httptrace.ClientTrace
	for n1xx := 0; ; n1xx++ {
		resp, err := http.ReadResponse(c.br, req)
		if err != nil {
			return fail(notReplayable{err})
		}
		code := resp.StatusCode
		if code >= 100 && code < 200 && code != http.StatusSwitchingProtocols {
			if n1xx >= 5 {
				return fail(notReplayable{errors.New("balancer: too many 1xx responses from node")})
			}
			if trace == nil {
				trace = httptrace.ContextClientTrace(ctx)
			}
			if trace != nil && trace.Got1xxResponse != nil {
				if err := trace.Got1xxResponse(code, textproto.MIMEHeader(resp.Header)); err != nil {
					return fail(notReplayable{err})
				}
			}
			continue
		}
		if code == http.StatusSwitchingProtocols {
			return fail(notReplayable{errors.New("balancer: unrequested protocol switch from node")})
		}
		if u.headerWait > 0 {
			_ = c.nc.SetReadDeadline(time.Time{})
		}
		keep := !resp.Close && !req.Close
		if resp.Body == http.NoBody {
			if !stop() {
				keep = false
			}
			if keep {
				u.put(c)
			} else {
				u.discard(c)
			}
			return resp, nil
		}
		resp.Body = &upBody{rc: resp.Body, u: u, c: c, stop: stop, keep: keep}
		return resp, nil
	}
}

var aLongTimeAgo = time.Unix(1, 0)

// upBody returns the connection to the pool when the body was read to its
// end and closed; otherwise it closes the connection.
type upBody struct {
	rc   io.ReadCloser
	u    *upstream
	c    *upConn
	stop func() bool
	keep bool
	eof  bool
	once sync.Once
}

func (b *upBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if err == io.EOF {
		b.eof = true
	}
	return n, err
}

func (b *upBody) Close() error {
	b.once.Do(func() {
		err := b.rc.Close()
		if b.stop() && b.keep && b.eof && err == nil {
			b.u.put(b.c)
		} else {
			b.u.discard(b.c)
		}
	})
	return nil
}

// get returns an idle connection (reused) or dials one. fresh skips the
// idle ones. At the connection cap it waits for an idle connection or a
// free slot.
func (u *upstream) get(ctx context.Context, fresh bool) (c *upConn, reused bool, err error) {
	var tick *time.Ticker
	for {
		if c := u.takeIdle(); c != nil {
			if !fresh {
				return c, true, nil
			}
			u.discard(c) // frees a slot for the new connection
		}
		if u.slots == nil || u.slots.tryAcquire() {
			break
		}
		// Saturated: the Transport's idle connections hold slots too and
		// nothing tells us when they go idle, so they are asked again now and then.
		u.freeOther()
		if tick == nil {
			tick = time.NewTicker(20 * time.Millisecond)
			defer tick.Stop()
		}
		select {
		case u.slots.ch <- struct{}{}:
		case <-u.idleReady:
			continue
		case <-tick.C:
			continue
		case <-ctx.Done():
			return nil, false, ctx.Err()
		}
		break
	}
	nc, err := u.dial(ctx, "tcp", u.addr)
	if err != nil {
		if u.slots != nil {
			u.slots.release()
		}
		return nil, false, err
	}
	return &upConn{nc: nc, br: bufio.NewReaderSize(nc, 4<<10), bw: bufio.NewWriterSize(nc, 4<<10)}, false, nil
}

func (u *upstream) takeIdle() *upConn {
	u.mu.Lock()
	defer u.mu.Unlock()
	for len(u.idle) > 0 {
		c := u.idle[len(u.idle)-1]
		u.idle[len(u.idle)-1] = nil
		u.idle = u.idle[:len(u.idle)-1]
		if u.idleTimeout > 0 && time.Since(c.idleAt) > u.idleTimeout {
			go u.discard(c) // Close may block briefly; not on the request path
			continue
		}
		if len(u.idle) > 0 {
			u.notifyIdle() // pass it on to the next waiter
		}
		return c
	}
	return nil
}

func (u *upstream) notifyIdle() {
	select {
	case u.idleReady <- struct{}{}:
	default:
	}
}

func (u *upstream) put(c *upConn) {
	c.idleAt = time.Now()
	u.mu.Lock()
	if len(u.idle) < u.maxIdle && (u.slots == nil || u.slots.dialWaiters.Load() == 0) {
		u.idle = append(u.idle, c)
		u.mu.Unlock()
		u.notifyIdle()
		return
	}
	u.mu.Unlock()
	u.discard(c)
}

func (u *upstream) discard(c *upConn) {
	_ = c.nc.Close()
	if u.slots != nil {
		u.slots.release()
	}
}

// closeOneIdle closes the oldest idle connection, freeing its slot for the
// node's http.Transport. It reports whether there was one.
func (u *upstream) closeOneIdle() bool {
	u.mu.Lock()
	if len(u.idle) == 0 {
		u.mu.Unlock()
		return false
	}
	c := u.idle[0]
	u.idle = append(u.idle[:0], u.idle[1:]...)
	u.mu.Unlock()
	u.discard(c)
	return true
}

// CloseIdle closes the idle connections (like
// http.Transport.CloseIdleConnections: later ones are pooled again).
func (u *upstream) CloseIdle() {
	u.mu.Lock()
	idle := u.idle
	u.idle = nil
	u.mu.Unlock()
	for _, c := range idle {
		u.discard(c)
	}
}

// slots caps a node's open connections (Config.MaxConnsPerNode) across its
// upstream and its http.Transport.
type slots struct {
	ch          chan struct{}
	dialWaiters atomic.Int32 // Transport dials waiting: upstream closes rather than pools
}

func newSlots(n int) *slots { return &slots{ch: make(chan struct{}, n)} }

func (s *slots) tryAcquire() bool {
	select {
	case s.ch <- struct{}{}:
		return true
	default:
		return false
	}
}

// acquireDial takes a slot for a Transport dial, waiting until one is free
// or ctx ends. While it waits the upstream closes connections it would
// pool; free closes one idle now.
func (s *slots) acquireDial(ctx context.Context, free func()) error {
	if s.tryAcquire() {
		return nil
	}
	s.dialWaiters.Add(1)
	defer s.dialWaiters.Add(-1)
	free()
	select {
	case s.ch <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *slots) release() { <-s.ch }

// slotConn releases its slot when closed.
type slotConn struct {
	net.Conn
	s    *slots
	once sync.Once
}

func (c *slotConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.s.release)
	return err
}
