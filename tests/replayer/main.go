//go:build e2e

// Command replayer is the e2e tests' sealed-replay attacker. record acts as
// a cluster member (name, unique id, cluster key: what an insider or a
// stolen config gives) and sends messages to a node's receiver through an
// in-process proxy that keeps every byte it wrote, as a tap on the wire
// would; replay sends those bytes, verbatim, to a receiver on a new
// connection (another node, or the same node after a restart).
//
//	replayer record --to ADDR:PORT --key HEX --name NAME --id HEX32 --out FILE [--count N]
//	replayer replay --to ADDR:PORT --in FILE
//
// record prints "RECORDED bytes=B acked=N"; replay prints
// "REPLAYED bytes=B answer=A closed=true|false" (answer: bytes the receiver
// sent back, its greeting included).
package main

import (
	"context"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"time"

	"github.com/gomcat/gomcat/transport"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: replayer record|replay [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "record":
		err = record(os.Args[2:])
	case "replay":
		err = replay(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "replayer:", err)
		os.Exit(1)
	}
}

func record(args []string) error {
	fs := flag.NewFlagSet("record", flag.ExitOnError)
	to := fs.String("to", "", "receiver address")
	key := fs.String("key", "", "cluster key, hex")
	name := fs.String("name", "", "member name to claim")
	id := fs.String("id", "", "member unique id to claim, 32 hex digits")
	out := fs.String("out", "", "file for the recorded bytes")
	count := fs.Int("count", 5, "messages to send")
	fs.Parse(args)
	k, err := hex.DecodeString(*key)
	if err != nil {
		return fmt.Errorf("--key: %w", err)
	}
	uid, err := hex.DecodeString(*id)
	if err != nil || len(uid) != 16 {
		return fmt.Errorf("--id: want 32 hex digits")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer ln.Close()
	var mu sync.Mutex
	var sent []byte
	var wg sync.WaitGroup
	wg.Go(func() { // the tap: one connection, both directions forwarded
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		up, err := net.DialTimeout("tcp", *to, 5*time.Second)
		if err != nil {
			return
		}
		defer up.Close()
		go io.Copy(c, up)
		buf := make([]byte, 64<<10)
		for {
			n, err := c.Read(buf)
			mu.Lock()
			sent = append(sent, buf[:n]...)
			mu.Unlock()
			if _, werr := up.Write(buf[:n]); err != nil || werr != nil {
				return
			}
		}
	})
	cfg := transport.DefaultConfig()
	cfg.Key = k
	cfg.Timeout = 5 * time.Second
	cfg.Self = transport.Peer{Name: *name}
	copy(cfg.Self.UniqueID[:], uid)
	s, err := transport.NewSender(cfg)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	acked := 0
	for i := range *count {
		// Received (acked), never handled as anything: the probe channel
		// ignores what it cannot parse.
		m := transport.Message{Channel: transport.ChannelProbe, Options: transport.OptUseAck, Payload: fmt.Appendf(nil, "recorded %d", i)}
		if err := s.Send(ctx, ln.Addr().String(), m); err != nil {
			fmt.Printf("FAIL seq=%d err=%v\n", i, err)
			continue
		}
		acked++
	}
	s.Stop(ctx)
	ln.Close()
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	if err := os.WriteFile(*out, sent, 0o600); err != nil {
		return err
	}
	fmt.Printf("RECORDED bytes=%d acked=%d\n", len(sent), acked)
	return nil
}

func replay(args []string) error {
	fs := flag.NewFlagSet("replay", flag.ExitOnError)
	to := fs.String("to", "", "receiver address")
	in := fs.String("in", "", "recorded bytes")
	fs.Parse(args)
	b, err := os.ReadFile(*in)
	if err != nil {
		return err
	}
	c, err := net.DialTimeout("tcp", *to, 5*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Write(b); err != nil {
		return err
	}
	n, err := io.Copy(io.Discard, c)
	closed := err == nil || !errors.Is(err, os.ErrDeadlineExceeded)
	fmt.Printf("REPLAYED bytes=%d answer=%d closed=%v\n", len(b), n, closed)
	return nil
}
