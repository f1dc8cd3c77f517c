//go:build e2e

package e2e

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// The transport between two namespaces, with tests/txpeer (a -race build)
// as sender and receiver: ns0 sends, ns1 receives, ns2 attacks.

// buildTxpeer builds ./tests/txpeer with -race into dir.
func buildTxpeer(t *testing.T, dir string) string {
	t.Helper()
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "txpeer")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, goTool(), "build", "-race", "-tags", "e2e", "-o", out, "./tests/txpeer")
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./tests/txpeer: %v: %s", err, b)
	}
	return out
}

// txStat is a receiver's STAT or SUMMARY line.
type txStat struct{ count, breaks, corrupt, first, last, proto, seal int }

var txStatRE = regexp.MustCompile(`count=(\d+) breaks=(\d+) corrupt=(\d+) first=(\d+) last=(\d+) hash=\S+ proto=(\d+) seal=(\d+)`)

func parseTxStat(t *testing.T, line string) txStat {
	t.Helper()
	m := txStatRE.FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("not a stat line: %q", line)
	}
	n := make([]int, len(m)-1)
	for i := range n {
		n[i], _ = strconv.Atoi(m[i+1])
	}
	return txStat{n[0], n[1], n[2], n[3], n[4], n[5], n[6]}
}

// txDone is a sender's DONE line.
func txDone(t *testing.T, p *Proc, timeout time.Duration) (sent, ok, failed int) {
	t.Helper()
	line := p.WaitLog(t, `^DONE `, timeout)
	if _, err := fmt.Sscanf(line, "DONE sent=%d ok=%d failed=%d", &sent, &ok, &failed); err != nil {
		t.Fatalf("%q: %v", line, err)
	}
	if code := p.Wait(t, 10*time.Second); code != 0 {
		t.Fatalf("%s exited %d", p.Label, code)
	}
	return sent, ok, failed
}

