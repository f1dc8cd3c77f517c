package transport

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gomcat/gomcat/internal/testkit"
)

// seqChecker is a handler checking that payloads carry 0, 1, 2, ... in order.
type seqChecker struct {
	mu   sync.Mutex
	next uint64
	bad  error
	slow func(n uint64)
}

func (c *seqChecker) ServeMessage(_ context.Context, _ Peer, m *Message) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if got := binary.BigEndian.Uint64(m.Payload); got != c.next && c.bad == nil {
		c.bad = errors.New("out of order or duplicate: got " + strconv.FormatUint(got, 10) + " want " + strconv.FormatUint(c.next, 10))
	}
	c.next++
	if c.slow != nil {
		c.slow(c.next)
	}
	return nil
}

func (c *seqChecker) count() (uint64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.next, c.bad
}

func seqMsg(i uint64, opts int, size int) Message {
	p := make([]byte, max(size, 8))
	binary.BigEndian.PutUint64(p, i)
	return Message{Channel: ChannelSessions, Options: opts, Payload: p}
}

func TestOrderAsyncSlowReceiver(t *testing.T) { inBubble(t, testOrderAsyncSlowReceiver) }

func testOrderAsyncSlowReceiver(t *testing.T, pn *pipeNet) {
	c := testConfig(t)
	c.MaxFrameSize = 64 << 10
	c.MaxQueueBytes = 1 << 20 // back-pressure on the sender, not unbounded buffering
	c.Timeout = 5 * time.Second
	h := &seqChecker{slow: func(n uint64) {
		if n%5000 == 0 {
			time.Sleep(5 * time.Millisecond)
		}
	}}
	r := startPipeReceiver(t, pn, c, h)
	s := newPipeSender(t, pn, c)
	addr := r.Addr().String()
	ctx := ctxT(t)
	const n = 100_000
	for i := uint64(0); i < n; i++ {
		opts := OptAsync
		switch i % 20000 {
		case 9999:
			opts = OptUseAck
		case 19999:
			opts = OptUseAck | OptSync
		}
		if err := s.Send(ctx, addr, seqMsg(i, opts, 64)); err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
	}
	if err := s.Ping(ctx, addr); err != nil {
		t.Fatal(err)
	}
	got, err := h.count()
	if err != nil || got != n {
		t.Fatalf("received %d of %d: %v", got, n, err)
	}
	testkit.WaitWithin(t, "queue drained", time.Second, func() bool { return s.Stats()[0].QueuedBytes == 0 })
	if st := s.Stats()[0]; st.Acked != n+1 || st.Failed != 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestSyncTimeout(t *testing.T) { inBubble(t, testSyncTimeout) }

func testSyncTimeout(t *testing.T, pn *pipeNet) {
	c := testConfig(t)
	c.Timeout = 250 * time.Millisecond
	release := make(chan struct{})
	var handled atomic.Int64
	r := startPipeReceiver(t, pn, c, HandlerFunc(func(ctx context.Context, _ Peer, m *Message) error {
		handled.Add(1)
		if string(m.Payload) == "slow" {
			select {
			case <-release:
			case <-ctx.Done():
			}
		}
		return nil
	}))
	s := newPipeSender(t, pn, c)
	addr := r.Addr().String()
	ctx := context.Background()
	start := time.Now()
	err := s.Send(ctx, addr, Message{Options: 6, Payload: []byte("slow")})
	if waited := time.Since(start); waited != c.Timeout {
		t.Fatalf("waited %v for the ack, want the timeout (%v)", waited, c.Timeout)
	}
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("got %v, want ErrTimeout", err)
	}
	// use_ack (no sync) is acked before handling: it is not blocked by
	// the handler, only ordered behind it.
	errc := make(chan error, 1)
	go func() { errc <- s.Send(ctx, addr, Message{Options: 2, Payload: []byte("next")}) }()
	close(release)
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := s.Send(cctx, addr, Message{Options: 6, Payload: []byte("x")}); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled ctx: %v", err)
	}
}

func TestQueueFullBackPressure(t *testing.T) { inBubble(t, testQueueFullBackPressure) }

