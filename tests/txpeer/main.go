//go:build e2e

// Command txpeer is the e2e tests' transport peer: a receiver that checks
// the order and content of what arrives, and a sender that streams
// numbered messages and reports what failed.
//
//	txpeer recv --listen ADDR:PORT [--key HEX] [--borrow]
//	txpeer send --to ADDR:PORT --count N --size S --mode async|sync [--key HEX]
//	            [--workers W] [--interval D] [--timeout D]
//
// Payload: seq u64 | worker u8 | filler (byte i = byte(seq+i)). Each
// worker's seqs run 1..N/W in order. recv prints "LISTEN addr", then a
// "STAT ..." line whenever its counters changed (at most every 50 ms) and
// "SUMMARY ..." on SIGTERM. send prints "FAIL seq=.. err=.." per failed
// message and "DONE sent=.. ok=.. failed=.." at the end.
package main

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"hash/fnv"
	"net"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gomcat/gomcat/transport"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: txpeer recv|send [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "recv":
		err = recv(os.Args[2:])
	case "send":
		err = send(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "txpeer:", err)
		os.Exit(1)
	}
}

func parseKey(s string) ([]byte, error) {
	if s == "" {
		return nil, nil
	}
	return hex.DecodeString(s)
}

// stats is what the receiver saw.
type stats struct {
	mu       sync.Mutex
	count    uint64
	breaks   uint64 // a worker's seq was not its previous seq + 1
	corrupt  uint64 // wrong size or filler
	last     map[byte]uint64
	first    map[byte]uint64
	hash     uint64 // FNV-1a over (worker, seq) in arrival order
	changed  bool
	size     int // size of the first message; all must match
	firstSet bool
}

func (st *stats) serve(_ context.Context, _ transport.Peer, m *transport.Message) error {
	p := m.Payload
	st.mu.Lock()
	defer st.mu.Unlock()
	st.changed = true
	if len(p) < 9 {
		st.corrupt++
		return errors.New("short payload")
	}
	seq, w := binary.BigEndian.Uint64(p), p[8]
	for i := 9; i < len(p); i++ {
		if p[i] != byte(seq+uint64(i)) {
			st.corrupt++
			return errors.New("corrupt payload")
		}
	}
	if !st.firstSet {
		st.size, st.firstSet = len(p), true
	} else if len(p) != st.size {
		st.corrupt++
	}
	st.count++
	if last, ok := st.last[w]; ok && seq != last+1 {
		st.breaks++
	}
	if _, ok := st.first[w]; !ok {
		st.first[w] = seq
	}
	st.last[w] = seq
	h := fnv.New64a()
	var b [9]byte
	binary.BigEndian.PutUint64(b[:], st.hash)
	h.Write(b[:8])
	b[0] = w
	binary.BigEndian.PutUint64(b[1:], seq)
	h.Write(b[:])
	st.hash = h.Sum64()
	return nil
}

func (st *stats) line(kind string, r *transport.Receiver) string {
	rs := r.Stats()
	var maxLast, minFirst uint64
	for w, l := range st.last {
		maxLast = max(maxLast, l)
		if f := st.first[w]; minFirst == 0 || f < minFirst {
			minFirst = f
		}
	}
	return fmt.Sprintf("%s count=%d breaks=%d corrupt=%d first=%d last=%d hash=%016x proto=%d seal=%d dups=%d",
		kind, st.count, st.breaks, st.corrupt, minFirst, maxLast, st.hash, rs.ProtocolErrors, rs.SealErrors, rs.Duplicates)
}

