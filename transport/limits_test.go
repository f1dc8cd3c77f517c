package transport

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gomcat/gomcat/internal/testkit"
)

// closedByPeer reports whether the receiver closed nc within timeout.
func closedByPeer(t *testing.T, nc net.Conn, timeout time.Duration) bool {
	t.Helper()
	nc.SetReadDeadline(time.Now().Add(timeout))
	_, err := io.Copy(io.Discard, nc)
	return err == nil // EOF: closed; a deadline error: still open
}

func dialT(t *testing.T, addr string) net.Conn {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	return nc
}

func TestReceiverConnectionCaps(t *testing.T) {
	c := testConfig(t)
	c.MaxConnections = 6
	c.MaxConnectionsPerHost = 4
	r := startReceiver(t, c, HandlerFunc(func(context.Context, Peer, *Message) error { return nil }))
	addr := r.Addr().String()
	for range 4 {
		dialT(t, addr)
	}
	testkit.WaitWithin(t, "4 connections open", 2*time.Second, func() bool { return r.Stats().Active == 4 })
	// The fifth from the same host is closed at once and counted.
	if !closedByPeer(t, dialT(t, addr), 2*time.Second) {
		t.Fatal("connection over the per-host cap left open")
	}
	testkit.WaitWithin(t, "refusal counted", time.Second, func() bool { return r.Stats().Refused == 1 })
	// Another source address (127.0.0.2 is loopback too) still gets in,
	// up to the total cap.
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}}
	for i := range 3 {
		nc, err := d.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { nc.Close() })
		if i == 2 {
			if !closedByPeer(t, nc, 2*time.Second) {
				t.Fatal("connection over the total cap left open")
			}
		}
	}
	testkit.WaitWithin(t, "two refusals", time.Second, func() bool { return r.Stats().Refused == 2 })
	if st := r.Stats(); st.Active != 6 {
		t.Fatalf("active %d, want 6", st.Active)
	}
}

func TestReceiverHelloLimit(t *testing.T) {
	c := testConfig(t)
	r := startReceiver(t, c, HandlerFunc(func(context.Context, Peer, *Message) error { return nil }))
	// A first frame claiming more than maxHelloBody is refused before any
	// of its body is read, although it is far below MaxFrameSize.
	nc := dialT(t, r.Addr().String())
	nc.Write(binary.BigEndian.AppendUint32([]byte(startMarker), maxHelloBody+1))
	if !closedByPeer(t, nc, 2*time.Second) {
		t.Fatal("oversized hello left open")
	}
	testkit.WaitWithin(t, "protocol error counted", time.Second, func() bool { return r.Stats().ProtocolErrors == 1 })
}

// Under testing/synctest on pipeNet: the timeouts pass on the bubble's clock.
func TestReceiverFrameAndIdleTimeouts(t *testing.T) { inBubble(t, testReceiverFrameAndIdleTimeouts) }

func testReceiverFrameAndIdleTimeouts(t *testing.T, pn *pipeNet) {
	c := testConfig(t)
	c.Timeout = 200 * time.Millisecond
	c.IdleTimeout = 200 * time.Millisecond
	r := startPipeReceiver(t, pn, c, HandlerFunc(func(context.Context, Peer, *Message) error { return nil }))
	addr := r.Addr().String()
	dialT := func(t *testing.T, addr string) net.Conn {
		t.Helper()
		nc, err := pn.dial(context.Background(), addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { nc.Close() })
		return nc
	}
	// Half a hello, then nothing: cut once the whole frame is late.
	nc := dialT(t, addr)
	nc.Write(rawHello()[:10])
	if !closedByPeer(t, nc, 3*time.Second) {
		t.Fatal("half a hello left open")
	}
	// Half a data frame after the hello: the same.
	nc = dialT(t, addr)
	f := appendFrame(nil, appendEnvelope(nil, &envelope{typ: typeData, ch: 1, opts: OptAsync, id: 1, payload: make([]byte, 100)}))
	nc.Write(append(rawHello(), f[:50]...))
	if !closedByPeer(t, nc, 3*time.Second) {
		t.Fatal("half a frame left open")
	}
	testkit.WaitWithin(t, "frame timeouts counted", time.Second, func() bool { return r.Stats().FrameTimeouts == 2 })
	// A hello, then silence: closed as idle.
	nc = dialT(t, addr)
	nc.Write(rawHello())
	if !closedByPeer(t, nc, 3*time.Second) {
		t.Fatal("idle connection left open")
	}
	testkit.WaitWithin(t, "idle close counted", time.Second, func() bool { return r.Stats().IdleClosed == 1 })
}

