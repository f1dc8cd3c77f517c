package transport

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// Two-process benchmarks: the receivers run in a child process (this
// test binary re-executed with benchPeerEnv set), as in a cluster. The
// child hosts a transport Receiver (owning or borrowing payloads) or the
// raw baseline: a plain length-prefixed TCP reader with a 64 KiB bufio,
// answering 4 bytes at the end of a round and after each message whose
// length has rawAckBit set. Rounds of the transport and of the raw
// baseline alternate so both see the same machine load.
//
//	go test -run XXX -bench TwoProcess -benchtime 20x ./transport/

const (
	benchPeerEnv = "GOMCAT_TRANSPORT_BENCH_PEER" // "raw", "owned" or "borrow"
	rawAckBit    = 1 << 31
)

// TestBenchPeer is the child process of the two-process benchmarks; it
// does nothing in a normal test run.
func TestBenchPeer(t *testing.T) {
	kind := os.Getenv(benchPeerEnv)
	if kind == "" {
		t.Skip("child process of BenchmarkTwoProcess")
	}
	var addr string
	var stop func()
	switch kind {
	case "raw":
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		go rawServe(ln)
		addr, stop = ln.Addr().String(), func() { ln.Close() }
	default:
		c := DefaultLocalConfig()
		c.Logger = zerolog.Nop()
		c.BorrowPayload = kind == "borrow"
		r, err := NewReceiver(c, nopHandler)
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		addr, stop = r.Addr().String(), func() { r.Stop(context.Background()) }
	}
	fmt.Printf("LISTEN %s\n", addr)
	io.Copy(io.Discard, os.Stdin) // until the parent closes our stdin
	stop()
}

// rawServe is the raw baseline's receiving side.
func rawServe(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			br := bufio.NewReaderSize(c, 64<<10)
			buf := make([]byte, 64<<10)
			var hdr [4]byte
			ack := []byte{0, 0, 0, 1}
			for {
				if _, err := io.ReadFull(br, hdr[:]); err != nil {
					return
				}
				h := binary.BigEndian.Uint32(hdr[:])
				n := int(h &^ rawAckBit)
				if n > len(buf) {
					buf = make([]byte, n)
				}
				if _, err := io.ReadFull(br, buf[:n]); err != nil {
					return
				}
				if n == 0 || h&rawAckBit != 0 {
					if _, err := c.Write(ack); err != nil {
						return
					}
				}
			}
		}()
	}
}

// startPeer runs a child process of kind and returns its address.
func startPeer(b *testing.B, kind string) string {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestBenchPeer$", "-test.count=1")
	if prof := os.Getenv("BENCH_PEER_PROF"); prof != "" && kind != "raw" {
		cmd.Args = append(cmd.Args, "-test.cpuprofile="+prof+"."+kind)
	}
	if tr := os.Getenv("BENCH_PEER_TRACE"); tr != "" && kind != "raw" {
		cmd.Args = append(cmd.Args, "-test.trace="+tr+"."+kind)
	}
	cmd.Env = append(os.Environ(), benchPeerEnv+"="+kind)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		stdin.Close()
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if addr, ok := strings.CutPrefix(sc.Text(), "LISTEN "); ok {
			go io.Copy(io.Discard, stdout)
			return addr
		}
	}
	b.Fatalf("peer %s did not start: %v", kind, sc.Err())
	return ""
}

// rawClient is the raw baseline's sending side.
type rawClient struct {
	bw  *bufio.Writer
	br  *bufio.Reader
	pay []byte
	ack [4]byte
}

func newRawClient(b *testing.B, addr string, size int) *rawClient {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	return &rawClient{bw: bufio.NewWriterSize(c, 64<<10), br: bufio.NewReader(c), pay: make([]byte, size)}
}

func (rc *rawClient) write(flags uint32) {
	rc.bw.Write(binary.BigEndian.AppendUint32(rc.ack[:0], uint32(len(rc.pay))|flags))
	rc.bw.Write(rc.pay)
}

// sync writes one message and waits for its ack.
func (rc *rawClient) sync(b *testing.B) {
	rc.write(rawAckBit)
	rc.flushAck(b)
}

// round streams k messages and waits until the peer has read them all.
func (rc *rawClient) round(b *testing.B, k int) {
	for range k {
		rc.write(0)
	}
	rc.bw.Write([]byte{0, 0, 0, 0})
	rc.flushAck(b)
}

