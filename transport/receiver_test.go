package transport

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gomcat/gomcat/internal/seal"
	"github.com/gomcat/gomcat/internal/testkit"
)

// rawHello is a valid unsealed hello frame.
func rawHello() []byte {
	e := envelope{typ: typeHello, payload: appendHello(nil, hello{peer: Peer{Name: "raw"}, epoch: 1})}
	return appendFrame(nil, appendEnvelope(nil, &e))
}

func TestReceiverClosesOnlyBadConnections(t *testing.T) {
	good := validFrames()[0]
	wrongVersion := appendFrame(nil, append([]byte{9}, appendEnvelope(nil, &envelope{typ: typeData, id: 5})[1:]...))
	tests := []struct {
		name string
		in   []byte
	}{
		{"bad marker", append(rawHello(), append([]byte("FLT2003"), good[7:]...)...)},
		{"huge length", append(rawHello(), binary.BigEndian.AppendUint32([]byte(startMarker), 0x7fffffff)...)},
		{"truncated", append(rawHello(), good[:len(good)-3]...)},
		{"wrong version", append(rawHello(), wrongVersion...)},
		{"garbage", bytes.Repeat([]byte("\x00\xffgarbage"), 100)},
		{"no hello", good},
		{"hello twice", append(rawHello(), rawHello()...)},
	}
	c := testConfig(t)
	var n atomic.Int64
	r := startReceiver(t, c, HandlerFunc(func(context.Context, Peer, *Message) error { n.Add(1); return nil }))
	s := newSender(t, c)
	addr := r.Addr().String()
	ctx := ctxT(t)
	if err := s.Send(ctx, addr, Message{Options: 6, Payload: []byte("before")}); err != nil {
		t.Fatal(err)
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			nc, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			nc.Write(tt.in)
			if tt.name == "truncated" {
				nc.(*net.TCPConn).CloseWrite()
			}
			nc.SetReadDeadline(time.Now().Add(5 * time.Second))
			if _, err := io.ReadAll(nc); err != nil {
				t.Fatalf("receiver did not close the connection: %v", err)
			}
			testkit.WaitWithin(t, "protocol error counted", time.Second, func() bool {
				return r.Stats().ProtocolErrors == uint64(i+1)
			})
			// The healthy peer's connection is unaffected.
			if err := s.Send(ctx, addr, Message{Options: 6, Payload: []byte(tt.name)}); err != nil {
				t.Fatal(err)
			}
		})
	}
	if st := s.Stats()[0]; st.Reconnects != 0 {
		t.Fatalf("healthy connection was disturbed: %+v", st)
	}
}

// Under testing/synctest on pipeNet: the sends that cannot get through
// time out on the bubble's clock.
func TestReceiverSealed(t *testing.T) { inBubble(t, testReceiverSealed) }