// TestFrameReaderDeadlines runs a frameReader on a net.Pipe under synctest:
// a frame trickled byte by byte, each byte well within the timeout, is cut
// when the whole frame is late; between frames only idle counts.
func TestFrameReaderDeadlines(t *testing.T) {
	hello := rawHello()
	synctest.Test(t, func(t *testing.T) {
		srv, cli := net.Pipe()
		defer srv.Close()
		defer cli.Close()
		fr := newFrameReader(srv, srv, time.Second, maxHelloBody)
		fr.idle = 10 * time.Second
		var wg sync.WaitGroup
		defer wg.Wait() // after the Closes below (defers run last first)
		defer srv.Close()
		wg.Go(func() {
			cli.Write(hello) // the hello arrives at once
			time.Sleep(9 * time.Second)
			for _, b := range hello { // idle 9 s (< 10 s), then a trickle
				if _, err := cli.Write([]byte{b}); err != nil {
					return
				}
				time.Sleep(100 * time.Millisecond)
			}
		})
		start := time.Now()
		if _, err := fr.next(false); err != nil {
			t.Fatalf("hello: %v", err)
		}
		_, err := fr.next(true)
		if !errors.Is(err, errFrameTimeout) {
			t.Fatalf("trickled frame: %v, want errFrameTimeout", err)
		}
		// 9 s idle + 1 s for the frame (+ its length at 256 KiB/s: 0).
		if got := time.Since(start); got != 10*time.Second {
			t.Fatalf("cut after %v, want 10s", got)
		}
	})
	synctest.Test(t, func(t *testing.T) {
		srv, cli := net.Pipe()
		defer srv.Close()
		defer cli.Close()
		fr := newFrameReader(srv, srv, time.Second, 1<<20)
		fr.idle, fr.minRate = 5*time.Second, 1<<10
		go cli.Write(hello)
		if _, err := fr.next(true); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		if _, err := fr.next(true); !errors.Is(err, errIdle) {
			t.Fatalf("silent connection: %v, want errIdle", err)
		}
		if got := time.Since(start); got != 5*time.Second {
			t.Fatalf("idle after %v, want 5s", got)
		}
	})
	synctest.Test(t, func(t *testing.T) {
		// A long frame gets length/minRate on top of the timeout.
		srv, cli := net.Pipe()
		defer srv.Close()
		defer cli.Close()
		fr := newFrameReader(srv, srv, time.Second, 1<<20)
		fr.minRate = 1 << 10
		f := appendFrame(nil, make([]byte, 4<<10-frameOverhead))
		var wg sync.WaitGroup
		defer wg.Wait()
		defer srv.Close()
		wg.Go(func() {
			for i := 0; i < len(f); i += 512 { // 512 B/s: too slow for 1 KiB/s
				if _, err := cli.Write(f[i:min(i+512, len(f))]); err != nil {
					return
				}
				time.Sleep(time.Second)
			}
		})
		start := time.Now()
		if _, err := fr.next(true); !errors.Is(err, errFrameTimeout) {
			t.Fatalf("slow frame: %v, want errFrameTimeout", err)
		}
		if got := time.Since(start); got != 5*time.Second { // 1 s + 4 KiB at 1 KiB/s
			t.Fatalf("cut after %v, want 5s", got)
		}
	})
}