func recv(args []string) error {
	fs := flag.NewFlagSet("recv", flag.ContinueOnError)
	listen := fs.String("listen", "", "ADDR:PORT to listen on")
	keyHex := fs.String("key", "", "cluster key, hex")
	borrow := fs.Bool("borrow", false, "borrow payloads (Config.BorrowPayload)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	key, err := parseKey(*keyHex)
	if err != nil {
		return err
	}
	host, port, err := splitHostPort(*listen)
	if err != nil {
		return err
	}
	c := transport.DefaultConfig()
	c.Address, c.Port, c.AutoBind, c.Key = host, port, 1, key
	c.BorrowPayload = *borrow // serve checks each payload during the call
	st := &stats{last: map[byte]uint64{}, first: map[byte]uint64{}}
	r, err := transport.NewReceiver(c, transport.HandlerFunc(st.serve))
	if err != nil {
		return err
	}
	if err := r.Start(context.Background()); err != nil {
		return err
	}
	fmt.Printf("LISTEN %s\n", r.Addr())
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	var lastProto uint64
	for {
		select {
		case <-sig:
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			err := r.Stop(ctx)
			st.mu.Lock()
			fmt.Println(st.line("SUMMARY", r))
			st.mu.Unlock()
			return err
		case <-tick.C:
			st.mu.Lock()
			proto := r.Stats().ProtocolErrors
			if st.changed || proto != lastProto {
				fmt.Println(st.line("STAT", r))
				st.changed, lastProto = false, proto
			}
			st.mu.Unlock()
		}
	}
}

func send(args []string) error {
	fs := flag.NewFlagSet("send", flag.ContinueOnError)
	to := fs.String("to", "", "receiver ADDR:PORT")
	count := fs.Int("count", 1000, "messages in all")
	size := fs.Int("size", 1024, "payload bytes (at least 9)")
	mode := fs.String("mode", "async", "async or sync")
	keyHex := fs.String("key", "", "cluster key, hex")
	workers := fs.Int("workers", 1, "concurrent senders, each with its own seq")
	interval := fs.Duration("interval", 0, "pause between a worker's messages")
	timeout := fs.Duration("timeout", 3*time.Second, "send timeout")
	if err := fs.Parse(args); err != nil {
		return err
	}
	key, err := parseKey(*keyHex)
	if err != nil {
		return err
	}
	if *size < 9 || *workers < 1 || *workers > 255 {
		return errors.New("bad --size or --workers")
	}
	opts := transport.OptAsync
	switch *mode {
	case "async":
	case "sync":
		opts = transport.OptUseAck | transport.OptSync
	default:
		return fmt.Errorf("bad --mode %q", *mode)
	}
	var failed, ok atomic.Uint64
	var out sync.Mutex
	fail := func(w byte, seq uint64, err error) {
		failed.Add(1)
		out.Lock()
		fmt.Printf("FAIL worker=%d seq=%d err=%v\n", w, seq, err)
		out.Unlock()
	}
	c := transport.DefaultConfig()
	c.Timeout, c.Key = *timeout, key
	c.OnError = func(_ string, m *transport.Message, err error) { // async losses
		var w byte
		var seq uint64
		if len(m.Payload) >= 9 {
			seq, w = binary.BigEndian.Uint64(m.Payload), m.Payload[8]
		}
		ok.Add(^uint64(0)) // counted ok when queued
		fail(w, seq, err)
	}
	s, err := transport.NewSender(c)
	if err != nil {
		return err
	}
	ctx := context.Background()
	per := *count / *workers
	var wg sync.WaitGroup
	for w := range *workers {
		wg.Go(func() {
			p := make([]byte, *size)
			for seq := uint64(1); seq <= uint64(per); seq++ {
				binary.BigEndian.PutUint64(p, seq)
				p[8] = byte(w)
				for i := 9; i < len(p); i++ {
					p[i] = byte(seq + uint64(i))
				}
				if err := s.Send(ctx, *to, transport.Message{Channel: transport.ChannelSessions, Options: opts, Payload: p}); err != nil {
					fail(byte(w), seq, err)
				} else {
					ok.Add(1)
				}
				if *interval > 0 {
					time.Sleep(*interval)
				}
			}
		})
	}
	wg.Wait()
	if opts == transport.OptAsync {
		// Everything queued: wait until the receiver has it (or it failed).
		pctx, cancel := context.WithTimeout(ctx, 4**timeout)
		err := s.Ping(pctx, *to)
		cancel()
		if err != nil {
			fmt.Printf("PING err=%v\n", err)
		}
	}
	sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	s.Stop(sctx)
	fmt.Printf("DONE sent=%d ok=%d failed=%d\n", per**workers, ok.Load(), failed.Load())
	return nil
}

func splitHostPort(s string) (string, int, error) {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return "", 0, err
	}
	n, err := strconv.Atoi(port)
	return host, n, err
}
