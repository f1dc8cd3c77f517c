package transport

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"testing/synctest"
	"time"
)

// pipeNet is an in-memory network for tests run under testing/synctest:
// a dial gets one end of a memConn pair and the listener at the address
// the other. Goroutines blocked on a memConn are durably blocked (they
// wait on channels), so the bubble's fake clock moves as soon as
// everything waits: timeouts, back-offs and deadlines take no real time.
// Like TCP, each direction buffers (memBuf bytes): a write returns before
// the peer reads. Addresses look like 127.0.0.1:port (ports from 1) but
// reach only this pipeNet; a dial to an address nobody listens on is
// refused (ECONNREFUSED).
type pipeNet struct {
	mu    sync.Mutex
	ls    map[int]*pipeListener
	conns []net.Conn
	next  int
}

func newPipeNet() *pipeNet { return &pipeNet{ls: map[int]*pipeListener{}} }

// listen is a Receiver's listen hook: port 0 picks an unused port.
func (n *pipeNet) listen(_ context.Context, addr string) (net.Listener, error) {
	_, ps, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	port, _ := strconv.Atoi(ps)
	n.mu.Lock()
	defer n.mu.Unlock()
	if port == 0 {
		n.next++
		port = n.next
	}
	if n.ls[port] != nil {
		return nil, &net.OpError{Op: "listen", Net: "pipe", Err: os.NewSyscallError("bind", syscall.EADDRINUSE)}
	}
	l := &pipeListener{n: n, port: port, conns: make(chan net.Conn), done: make(chan struct{})}
	n.ls[port] = l
	return l, nil
}

// dial is a Sender's dial hook.
func (n *pipeNet) dial(ctx context.Context, addr string) (net.Conn, error) {
	_, ps, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	port, _ := strconv.Atoi(ps)
	n.mu.Lock()
	l := n.ls[port]
	n.mu.Unlock()
	refused := &net.OpError{Op: "dial", Net: "pipe", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	if l == nil {
		return nil, refused
	}
	a, b := memPipe()
	select {
	case l.conns <- b:
	case <-l.done:
		return nil, refused
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	n.mu.Lock()
	n.conns = append(n.conns, a, b)
	n.mu.Unlock()
	return a, nil
}

// cut closes every connection made so far, like a network failure.
func (n *pipeNet) cut() {
	n.mu.Lock()
	cs := n.conns
	n.conns = nil
	n.mu.Unlock()
	for _, c := range cs {
		c.Close()
	}
}

type pipeListener struct {
	n     *pipeNet
	port  int
	conns chan net.Conn
	once  sync.Once
	done  chan struct{}
}

func (l *pipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, fmt.Errorf("accept on pipe port %d: %w", l.port, net.ErrClosed)
	}
}

func (l *pipeListener) Close() error {
	l.once.Do(func() {
		close(l.done)
		l.n.mu.Lock()
		delete(l.n.ls, l.port)
		l.n.mu.Unlock()
	})
	return nil
}

func (l *pipeListener) Addr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: l.port}
}

// startPipeReceiver starts a receiver on n; it is stopped at cleanup.
func startPipeReceiver(t *testing.T, n *pipeNet, c Config, h Handler) *Receiver {
	t.Helper()
	r, err := NewReceiver(c, h)
	if err != nil {
		t.Fatal(err)
	}
	r.listen = n.listen
	if err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := r.Stop(context.Background()); err != nil {
			t.Error(err)
		}
	})
	return r
}

// newPipeSender returns a sender dialling on n, stopped at cleanup.
func newPipeSender(t *testing.T, n *pipeNet, c Config) *Sender {
	t.Helper()
	s, err := NewSender(c)
	if err != nil {
		t.Fatal(err)
	}
	s.dial = n.dial
	t.Cleanup(func() {
		if err := s.Stop(context.Background()); err != nil {
			t.Error(err)
		}
	})
	return s
}

// inBubble runs f under testing/synctest with a fresh pipeNet.
func inBubble(t *testing.T, f func(t *testing.T, n *pipeNet)) {
	synctest.Test(t, func(t *testing.T) { f(t, newPipeNet()) })
}

// memBuf is the bytes one direction of a memConn buffers.
const memBuf = 256 << 10

// memPipe returns the two ends of a buffered in-memory connection.
func memPipe() (*memConn, *memConn) {
	ab, ba := newMemStream(), newMemStream()
	return &memConn{in: ba, out: ab, local: 1}, &memConn{in: ab, out: ba, local: 2}
}

// memStream is one direction: bytes written and not yet read.
type memStream struct {
	mu     sync.Mutex
	data   []byte
	closed bool
	change chan struct{} // capacity 1: something changed (data, room, close, deadline)
}

func newMemStream() *memStream { return &memStream{change: make(chan struct{}, 1)} }

func (s *memStream) notify() {
	select {
	case s.change <- struct{}{}:
	default:
	}
}

func (s *memStream) close() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.notify()
}

// memConn is one end of a memPipe; a net.Conn with deadlines.
type memConn struct {
	in, out *memStream
	local   int

	mu        sync.Mutex
	rdl, wdl  time.Time
	closeOnce sync.Once
}

// wait blocks until s changes or the deadline dl (zero: none) passes.
func wait(s *memStream, dl time.Time) error {
	if dl.IsZero() {
		<-s.change
		return nil
	}
	d := time.Until(dl)
	if d <= 0 {
		return os.ErrDeadlineExceeded
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-s.change:
		return nil
	case <-t.C:
		return os.ErrDeadlineExceeded
	}
}

func (c *memConn) deadlines() (time.Time, time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.rdl, c.wdl
}

func (c *memConn) Read(b []byte) (int, error) {
	for {
		s := c.in
		s.mu.Lock()
		if len(s.data) > 0 {
			n := copy(b, s.data)
			s.data = s.data[n:]
			s.mu.Unlock()
			s.notify() // room for the writer
			return n, nil
		}
		closed := s.closed
		s.mu.Unlock()
		if closed {
			return 0, io.EOF
		}
		rdl, _ := c.deadlines()
		if err := wait(s, rdl); err != nil {
			return 0, &net.OpError{Op: "read", Net: "mem", Err: err}
		}
	}
}

func (c *memConn) Write(b []byte) (int, error) {
	n := 0
	for n < len(b) {
		s := c.out
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			return n, &net.OpError{Op: "write", Net: "mem", Err: syscall.EPIPE}
		}
		if k := min(len(b)-n, memBuf-len(s.data)); k > 0 {
			s.data = append(s.data, b[n:n+k]...)
			n += k
			s.mu.Unlock()
			s.notify()
			continue
		}
		s.mu.Unlock()
		_, wdl := c.deadlines()
		if err := wait(s, wdl); err != nil {
			return n, &net.OpError{Op: "write", Net: "mem", Err: err}
		}
	}
	return n, nil
}

// Close ends both directions: the peer reads EOF, writes fail.
func (c *memConn) Close() error {
	c.closeOnce.Do(func() { c.in.close(); c.out.close() })
	return nil
}

func (c *memConn) LocalAddr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: c.local}
}
func (c *memConn) RemoteAddr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 3 - c.local}
}

func (c *memConn) SetDeadline(t time.Time) error {
	c.SetReadDeadline(t)
	return c.SetWriteDeadline(t)
}

func (c *memConn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	c.rdl = t
	c.mu.Unlock()
	c.in.notify() // a waiting reader looks again
	return nil
}

func (c *memConn) SetWriteDeadline(t time.Time) error {
	c.mu.Lock()
	c.wdl = t
	c.mu.Unlock()
	c.out.notify()
	return nil
}