func testReceiverSealed(t *testing.T, pn *pipeNet) {
	key := bytes.Repeat([]byte{1}, 16)
	c := testConfig(t)
	c.Key = key
	c.Timeout = 300 * time.Millisecond
	var handled atomic.Int64
	r := startPipeReceiver(t, pn, c, HandlerFunc(func(context.Context, Peer, *Message) error { handled.Add(1); return nil }))
	addr := r.Addr().String()
	ctx := context.Background()
	{ // wrong key
		wc := c
		wc.Key = bytes.Repeat([]byte{2}, 16)
		s := newPipeSender(t, pn, wc)
		if err := s.Send(ctx, addr, Message{Options: 6, Payload: []byte("x")}); err == nil {
			t.Fatal("a sender with the wrong key delivered")
		}
		if err := s.Send(ctx, addr, Message{Options: 8, Payload: []byte("y")}); err != nil {
			t.Fatal(err) // queued; fails later
		}
		testkit.WaitWithin(t, "async failure", 5*time.Second, func() bool { return s.Stats()[0].Failed >= 2 })
	}
	{ // no key
		nc := c
		nc.Key = nil
		s := newPipeSender(t, pn, nc)
		if err := s.Send(ctx, addr, Message{Options: 6, Payload: []byte("x")}); err == nil {
			t.Fatal("a sender without the key delivered")
		}
	}
	{ // hello bound to another connection
		ring, _ := seal.NewRing(key)
		sl, _ := newSealers(ring)
		e := envelope{typ: typeHello, payload: appendHello(nil, hello{peer: Peer{Name: "x"}, epoch: 3})}
		other := newConnSeal(sl, dirHello, newGreeting([16]byte{1}, 1), [16]byte{}, 0)
		f := appendFrame(nil, other.seal(nil, appendEnvelope(nil, &e)))
		conn, err := pn.dial(ctx, addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		conn.Write(f)
		conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := io.ReadAll(conn); err != nil {
			t.Fatalf("hello bound to another connection: %v", err)
		}
	}
	if handled.Load() != 0 {
		t.Fatalf("%d messages handled without the key", handled.Load())
	}
	testkit.WaitWithin(t, "seal errors counted", time.Second, func() bool { return r.Stats().SealErrors >= 3 })
	s := newPipeSender(t, pn, c)
	if err := s.Send(ctx, addr, Message{Options: 6, Payload: []byte("ok")}); err != nil {
		t.Fatal(err)
	}
}

func TestReceiverAutoBind(t *testing.T) {
	c := testConfig(t)
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	port := busy.Addr().(*net.TCPAddr).Port
	c.Port, c.AutoBind = port, 1
	r, _ := NewReceiver(c, HandlerFunc(func(context.Context, Peer, *Message) error { return nil }))
	err = r.Start(context.Background())
	if err == nil || !strings.Contains(err.Error(), "127.0.0.1:"+strconv.Itoa(port)+"-"+strconv.Itoa(port)) {
		t.Fatalf("got %v, want an error naming the range", err)
	}
	if port+20 > 65535 {
		t.Skip("no room above the busy port")
	}
	c.AutoBind = 20
	r2 := startReceiver(t, c, HandlerFunc(func(context.Context, Peer, *Message) error { return nil }))
	if p := r2.Port(); p <= port || p >= port+20 {
		t.Fatalf("bound %d, want in (%d, %d)", p, port, port+20)
	}
	if err := r2.Start(context.Background()); err == nil {
		t.Fatal("second Start succeeded")
	}
	if err := r2.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := r2.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestConfigValidate(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatal(err)
	}
	bad := DefaultConfig()
	bad.Address, bad.Port, bad.Timeout, bad.Key, bad.MaxQueueBytes = "auto", 70000, 0, []byte{1}, 10
	err := bad.Validate()
	for _, want := range []string{"address", "port", "timeout", "key", "maxQueueBytes"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("%v does not mention %s", err, want)
		}
	}
	if _, err := NewSender(bad); err == nil {
		t.Fatal("NewSender accepted a bad config")
	}
	if _, err := NewReceiver(DefaultConfig(), nil); err == nil {
		t.Fatal("nil handler accepted")
	}
}

func TestParseSendOptions(t *testing.T) {
	for in, want := range map[string]int{"8": 8, "async": 8, "use_ack": 2, "use_ack,sync": 6, " asynchronous ": 8, "6": 6} {
		if got, err := ParseSendOptions(in); err != nil || got != want {
			t.Errorf("%q: got %d %v, want %d", in, got, err, want)
		}
	}
	if _, err := ParseSendOptions("fast"); err == nil {
		t.Error("unknown name accepted")
	}
	if !errors.Is(&ProtocolError{Err: io.EOF}, io.EOF) {
		t.Error("ProtocolError does not unwrap")
	}
}

