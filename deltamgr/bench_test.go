package deltamgr

import (
	"context"
	"fmt"
	"testing"

	"github.com/rs/zerolog"

	"github.com/gomcat/gomcat/runtime/session"
	"github.com/gomcat/gomcat/transport/transporttest"
)

// BenchmarkStateTransfer100k: a node joins a member holding 100,000
// sessions of 1 KiB and runs Start (GET_ALL, 100 chunks of 1000, sync acks,
// install) on the in-memory hub. Goal: ≤ 2 s per op.
//
//	go test -run '^$' -bench StateTransfer100k -benchtime 5x ./deltamgr
func BenchmarkStateTransfer100k(b *testing.B) {
	const n, size = 100_000, 1024
	h := transporttest.NewHub(1)
	defer h.Close()
	n1 := benchNode(b, h, "n1")
	if err := n1.m.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	fill(b, n1, n, size)
	b.SetBytes(n * size)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		n2 := benchNode(b, h, fmt.Sprintf("j%d", i))
		if err := n2.m.Start(context.Background()); err != nil {
			b.Fatal(err)
		}
		if got := n2.m.Count(); got != n {
			b.Fatalf("joined with %d sessions", got)
		}
		b.StopTimer()
		h.Leave(n2.name)
		n2.m.Stop(context.Background())
		b.StartTimer()
	}
}

func benchNode(b *testing.B, h *transporttest.Hub, name string) *node {
	n := &node{name: name, router: NewRouter(zerolog.Nop())}
	n.port = h.Join(name, n.router.Deliver)
	n.router.Bind(n.port)
	cfg := DefaultConfig(testCtx)
	cfg.Route = name
	m, err := New(cfg, n.port)
	if err != nil {
		b.Fatal(err)
	}
	n.m = m
	if err := n.router.Add(m); err != nil {
		b.Fatal(err)
	}
	return n
}

// BenchmarkDeltaEncode: one request's changes (3 attributes of 100 bytes)
// into wire bytes.
func BenchmarkDeltaEncode(b *testing.B) {
	s := session.New("ABCDEF0123456789ABCDEF0123456789.n1", session.Options{})
	b.ReportAllocs()
	for b.Loop() {
		for _, k := range []string{"a", "b", "c"} {
			_ = s.SetRaw(k, benchValue)
		}
		d := FromChanges(s.TakeChanges())
		if _, err := Encode(&Message{Kind: KindDelta, Context: testCtx, SessionID: "ABCDEF0123456789ABCDEF0123456789.n1", Delta: &d}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDeltaApply: decode a DELTA and apply it to a session.
func BenchmarkDeltaApply(b *testing.B) {
	d := Delta{}
	for _, k := range []string{"a", "b", "c"} {
		d.Set(k, benchValue)
	}
	msg, _ := Encode(&Message{Kind: KindDelta, Context: testCtx, SessionID: "S", Delta: &d})
	s := session.New("S", session.Options{})
	b.ReportAllocs()
	for b.Loop() {
		m, err := Decode(msg)
		if err != nil {
			b.Fatal(err)
		}
		s.Apply(m.Delta.Changes(), false)
	}
}

// BenchmarkRequestCompleted: a writing request's end on a 2-node hub
// (async), and a read-only request's (nothing sent).
func BenchmarkRequestCompleted(b *testing.B) {
	for _, write := range []bool{true, false} {
		b.Run(map[bool]string{true: "write", false: "read"}[write], func(b *testing.B) {
			h := transporttest.NewHub(1)
			defer h.Close()
			n1, n2 := benchNode(b, h, "n1"), benchNode(b, h, "n2")
			n1.m.Start(context.Background())
			n2.m.Start(context.Background())
			defer n1.m.Stop(context.Background())
			defer n2.m.Stop(context.Background())
			s, _ := n1.m.Create(context.Background())
			n1.m.RequestCompleted(context.Background(), s)
			b.ReportAllocs()
			for b.Loop() {
				if write {
					_ = s.SetRaw("k", benchValue)
				}
				if err := n1.m.RequestCompleted(context.Background(), s); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

var benchValue = func() []byte {
	v, _ := session.Encode(string(make([]byte, 100)))
	return v
}()
