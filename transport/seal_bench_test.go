package transport

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// The cost of sealing on loopback: the same async stream and sync-ack
// round trips, clear and sealed (AES-256-GCM, key ids, per-receiver replay
// cache), side by side: go test -run XXX -bench Sealing ./transport/
func sealedPair(b *testing.B, key []byte) (*Sender, string) {
	c := DefaultLocalConfig()
	c.Logger = zerolog.Nop()
	c.Key = key
	r, err := NewReceiver(c, nopHandler)
	if err != nil {
		b.Fatal(err)
	}
	if err := r.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	s, err := NewSender(c)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		s.Stop(context.Background())
		r.Stop(context.Background())
	})
	return s, r.Addr().String()
}

func BenchmarkSealing(b *testing.B) {
	key := bytes.Repeat([]byte{9}, 32)
	for _, sz := range benchSizes {
		for _, v := range []struct {
			name string
			key  []byte
		}{{"clear", nil}, {"sealed", key}} {
			b.Run("async/"+v.name+"/"+sz.name, func(b *testing.B) {
				s, addr := sealedPair(b, v.key)
				ctx := context.Background()
				m := Message{Channel: ChannelSessions, Options: OptAsync, Payload: make([]byte, sz.n)}
				if err := s.Ping(ctx, addr); err != nil {
					b.Fatal(err)
				}
				b.SetBytes(int64(sz.n))
				b.ReportAllocs()
				start, n := time.Now(), 0
				for b.Loop() {
					if err := s.Send(ctx, addr, m); err != nil {
						b.Fatal(err)
					}
					n++
				}
				if err := s.Ping(ctx, addr); err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(float64(n)/time.Since(start).Seconds(), "msgs/s")
			})
			b.Run("syncack/"+v.name+"/"+sz.name, func(b *testing.B) {
				s, addr := sealedPair(b, v.key)
				ctx := context.Background()
				m := Message{Channel: ChannelSessions, Options: OptUseAck | OptSync, Payload: make([]byte, sz.n)}
				if err := s.Ping(ctx, addr); err != nil {
					b.Fatal(err)
				}
				lat := make([]time.Duration, 0, 1024)
				b.ReportAllocs()
				for b.Loop() {
					t0 := time.Now()
					if err := s.Send(ctx, addr, m); err != nil {
						b.Fatal(err)
					}
					lat = append(lat, time.Since(t0))
				}
				reportLatency(b, lat)
			})
		}
	}
}