// A message re-sent on a new connection of the same sender stream is
// answered as before and not handled again.
func TestReceiverDeduplicatesResends(t *testing.T) {
	c := testConfig(t)
	var handled atomic.Int64
	r := startReceiver(t, c, HandlerFunc(func(_ context.Context, _ Peer, m *Message) error {
		handled.Add(1)
		if string(m.Payload) == "bad" {
			return errors.New("nope")
		}
		return nil
	}))
	data := func(id uint64, payload string) []byte {
		return appendFrame(nil, appendEnvelope(nil, &envelope{typ: typeData, opts: 6, id: id, payload: []byte(payload)}))
	}
	// exchange sends hello + frames on a new connection and returns the
	// replies (ack 0 for the hello first).
	exchange := func(frames ...[]byte) []envelope {
		nc, err := net.Dial("tcp", r.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		nc.Write(rawHello())
		for _, f := range frames {
			nc.Write(f)
		}
		nc.SetReadDeadline(time.Now().Add(5 * time.Second))
		br := bufioReader(nc)
		var out []envelope
		for range len(frames) + 1 {
			b, err := readFrame(br, nil, 1<<20, nil)
			if err != nil {
				t.Fatal(err)
			}
			e, err := decodeEnvelope(b)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, e)
		}
		return out[1:]
	}
	first := exchange(data(1, "ok"), data(2, "bad"))
	again := exchange(data(1, "ok"), data(2, "bad"), data(3, "ok"))
	if handled.Load() != 3 {
		t.Fatalf("handled %d, want 3", handled.Load())
	}
	if first[1].typ != typeFailAck || again[1].typ != typeFailAck || string(again[1].payload) != "nope" ||
		again[0].typ != typeAck || again[2].typ != typeAck || again[2].id != 3 {
		t.Fatalf("replies %+v / %+v", first, again)
	}
	if r.Stats().Duplicates != 2 {
		t.Fatalf("stats %+v", r.Stats())
	}
}

// A failed sync message whose fail-ack was lost with the connection is
// answered with its failure when re-sent, even after later sync messages
// succeeded (the receiver used to remember only the last sync result, so
// the re-sent failure was acknowledged as a success). Failures older than
// the first frame of a new connection are forgotten.
func TestReceiverResendKeepsEveryFailure(t *testing.T) {
	c := testConfig(t)
	var handled atomic.Int64
	r := startReceiver(t, c, HandlerFunc(func(_ context.Context, _ Peer, m *Message) error {
		handled.Add(1)
		if strings.HasPrefix(string(m.Payload), "bad") {
			return errors.New(string(m.Payload) + " failed")
		}
		return nil
	}))
	data := func(id uint64, payload string) []byte {
		return appendFrame(nil, appendEnvelope(nil, &envelope{typ: typeData, opts: 6, id: id, payload: []byte(payload)}))
	}
	exchange := func(frames ...[]byte) []envelope {
		t.Helper()
		nc, err := net.Dial("tcp", r.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		nc.Write(rawHello())
		for _, f := range frames {
			nc.Write(f)
		}
		nc.SetReadDeadline(time.Now().Add(5 * time.Second))
		br := bufioReader(nc)
		var out []envelope
		for range len(frames) + 1 {
			b, err := readFrame(br, nil, 1<<20, nil)
			if err != nil {
				t.Fatal(err)
			}
			e, err := decodeEnvelope(b)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, e)
		}
		return out[1:]
	}
	type reply struct {
		typ  frameType
		id   uint64
		text string
	}
	replies := func(es []envelope) []reply {
		var out []reply
		for _, e := range es {
			out = append(out, reply{e.typ, e.id, string(e.payload)})
		}
		return out
	}
	// Connection 1: 1 fails, 2 succeeds, 3 fails, 4 succeeds. Say the
	// sender saw none of the replies (the connection broke).
	exchange(data(1, "bad1"), data(2, "ok"), data(3, "bad3"), data(4, "ok"))
	// Connection 2 re-sends all four: each is answered as the first time.
	got := replies(exchange(data(1, "bad1"), data(2, "ok"), data(3, "bad3"), data(4, "ok")))
	want := []reply{{typeFailAck, 1, "bad1 failed"}, {typeAck, 2, ""}, {typeFailAck, 3, "bad3 failed"}, {typeAck, 4, ""}}
	if !slices.Equal(got, want) {
		t.Fatalf("re-sent replies %+v, want %+v", got, want)
	}
	// Connection 3 starts at 3 (the sender has the results of 1 and 2):
	// 3 still fails; 1 is forgotten.
	got = replies(exchange(data(3, "bad3"), data(5, "ok")))
	if want := []reply{{typeFailAck, 3, "bad3 failed"}, {typeAck, 5, ""}}; !slices.Equal(got, want) {
		t.Fatalf("third connection %+v, want %+v", got, want)
	}
	if handled.Load() != 5 {
		t.Fatalf("handled %d, want 5 (re-sends are not handled again)", handled.Load())
	}
}