func TestTransportBetweenNamespaces(t *testing.T) {
	nt := NewNet(t, 3)
	bin := buildTxpeer(t, t.TempDir())
	snd, rcv, evil := nt.NS[0], nt.NS[1], nt.NS[2]
	addr := func(port int) string { return net.JoinHostPort(rcv.Addr.String(), strconv.Itoa(port)) }
	recv := func(t *testing.T, label string, port int, extra ...string) *Proc {
		p := StartCommand(t, rcv, label, nil, append([]string{bin, "recv", "--listen", addr(port)}, extra...)...)
		p.WaitLog(t, `^LISTEN `, 20*time.Second)
		return p
	}
	sender := func(t *testing.T, label string, port int, args ...string) *Proc {
		return StartCommand(t, snd, label, nil, append([]string{bin, "send", "--to", addr(port)}, args...)...)
	}

	t.Run("100k async and 100k sync-ack, none lost or reordered", func(t *testing.T) {
		for _, tc := range []struct {
			mode, workers, last, borrow string
			port                        int
		}{{"async", "1", "100000", "--borrow=false", 4001}, {"sync", "8", "12500", "--borrow=true", 4002}} {
			r := recv(t, "recv-"+tc.mode, tc.port, tc.borrow)
			s := sender(t, "send-"+tc.mode, tc.port, "--count", "100000", "--size", "1024", "--mode", tc.mode, "--workers", tc.workers)
			if sent, ok, failed := txDone(t, s, 60*time.Second); sent != 100000 || ok != sent || failed != 0 {
				t.Fatalf("%s: sent %d ok %d failed %d", tc.mode, sent, ok, failed)
			}
			st := parseTxStat(t, r.WaitLog(t, `^STAT count=100000 `, 10*time.Second))
			if st.breaks != 0 || st.corrupt != 0 || st.first != 1 || strconv.Itoa(st.last) != tc.last {
				t.Fatalf("%s: receiver saw %+v", tc.mode, st)
			}
		}
	})

	t.Run("kill -9 the receiver mid-stream, then restart it", func(t *testing.T) {
		const port = 4003
		r := recv(t, "recv-killed", port)
		s := sender(t, "send-through-kill", port, "--count", "3000", "--size", "1024", "--mode", "sync",
			"--interval", "1ms", "--timeout", "500ms")
		r.WaitLog(t, `^STAT count=([3-9]\d\d|\d{4,}) `, 30*time.Second)
		r.Kill(t)
		s.WaitLog(t, `^FAIL `, 10*time.Second) // the sender notices
		mark := r.LogMark()
		r.start(t, bin, "recv", "--listen", addr(port))
		sent, ok, failed := txDone(t, s, 60*time.Second)
		if failed == 0 || ok == 0 || ok+failed != sent {
			t.Fatalf("sent %d ok %d failed %d: want failures during the outage and successes", sent, ok, failed)
		}
		st := parseTxStat(t, r.WaitLogAfter(t, mark, `^STAT count=\d+ .* last=3000 `, 10*time.Second))
		if st.breaks != 0 || st.corrupt != 0 || st.count == 0 {
			t.Fatalf("restarted receiver saw %+v", st)
		}
		t.Logf("sender: %d ok, %d failed; restarted receiver: %+v", ok, failed, st)
	})

	t.Run("a sender with another key delivers nothing", func(t *testing.T) {
		const port = 4004
		r := recv(t, "recv-keyed", port, "--key", "000102030405060708090a0b0c0d0e0f")
		s := sender(t, "send-wrong-key", port, "--count", "5", "--size", "64", "--mode", "sync",
			"--timeout", "300ms", "--key", "0f0e0d0c0b0a09080706050403020100")
		if _, ok, failed := txDone(t, s, 30*time.Second); ok != 0 || failed != 5 {
			t.Fatalf("wrong key: ok %d failed %d", ok, failed)
		}
		// The receiver greets first with a sealed challenge: the sender finds
		// the key wrong before it sends anything, and says so.
		if n := s.CountLog(`greeting does not open with the cluster key`); n == 0 {
			t.Fatalf("wrong-key sender does not report the key mismatch")
		}
		s = sender(t, "send-right-key", port, "--count", "20", "--size", "64", "--mode", "sync",
			"--key", "000102030405060708090a0b0c0d0e0f")
		if _, ok, failed := txDone(t, s, 30*time.Second); ok != 20 || failed != 0 {
			t.Fatalf("right key: ok %d failed %d", ok, failed)
		}
		r.WaitLog(t, `^STAT count=20 `, 10*time.Second)
	})

	t.Run("garbage from a third namespace stops neither the receiver nor other peers", func(t *testing.T) {
		const port = 4005
		r := recv(t, "recv-attacked", port)
		s := sender(t, "send-under-attack", port, "--count", "20000", "--size", "1024", "--mode", "async",
			"--interval", "100us")
		r.WaitLog(t, `^STAT count=[1-9]`, 20*time.Second)
		random := make([]byte, 64<<10)
		rand.Read(random)
		huge := binary.BigEndian.AppendUint32([]byte("FLT2002"), 0x7fffffff)
		huge = append(huge, make([]byte, 1000)...)
		big := binary.BigEndian.AppendUint32([]byte("FLT2002"), 1<<20) // allowed length, never completed
		big = append(big, make([]byte, 100)...)
		var held []net.Conn
		for i, payload := range [][]byte{random, huge, random[:7], big} {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			c, err := evil.DialContext(ctx, "tcp", addr(port))
			cancel()
			if err != nil {
				t.Fatalf("attack %d: %v", i, err)
			}
			t.Cleanup(func() { c.Close() })
			c.Write(payload)
			held = append(held, c)
		}
		for i, c := range held { // the receiver hangs up on each (the last after its read timeout)
			c.SetReadDeadline(time.Now().Add(10 * time.Second))
			_, err := io.Copy(io.Discard, c) // EOF, or a reset when bytes were left unread
			if err != nil && !errors.Is(err, syscall.ECONNRESET) {
				t.Fatalf("attack %d: connection not closed by the receiver: %v", i, err)
			}
		}
		if sent, ok, failed := txDone(t, s, 60*time.Second); sent != 20000 || ok != sent || failed != 0 {
			t.Fatalf("legitimate sender: sent %d ok %d failed %d", sent, ok, failed)
		}
		st := parseTxStat(t, r.WaitLog(t, `^STAT count=20000 `, 10*time.Second))
		if st.breaks != 0 || st.corrupt != 0 || st.last != 20000 {
			t.Fatalf("receiver saw %+v", st)
		}
		if !r.Running() {
			t.Fatal("receiver died")
		}
		r.Signal(t, syscall.SIGTERM)
		sum := parseTxStat(t, r.WaitLog(t, `^SUMMARY `, 10*time.Second))
		if sum.proto < 3 {
			t.Fatalf("protocol errors not counted: %+v", sum)
		}
		if code := r.Wait(t, 10*time.Second); code != 0 {
			t.Fatalf("receiver exited %d", code)
		}
	})
}