func testQueueFullBackPressure(t *testing.T, pn *pipeNet) {
	c := testConfig(t)
	c.Timeout = 150 * time.Millisecond
	c.MaxFrameSize = 1024
	c.MaxQueueBytes = 8 << 10
	release := make(chan struct{})
	r := startPipeReceiver(t, pn, c, HandlerFunc(func(ctx context.Context, _ Peer, _ *Message) error {
		select {
		case <-release:
		case <-ctx.Done():
		}
		return nil
	}))
	defer close(release)
	var failed atomic.Int64
	c.OnError = func(string, *Message, error) { failed.Add(1) }
	s := newPipeSender(t, pn, c)
	addr := r.Addr().String()
	var err error
	sent := 0
	for ; sent < 1000; sent++ {
		start := time.Now()
		if err = s.Send(context.Background(), addr, Message{Options: OptAsync, Payload: make([]byte, 900)}); err != nil {
			if time.Since(start) < c.Timeout {
				t.Fatalf("gave up before the timeout: %v", err)
			}
			break
		}
	}
	if !errors.Is(err, ErrQueueFull) {
		t.Fatalf("after %d sends: %v, want ErrQueueFull", sent, err)
	}
	st := s.Stats()[0]
	if st.QueuedBytes > c.MaxQueueBytes {
		t.Fatalf("queue grew to %d bytes, bound %d", st.QueuedBytes, c.MaxQueueBytes)
	}
	if sent == 0 || failed.Load() != 0 {
		t.Fatalf("sent %d, silently failed %d", sent, failed.Load())
	}
}

func TestTooLarge(t *testing.T) {
	c := testConfig(t)
	c.MaxFrameSize = 1024
	c.MaxQueueBytes = 4096
	s := newSender(t, c)
	if err := s.Send(context.Background(), "127.0.0.1:1", Message{Payload: make([]byte, 1024)}); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("got %v", err)
	}
}

func TestReconnectAfterRestart(t *testing.T) { inBubble(t, testReconnectAfterRestart) }

func testReconnectAfterRestart(t *testing.T, pn *pipeNet) {
	c := testConfig(t)
	h := &seqChecker{}
	r1, err := NewReceiver(c, h)
	if err != nil {
		t.Fatal(err)
	}
	r1.listen = pn.listen
	if err := r1.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	addr := r1.Addr().String()
	s := newPipeSender(t, pn, c)
	ctx := ctxT(t)
	for i := uint64(0); i < 10; i++ {
		if err := s.Send(ctx, addr, seqMsg(i, 6, 8)); err != nil {
			t.Fatal(err)
		}
	}
	if err := r1.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	rc := c
	rc.Port = r1.Port()
	r2 := startPipeReceiver(t, pn, rc, &seqChecker{next: 10})
	for i := uint64(10); i < 20; i++ {
		if err := s.Send(ctx, addr, seqMsg(i, 6, 8)); err != nil {
			t.Fatalf("after restart: %v", err)
		}
	}
	if n, err := r2.h.(*seqChecker).count(); n != 20 || err != nil {
		t.Fatalf("new receiver got up to %d: %v", n, err)
	}
	if st := s.Stats()[0]; st.Reconnects != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestUnreachableAndClosePeer(t *testing.T) { inBubble(t, testUnreachableAndClosePeer) }

func testUnreachableAndClosePeer(t *testing.T, pn *pipeNet) {
	c := testConfig(t)
	c.Timeout = 200 * time.Millisecond
	var mu sync.Mutex
	var reported []error
	c.OnError = func(_ string, m *Message, err error) {
		mu.Lock()
		reported = append(reported, err)
		mu.Unlock()
	}
	s := newPipeSender(t, pn, c)
	dead := "127.0.0.1:9" // nothing listens there on pn
	if err := s.Send(context.Background(), dead, Message{Options: OptAsync, Payload: []byte("a")}); err != nil {
		t.Fatal(err)
	}
	err := s.Send(context.Background(), dead, Message{Options: 6, Payload: []byte("b")})
	if !errors.Is(err, ErrUnreachable) && !errors.Is(err, ErrTimeout) {
		t.Fatalf("got %v", err)
	}
	testkit.WaitWithin(t, "async failure reported", 2*time.Second, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(reported) == 1 && errors.Is(reported[0], ErrUnreachable)
	})

	// ClosePeer fails what the peer had not acknowledged.
	block := make(chan struct{})
	r := startPipeReceiver(t, pn, testConfig(t), HandlerFunc(func(ctx context.Context, _ Peer, _ *Message) error {
		select {
		case <-block:
		case <-ctx.Done():
		}
		return nil
	}))
	defer close(block)
	addr := r.Addr().String()
	for range 3 {
		if err := s.Send(context.Background(), addr, Message{Options: OptAsync, Payload: []byte("x")}); err != nil {
			t.Fatal(err)
		}
	}
	errc := make(chan error, 1)
	go func() { errc <- s.Send(context.Background(), addr, Message{Options: 6, Payload: []byte("y")}) }()
	testkit.WaitWithin(t, "messages pending", time.Second, func() bool {
		for _, st := range s.Stats() {
			if st.Addr == addr && st.QueuedMessages == 4 {
				return true
			}
		}
		return false
	})
	s.ClosePeer(addr)
	if err := <-errc; !errors.Is(err, ErrPeerClosed) {
		t.Fatalf("waiting send: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(reported) != 4 || !errors.Is(reported[3], ErrPeerClosed) {
		t.Fatalf("reported %v", reported)
	}
}

// proxy forwards TCP connections and can cut them all.
type proxy struct {
	ln    net.Listener
	to    string
	mu    sync.Mutex
	conns []net.Conn
	wg    sync.WaitGroup
}

func newProxy(t *testing.T, to string) *proxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, to: to}
	p.wg.Go(func() {
		for {
			a, err := ln.Accept()
			if err != nil {
				return
			}
			b, err := net.Dial("tcp", to)
			if err != nil {
				a.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, a, b)
			p.mu.Unlock()
			p.wg.Go(func() { io.Copy(a, b); a.Close() })
			p.wg.Go(func() { io.Copy(b, a); b.Close() })
		}
	})
	t.Cleanup(func() { ln.Close(); p.cut(); p.wg.Wait() })
	return p
}

