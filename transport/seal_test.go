package transport

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gomcat/gomcat/internal/seal"
	"github.com/gomcat/gomcat/internal/testkit"
)

// recorder is a TCP proxy in front of a receiver that keeps every byte the
// sender wrote, as an attacker on the path would.
type recorder struct {
	ln   net.Listener
	mu   sync.Mutex
	sent []byte
}

func record(t *testing.T, to string) *recorder {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{ln: ln}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", to)
			if err != nil {
				c.Close()
				continue
			}
			go func() { io.Copy(c, up); c.Close() }()
			go func() {
				buf := make([]byte, 4096)
				for {
					n, err := c.Read(buf)
					rec.mu.Lock()
					rec.sent = append(rec.sent, buf[:n]...)
					rec.mu.Unlock()
					up.Write(buf[:n])
					if err != nil {
						up.Close()
						return
					}
				}
			}()
		}
	}()
	return rec
}

func (r *recorder) bytes() []byte { r.mu.Lock(); defer r.mu.Unlock(); return bytes.Clone(r.sent) }

// replay sends what was recorded to addr on a fresh connection, reading
// whatever the receiver answers, until the receiver closes it.
func replay(t *testing.T, addr string, rec []byte) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write(rec)
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	io.Copy(io.Discard, c)
}

// A sealed connection recorded on its way to node B is replayed against B
// on a new connection, against another node C with the same key, and
// against B restarted on the same port: nothing opens, every attempt is
// counted as a seal error, and B and C keep working for the real sender.
func TestSealedReplayRefused(t *testing.T) {
	key := bytes.Repeat([]byte{5}, 32)
	c := testConfig(t)
	c.Key = key
	var handled atomic.Int64
	h := HandlerFunc(func(context.Context, Peer, *Message) error { handled.Add(1); return nil })
	cb := c
	cb.Self = Peer{Name: "b", UniqueID: [16]byte{0xb}}
	b := startReceiver(t, cb, h)
	cc := c
	cc.Self = Peer{Name: "c", UniqueID: [16]byte{0xc}}
	rc := startReceiver(t, cc, h)

	rec := record(t, b.Addr().String())
	s := newSender(t, c)
	ctx := ctxT(t)
	for _, opts := range []int{OptAsync, OptUseAck, OptUseAck | OptSync} {
		if err := s.Send(ctx, rec.ln.Addr().String(), Message{Channel: ChannelSessions, Options: opts, Payload: []byte("delta")}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Send(ctx, rec.ln.Addr().String(), Message{Channel: ChannelFarm, Options: OptUseAck | OptSync, Payload: []byte("chunk")}); err != nil {
		t.Fatal(err)
	}
	testkit.WaitWithin(t, "4 messages", 5*time.Second, func() bool { return handled.Load() == 4 })
	recorded := rec.bytes()
	if len(recorded) < 5*frameOverhead {
		t.Fatalf("recorded only %d bytes", len(recorded))
	}

	replay(t, b.Addr().String(), recorded)
	replay(t, rc.Addr().String(), recorded)
	if got := handled.Load(); got != 4 {
		t.Fatalf("replays handled %d messages", got-4)
	}
	testkit.WaitWithin(t, "seal errors on b and c", 5*time.Second, func() bool {
		return b.Stats().SealErrors == 1 && rc.Stats().SealErrors == 1
	})

	// Restart b on the same port (a new Receiver: a new incarnation and an
	// empty replay cache).
	port := b.Port()
	stopCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := b.Stop(stopCtx); err != nil {
		t.Fatal(err)
	}
	cb.Port, cb.AutoBind = port, 1
	b2 := startReceiver(t, cb, h)
	replay(t, b2.Addr().String(), recorded)
	testkit.WaitWithin(t, "seal error on restarted b", 5*time.Second, func() bool { return b2.Stats().SealErrors == 1 })
	if got := handled.Load(); got != 4 {
		t.Fatalf("replay on the restarted receiver handled %d messages", got-4)
	}
	// The genuine sender still gets through to both.
	s2 := newSender(t, c)
	for _, r := range []*Receiver{b2, rc} {
		if err := s2.Send(ctx, r.Addr().String(), Message{Options: OptUseAck | OptSync, Payload: []byte("live")}); err != nil {
			t.Fatal(err)
		}
	}
	if got := handled.Load(); got != 6 {
		t.Fatalf("handled %d, want 6", got)
	}
}

// The associated data binds direction, purpose, receiver, incarnation,
// challenge, sender and epoch: change any one and the frame does not open.
func TestConnSealBinding(t *testing.T) {
	ring, _ := seal.NewRing(bytes.Repeat([]byte{6}, 32))
	sl, err := newSealers(ring)
	if err != nil {
		t.Fatal(err)
	}
	g := newGreeting([16]byte{1}, 7)
	snd := [16]byte{2}
	env := appendEnvelope(nil, &envelope{typ: typeData, ch: ChannelSessions, id: 1, payload: []byte("x")})
	farm := appendEnvelope(nil, &envelope{typ: typeData, ch: ChannelFarm, id: 2, payload: []byte("y")})
	base := newConnSeal(sl, dirSender, g, snd, 9)
	g2 := g
	g2.challenge[0] ^= 1
	g3 := g
	g3.inc++
	g4 := g
	g4.id[0] ^= 1
	others := map[string]*connSeal{
		"direction":   newConnSeal(sl, dirReceiver, g, snd, 9),
		"hello":       newConnSeal(sl, dirHello, g, snd, 9),
		"challenge":   newConnSeal(sl, dirSender, g2, snd, 9),
		"incarnation": newConnSeal(sl, dirSender, g3, snd, 9),
		"receiver":    newConnSeal(sl, dirSender, g4, snd, 9),
		"sender":      newConnSeal(sl, dirSender, g, [16]byte{3}, 9),
		"epoch":       newConnSeal(sl, dirSender, g, snd, 10),
	}
	for name, o := range others {
		if _, err := o.open(nil, base.seal(nil, env)); !errors.Is(err, seal.ErrAuth) {
			t.Errorf("%s differs: %v", name, err)
		}
	}
	for _, e := range [][]byte{env, farm} {
		b := base.seal(nil, e)
		if got, err := base.open(nil, b); err != nil || !bytes.Equal(got, e) {
			t.Fatalf("round trip: %v", err)
		}
		if _, err := base.open(nil, b); !errors.Is(err, seal.ErrReplay) {
			t.Errorf("second open: %v", err)
		}
	}
	// A farm frame relabelled as a transport one (or back) does not open.
	b := base.seal(nil, farm)
	if b[1] != byte(seal.PurposeFarm) {
		t.Fatalf("farm frame purpose %d", b[1])
	}
	b[1] = byte(seal.PurposeTransport)
	if _, err := base.open(nil, b); !errors.Is(err, seal.ErrAuth) {
		t.Errorf("relabelled purpose: %v", err)
	}
	b = base.seal(nil, env)
	b[0] = 1
	if _, err := base.open(nil, b); err == nil {
		t.Errorf("format 1 accepted")
	}
}

func FuzzConnSealOpen(f *testing.F) {
	ring, _ := seal.NewRing(bytes.Repeat([]byte{6}, 32))
	sl, _ := newSealers(ring)
	cs := newConnSeal(sl, dirSender, newGreeting([16]byte{1}, 7), [16]byte{2}, 9)
	f.Add(cs.seal(nil, appendEnvelope(nil, &envelope{typ: typeData, ch: ChannelFarm, id: 2, payload: []byte("y")})))
	f.Add([]byte{2, 2})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		env, err := cs.open(nil, b)
		if err == nil && len(env) != len(b)-sealedOverhead {
			t.Fatalf("%d-byte envelope from %d bytes", len(env), len(b))
		}
	})
}