func (rc *rawClient) flushAck(b *testing.B) {
	if err := rc.bw.Flush(); err != nil {
		b.Fatal(err)
	}
	if _, err := io.ReadFull(rc.br, rc.ack[:]); err != nil {
		b.Fatal(err)
	}
}

// roundMessages is how many async messages a round sends: at least 4 MiB.
func roundMessages(size int) int { return max(2000, (4<<20)/size) }

func BenchmarkTwoProcess(b *testing.B) {
	rawAddr := startPeer(b, "raw")
	for _, bm := range []struct{ name, kind string }{{"", "owned"}, {"borrow-", "borrow"}} {
		addr := startPeer(b, bm.kind)
		c := DefaultLocalConfig()
		c.Logger = zerolog.Nop()
		s, err := NewSender(c)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Stop(context.Background()) })
		ctx := context.Background()
		for _, sz := range benchSizes {
			b.Run("async-"+bm.name+sz.name, func(b *testing.B) {
				rc := newRawClient(b, rawAddr, sz.n)
				m := Message{Options: OptAsync, Payload: make([]byte, sz.n)}
				k := roundMessages(sz.n)
				var tr, raw, trCPU, rawCPU time.Duration
				rounds := 0
				for b.Loop() {
					t0 := time.Now()
					c0 := cpuNow()
					rc.round(b, k)
					t1 := time.Now()
					c1 := cpuNow()
					rawCPU += c1 - c0
					for range k {
						if err := s.Send(ctx, addr, m); err != nil {
							b.Fatal(err)
						}
					}
					if err := s.Ping(ctx, addr); err != nil {
						b.Fatal(err)
					}
					tr += time.Since(t1)
					trCPU += cpuNow() - c1
					raw += t1.Sub(t0)
					rounds++
				}
				n := float64(rounds * k)
				b.ReportMetric(n/tr.Seconds(), "msgs/s")
				b.ReportMetric(n*float64(sz.n)/tr.Seconds()/1e6, "MB/s")
				b.ReportMetric(n/raw.Seconds(), "raw-msgs/s")
				b.ReportMetric(raw.Seconds()/tr.Seconds(), "ratio")
				b.ReportMetric(trCPU.Seconds()/tr.Seconds(), "cpu")
				b.ReportMetric(float64(trCPU.Nanoseconds())/n, "cpu-ns/msg")
				b.ReportMetric(float64(rawCPU.Nanoseconds())/n, "raw-cpu-ns/msg")
				b.ReportMetric(rawCPU.Seconds()/raw.Seconds(), "raw-cpu")
			})
		}
		for _, sz := range benchSizes {
			b.Run("sync-"+bm.name+sz.name, func(b *testing.B) {
				rc := newRawClient(b, rawAddr, sz.n)
				m := Message{Options: OptUseAck | OptSync, Payload: make([]byte, sz.n)}
				var tl, rl []time.Duration
				for b.Loop() {
					t0 := time.Now()
					rc.sync(b)
					t1 := time.Now()
					if err := s.Send(ctx, addr, m); err != nil {
						b.Fatal(err)
					}
					tl = append(tl, time.Since(t1))
					rl = append(rl, t1.Sub(t0))
				}
				reportSync(b, tl, rl)
			})
		}
	}
}

// reportSync reports round trips per second, p50 and p99 of the
// transport (tl) and the raw baseline (rl), and the p99 ratio.
func reportSync(b *testing.B, tl, rl []time.Duration) {
	var sum time.Duration
	for _, d := range tl {
		sum += d
	}
	slices.Sort(tl)
	slices.Sort(rl)
	p := func(l []time.Duration, q int) float64 { return float64(l[len(l)*q/100].Nanoseconds()) / 1e3 }
	b.ReportMetric(float64(len(tl))/sum.Seconds(), "rt/s")
	b.ReportMetric(p(tl, 50), "p50-µs")
	b.ReportMetric(p(tl, 99), "p99-µs")
	b.ReportMetric(p(rl, 50), "raw-p50-µs")
	b.ReportMetric(p(rl, 99), "raw-p99-µs")
	b.ReportMetric(p(tl, 99)/p(rl, 99), "p99-ratio")
}

func cpuNow() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