func (p *proxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// Connections cut mid-stream: everything arrives once, in order.
func TestResendAfterCutIsExactlyOnce(t *testing.T) {
	c := testConfig(t)
	h := &seqChecker{}
	r := startReceiver(t, c, h)
	px := newProxy(t, r.Addr().String())
	s := newSender(t, c)
	addr := px.ln.Addr().String()
	ctx := ctxT(t)
	const n = 20_000
	for i := uint64(0); i < n; i++ {
		opts := OptAsync
		if i%1000 == 999 {
			opts = OptUseAck | OptSync
		}
		if err := s.Send(ctx, addr, seqMsg(i, opts, 200)); err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		if i%4000 == 2000 {
			px.cut()
		}
	}
	if err := s.Ping(ctx, addr); err != nil {
		t.Fatal(err)
	}
	got, err := h.count()
	if got != n || err != nil {
		t.Fatalf("received %d of %d: %v", got, n, err)
	}
	st := s.Stats()[0]
	if st.Reconnects == 0 || st.Failed != 0 {
		t.Fatalf("stats %+v", st)
	}
	t.Logf("stats %+v, receiver %+v", st, r.Stats())
}

// A peer whose receiver is gone (connections refused) fails waited-for
// sends with ErrUnreachable long before Timeout; queued async messages
// wait and reach the peer once it is back.
func TestRefusedPeerFailsWaitedSendsFast(t *testing.T) {
	inBubble(t, testRefusedPeerFailsWaitedSendsFast)
}

func testRefusedPeerFailsWaitedSendsFast(t *testing.T, pn *pipeNet) {
	c := testConfig(t)
	c.Timeout = time.Minute // a send that waited for it would hit ctx first
	r1, err := NewReceiver(c, &seqChecker{})
	if err != nil {
		t.Fatal(err)
	}
	r1.listen = pn.listen
	if err := r1.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	addr := r1.Addr().String()
	s := newPipeSender(t, pn, c)
	ctx := ctxT(t)
	if err := s.Send(ctx, addr, seqMsg(0, 6, 8)); err != nil {
		t.Fatal(err)
	}
	if err := r1.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	testkit.WaitWithin(t, "connection lost", 5*time.Second, func() bool { return !s.Stats()[0].Connected })
	if err := s.Send(ctx, addr, seqMsg(1, OptAsync, 8)); err != nil {
		t.Fatal(err)
	}
	for _, opts := range []int{6, 2, 6} {
		if err := s.Send(ctx, addr, seqMsg(99, opts, 8)); !errors.Is(err, ErrUnreachable) {
			t.Fatalf("send (options %d) to a refusing peer: %v, want ErrUnreachable", opts, err)
		}
	}
	if st := s.Stats()[0]; st.Failed != 3 || st.QueuedMessages != 1 {
		t.Fatalf("stats %+v: want 3 failed and the async message still queued", st)
	}
	rc := c
	rc.Port = r1.Port()
	r2 := startPipeReceiver(t, pn, rc, &seqChecker{next: 1})
	if err := s.Ping(ctx, addr); err != nil {
		t.Fatalf("ping after the peer came back: %v", err)
	}
	if n, err := r2.h.(*seqChecker).count(); n != 2 || err != nil {
		t.Fatalf("the returning peer got up to %d: %v (want the queued async message only)", n, err)
	}
}