func TestReceiverAdmit(t *testing.T) {
	c := testConfig(t)
	var got []Peer
	c.Admit = func(_ context.Context, p Peer) error {
		got = append(got, p)
		if p.Name != "node1" {
			return errors.New("not a member")
		}
		return nil
	}
	var from Peer
	r := startReceiver(t, c, HandlerFunc(func(_ context.Context, p Peer, _ *Message) error { from = p; return nil }))
	addr := r.Addr().String()
	// "raw" is refused: nothing it sends reaches the handler.
	nc := dialT(t, addr)
	nc.Write(append(rawHello(), appendFrame(nil, appendEnvelope(nil, &envelope{typ: typeData, ch: 1, id: 1}))...))
	if !closedByPeer(t, nc, 2*time.Second) {
		t.Fatal("unadmitted connection left open")
	}
	if st := r.Stats(); st.Unadmitted != 1 || st.Messages != 0 {
		t.Fatalf("stats %+v, want 1 unadmitted, no message", st)
	}
	s := newSender(t, c)
	if err := s.Send(ctxT(t), addr, Message{Channel: 1, Options: 6, Payload: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	if from.Name != "node1" || from.Host.String() != "127.0.0.1" {
		t.Fatalf("handler saw %+v, want node1 from 127.0.0.1", from)
	}
	if len(got) != 2 || got[0].Host.String() != "127.0.0.1" {
		t.Fatalf("admit saw %+v", got)
	}
}

func TestFrameReaderStartsSmall(t *testing.T) {
	var in []byte
	for i := range 400 {
		in = append(in, appendFrame(nil, bytes.Repeat([]byte{byte(i)}, 1000))...)
	}
	fr := newFrameReader(bytes.NewReader(in), nil, 0, 1<<20)
	if len(fr.buf) != firstReadBuf {
		t.Fatalf("first buffer %d bytes, want %d", len(fr.buf), firstReadBuf)
	}
	for i := range 400 {
		b, err := fr.next(true)
		if err != nil || len(b) != 1000 || b[0] != byte(i) {
			t.Fatalf("frame %d: %d bytes, %v", i, len(b), err)
		}
	}
	if len(fr.buf) != readBufSize {
		t.Fatalf("busy buffer %d bytes, want %d", len(fr.buf), readBufSize)
	}
}

// A run of frames bigger than maxKeepBuf reuses one grown buffer; the
// first smaller frame lets it go.
func TestFrameReaderKeepsBigBufferForBigFrames(t *testing.T) {
	big := bytes.Repeat([]byte{1}, maxKeepBuf+maxKeepBuf/4)
	var in []byte
	for range 3 {
		in = append(in, appendFrame(nil, big)...)
	}
	in = append(in, appendFrame(nil, []byte("small"))...)
	in = append(in, appendFrame(nil, []byte("small"))...)
	fr := newFrameReader(bytes.NewReader(in), nil, 0, 4<<20)
	var grown []byte
	for i := range 3 {
		b, err := fr.next(true)
		if err != nil || len(b) != len(big) {
			t.Fatalf("frame %d: %d bytes, %v", i, len(b), err)
		}
		if i == 0 {
			grown = fr.buf
		} else if &fr.buf[0] != &grown[0] {
			t.Fatalf("frame %d: the buffer was grown again", i)
		}
	}
	for range 2 {
		if b, err := fr.next(true); err != nil || string(b) != "small" {
			t.Fatalf("small frame: %q, %v", b, err)
		}
	}
	if _, err := fr.next(true); err != io.EOF { // empty now: the next read starts afresh
		t.Fatalf("after the frames: %v, want EOF", err)
	}
	if len(fr.buf) > maxKeepBuf {
		t.Fatalf("buffer kept at %d bytes after small frames", len(fr.buf))
	}
}
