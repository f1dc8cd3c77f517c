package transport

import (
	"bufio"
	"context"
	"encoding/binary"
	"io"
	"net"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// Benchmarks on loopback: the transport against a raw-TCP baseline that
// writes and reads length-prefixed messages the same way (one connection,
// bufio 64 KiB, async = stream then wait for the last; sync = write,
// flush, read a small ack). In one process: go test -run XXX -bench
// Compare ./transport/; in two (the figures to quote): see
// bench_process_test.go. "borrow-" runs use Config.BorrowPayload.

var benchSizes = []struct {
	name string
	n    int
}{{"64B", 64}, {"1KiB", 1 << 10}, {"64KiB", 64 << 10}}

func benchPair(b *testing.B, h Handler, borrow bool) (*Sender, string) {
	c := DefaultLocalConfig()
	c.Logger = zerolog.Nop()
	c.BorrowPayload = borrow
	r, err := NewReceiver(c, h)
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

var nopHandler = HandlerFunc(func(context.Context, Peer, *Message) error { return nil })

func BenchmarkAsync(b *testing.B) {
	for _, sz := range benchSizes {
		b.Run(sz.name, func(b *testing.B) {
			s, addr := benchPair(b, nopHandler, false)
			ctx := context.Background()
			m := Message{Channel: ChannelSessions, Options: OptAsync, Payload: make([]byte, sz.n)}
			if err := s.Ping(ctx, addr); err != nil { // connect outside the timing
				b.Fatal(err)
			}
			b.SetBytes(int64(sz.n))
			b.ReportAllocs()
			start := time.Now()
			n := 0
			for b.Loop() {
				if err := s.Send(ctx, addr, m); err != nil {
					b.Fatal(err)
				}
				n++
			}
			if err := s.Ping(ctx, addr); err != nil { // all delivered
				b.Fatal(err)
			}
			b.ReportMetric(float64(n)/time.Since(start).Seconds(), "msgs/s")
		})
	}
}

func BenchmarkSyncAck(b *testing.B) {
	for _, sz := range benchSizes {
		b.Run(sz.name, func(b *testing.B) {
			s, addr := benchPair(b, nopHandler, false)
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

func reportLatency(b *testing.B, lat []time.Duration) {
	slices.Sort(lat)
	var sum time.Duration
	for _, d := range lat {
		sum += d
	}
	b.ReportMetric(float64(len(lat))/sum.Seconds(), "rt/s")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
}

// rawPair returns a connected client and server TCP connection.
func rawPair(b *testing.B) (client, server net.Conn) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	ch := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		ch <- c
	}()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	server = <-ch
	b.Cleanup(func() { client.Close(); server.Close() })
	return client, server
}

func BenchmarkRawAsync(b *testing.B) {
	for _, sz := range benchSizes {
		b.Run(sz.name, func(b *testing.B) {
			client, server := rawPair(b)
			var got atomic.Int64
			done := make(chan struct{})
			go func() { // reader: length-prefixed messages until a zero length
				defer close(done)
				br := bufio.NewReaderSize(server, 64<<10)
				buf := make([]byte, 64<<10)
				var hdr [4]byte
				for {
					if _, err := io.ReadFull(br, hdr[:]); err != nil {
						return
					}
					n := binary.BigEndian.Uint32(hdr[:])
					if n == 0 {
						return
					}
					if _, err := io.ReadFull(br, buf[:n]); err != nil {
						return
					}
					got.Add(1)
				}
			}()
			bw := bufio.NewWriterSize(client, 64<<10)
			payload := make([]byte, sz.n)
			var hdr [4]byte
			binary.BigEndian.PutUint32(hdr[:], uint32(sz.n))
			b.SetBytes(int64(sz.n))
			start := time.Now()
			n := 0
			for b.Loop() {
				bw.Write(hdr[:])
				bw.Write(payload)
				n++
			}
			bw.Write([]byte{0, 0, 0, 0})
			bw.Flush()
			<-done
			if got.Load() != int64(n) {
				b.Fatalf("read %d of %d", got.Load(), n)
			}
			b.ReportMetric(float64(n)/time.Since(start).Seconds(), "msgs/s")
		})
	}
}

func BenchmarkRawSync(b *testing.B) {
	for _, sz := range benchSizes {
		b.Run(sz.name, func(b *testing.B) {
			client, server := rawPair(b)
			go func() { // reader: ack each message with 4 bytes
				br := bufio.NewReaderSize(server, 64<<10)
				buf := make([]byte, 64<<10)
				var hdr [4]byte
				for {
					if _, err := io.ReadFull(br, hdr[:]); err != nil {
						return
					}
					if _, err := io.ReadFull(br, buf[:binary.BigEndian.Uint32(hdr[:])]); err != nil {
						return
					}
					if _, err := server.Write([]byte{0, 0, 0, 1}); err != nil {
						return
					}
				}
			}()
			bw := bufio.NewWriterSize(client, 64<<10)
			br := bufio.NewReader(client)
			payload := make([]byte, sz.n)
			var hdr, ack [4]byte
			binary.BigEndian.PutUint32(hdr[:], uint32(sz.n))
			lat := make([]time.Duration, 0, 1024)
			for b.Loop() {
				t0 := time.Now()
				bw.Write(hdr[:])
				bw.Write(payload)
				if err := bw.Flush(); err != nil {
					b.Fatal(err)
				}
				if _, err := io.ReadFull(br, ack[:]); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(t0))
			}
			reportLatency(b, lat)
		})
	}
}

// rawStream is the raw baseline's async side: a writer and a reader
// goroutine that counts messages.
type rawStream struct {
	bw   *bufio.Writer
	hdr  [4]byte
	pay  []byte
	got  atomic.Int64
	tick chan struct{}
}

func newRawStream(b *testing.B, size int) *rawStream {
	client, server := rawPair(b)
	rs := &rawStream{bw: bufio.NewWriterSize(client, 64<<10), pay: make([]byte, size), tick: make(chan struct{}, 1)}
	binary.BigEndian.PutUint32(rs.hdr[:], uint32(size))
	go func() {
		br := bufio.NewReaderSize(server, 64<<10)
		buf := make([]byte, 64<<10)
		var hdr [4]byte
		for {
			if _, err := io.ReadFull(br, hdr[:]); err != nil {
				return
			}
			n := binary.BigEndian.Uint32(hdr[:])
			if n == 0 { // end of a round
				rs.tick <- struct{}{}
				continue
			}
			if _, err := io.ReadFull(br, buf[:n]); err != nil {
				return
			}
			rs.got.Add(1)
		}
	}()
	return rs
}

// round streams k messages and waits until the reader has them all.
func (rs *rawStream) round(k int) {
	for range k {
		rs.bw.Write(rs.hdr[:])
		rs.bw.Write(rs.pay)
	}
	rs.bw.Write([]byte{0, 0, 0, 0})
	rs.bw.Flush()
	<-rs.tick
}

// BenchmarkCompare alternates rounds of the transport and the raw
// baseline so both see the same machine load, and reports the ratios:
// async throughput (transport/raw) and sync p99 (transport/raw).
func BenchmarkCompare(b *testing.B) {
	const k = 2000 // async messages per round
	for _, bm := range benchModes {
		for _, sz := range benchSizes {
			b.Run("async-"+bm.name+sz.name, func(b *testing.B) {
				s, addr := benchPair(b, nopHandler, bm.borrow)
				ctx := context.Background()
				m := Message{Options: OptAsync, Payload: make([]byte, sz.n)}
				rs := newRawStream(b, sz.n)
				var tr, raw time.Duration
				rounds := 0
				for b.Loop() {
					t0 := time.Now()
					rs.round(k)
					t1 := time.Now()
					for range k {
						if err := s.Send(ctx, addr, m); err != nil {
							b.Fatal(err)
						}
					}
					if err := s.Ping(ctx, addr); err != nil {
						b.Fatal(err)
					}
					tr += time.Since(t1)
					raw += t1.Sub(t0)
					rounds++
				}
				n := float64(rounds * k)
				b.ReportMetric(n/tr.Seconds(), "msgs/s")
				b.ReportMetric(n/raw.Seconds(), "raw-msgs/s")
				b.ReportMetric(n*float64(sz.n)/tr.Seconds()/1e6, "MB/s")
				b.ReportMetric(raw.Seconds()/tr.Seconds(), "ratio")
			})
		}
	}
	for _, bm := range benchModes {
		for _, sz := range benchSizes {
			b.Run("sync-"+bm.name+sz.name, func(b *testing.B) {
				s, addr := benchPair(b, nopHandler, bm.borrow)
				ctx := context.Background()
				m := Message{Options: OptUseAck | OptSync, Payload: make([]byte, sz.n)}
				client, server := rawPair(b)
				go func() {
					br := bufio.NewReaderSize(server, 64<<10)
					buf := make([]byte, 64<<10)
					var hdr [4]byte
					for {
						if _, err := io.ReadFull(br, hdr[:]); err != nil {
							return
						}
						if _, err := io.ReadFull(br, buf[:binary.BigEndian.Uint32(hdr[:])]); err != nil {
							return
						}
						if _, err := server.Write([]byte{0, 0, 0, 1}); err != nil {
							return
						}
					}
				}()
				bw, br := bufio.NewWriterSize(client, 64<<10), bufio.NewReader(client)
				var hdr, ack [4]byte
				binary.BigEndian.PutUint32(hdr[:], uint32(sz.n))
				pay := make([]byte, sz.n)
				var tl, rl []time.Duration
				for b.Loop() {
					t0 := time.Now()
					bw.Write(hdr[:])
					bw.Write(pay)
					bw.Flush()
					if _, err := io.ReadFull(br, ack[:]); err != nil {
						b.Fatal(err)
					}
					t1 := time.Now()
					if err := s.Send(ctx, addr, m); err != nil {
						b.Fatal(err)
					}
					tl = append(tl, time.Since(t1))
					rl = append(rl, t1.Sub(t0))
				}
				slices.Sort(tl)
				slices.Sort(rl)
				p := func(l []time.Duration, q int) float64 { return float64(l[len(l)*q/100].Nanoseconds()) / 1e3 }
				b.ReportMetric(p(tl, 50), "p50-µs")
				b.ReportMetric(p(tl, 99), "p99-µs")
				b.ReportMetric(p(rl, 50), "raw-p50-µs")
				b.ReportMetric(p(rl, 99), "raw-p99-µs")
				b.ReportMetric(p(tl, 99)/p(rl, 99), "p99-ratio")
			})
		}
	}
}

// benchModes: the handler owns each payload (default) or borrows it
// (Config.BorrowPayload).
var benchModes = []struct {
	name   string
	borrow bool
}{{"", false}, {"borrow-", true}}