func FuzzDecodeGreeting(f *testing.F) {
	f.Add(appendGreeting(nil, newGreeting([16]byte{1}, 7)))
	f.Add([]byte{2})
	f.Fuzz(func(t *testing.T, b []byte) {
		g, err := decodeGreeting(b)
		if err == nil && !bytes.Equal(appendGreeting(nil, g), b) {
			t.Fatalf("greeting does not round-trip")
		}
	})
}

// A sealed sender that expects receiver b refuses the greeting of c (a
// relayed connection to the wrong node) and still reaches b.
func TestSealedWrongReceiverRefused(t *testing.T) {
	c := testConfig(t)
	c.Key = bytes.Repeat([]byte{6}, 32)
	var handled atomic.Int64
	h := HandlerFunc(func(context.Context, Peer, *Message) error { handled.Add(1); return nil })
	cb := c
	cb.Self = Peer{Name: "b", UniqueID: [16]byte{0xb}}
	b := startReceiver(t, cb, h)
	cc := c
	cc.Self = Peer{Name: "c", UniqueID: [16]byte{0xc}}
	rc := startReceiver(t, cc, h)
	// The attacker's address for b relays to c.
	relay := record(t, rc.Addr().String())
	bAddr, relayAddr := b.Addr().String(), relay.ln.Addr().String()
	c.ExpectedID = func(addr string) ([16]byte, bool) {
		if addr == bAddr || addr == relayAddr {
			return [16]byte{0xb}, true
		}
		return [16]byte{}, false
	}
	s := newSender(t, c)
	ctx := ctxT(t)
	err := s.Send(ctx, relayAddr, Message{Options: OptUseAck | OptSync, Payload: []byte("x")})
	if err == nil {
		t.Fatal("send through the relay to the wrong receiver succeeded")
	}
	if !errors.Is(err, ErrWrongReceiver) {
		t.Logf("send error: %v", err)
	}
	if got := handled.Load(); got != 0 {
		t.Fatalf("wrong receiver handled %d messages", got)
	}
	if err := s.Send(ctx, bAddr, Message{Options: OptUseAck | OptSync, Payload: []byte("y")}); err != nil {
		t.Fatal(err)
	}
	// No expected id known: any greeting is accepted, as before.
	if err := s.Send(ctx, rc.Addr().String(), Message{Options: OptUseAck | OptSync, Payload: []byte("z")}); err != nil {
		t.Fatal(err)
	}
	if got := handled.Load(); got != 2 {
		t.Fatalf("handled %d, want 2", got)
	}
}
