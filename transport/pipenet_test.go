package transport

import (
	"context"
	"fmt"
	"net"
	"os"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"testing/synctest"
)

// pipeNet is an in-memory network for tests run under testing/synctest:
// a dial gets one end of a net.Pipe and the listener at the address the
// other. Goroutines blocked on a pipe are durably blocked, so the
// bubble's fake clock moves as soon as everything waits: timeouts,
// back-offs and deadlines take no real time. Addresses look like
// 127.0.0.1:port (ports from 1) but reach only this pipeNet; a dial to an
// address nobody listens on is refused (ECONNREFUSED).
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
	a, b := net.Pipe()
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
