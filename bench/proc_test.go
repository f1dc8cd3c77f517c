package bench

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseLine(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	l := parseLine(`{"level":"info","urls":["http://127.0.0.1:1"],"time":"2026-11-25T15:42:24.729831674Z","message":"Server startup in 2008 ms"}`, now)
	if l.Level != "info" || l.Msg != "Server startup in 2008 ms" || l.At.Nanosecond() != 729831674 {
		t.Errorf("json line: %+v", l)
	}
	raw := parseLine("panic: something", now)
	if raw.Msg != "panic: something" || !raw.At.Equal(now) || raw.Level != "" {
		t.Errorf("raw line: %+v", raw)
	}
	if m := reReceived.FindStringSubmatch("Manager [localhost#]; session state sent at [Wed Nov 25 15:42:24 UTC 2026] received in [2006] ms."); m == nil || m[1] != "2006" {
		t.Errorf("received-in figure: %v", m)
	}
}

func TestNodeLogWait(t *testing.T) {
	l := newNodeLog()
	l.add(logLine{Msg: "Cluster is about to start"})
	ctx := context.Background()
	if x, err := l.wait(ctx, contains("about to")); err != nil || x.Msg != "Cluster is about to start" {
		t.Fatalf("already kept: %+v %v", x, err)
	}
	got := make(chan logLine, 1)
	go func() {
		x, _ := l.wait(ctx, contains(lineStartup))
		got <- x
	}()
	// Lines the waiter does not want, then the one it wants.
	for i := range 10 {
		l.add(logLine{Msg: "noise", Level: string(rune('a' + i))})
	}
	l.add(logLine{Msg: "Server startup in 12 ms"})
	select {
	case x := <-got:
		if x.Msg != "Server startup in 12 ms" {
			t.Errorf("woke with %+v", x)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("waiter never woke")
	}

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := l.wait(cctx, contains("never")); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled wait: %v", err)
	}
	ended := make(chan error, 1)
	go func() {
		_, err := l.wait(ctx, contains("never"))
		ended <- err
	}()
	// Poll until the waiter is registered, then end the log.
	deadline := time.Now().Add(10 * time.Second)
	for {
		l.mu.Lock()
		n := len(l.waiters)
		l.mu.Unlock()
		if n == 1 || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Millisecond)
	}
	l.end()
	select {
	case err := <-ended:
		if !errors.Is(err, errLogEnded) {
			t.Errorf("wait after end: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("waiter not released by end")
	}
	if _, err := l.wait(ctx, contains("never")); !errors.Is(err, errLogEnded) {
		t.Errorf("wait on an ended log: %v", err)
	}
}

func TestNodeLogBounded(t *testing.T) {
	l := newNodeLog()
	for range 3 * maxLogLines {
		l.add(logLine{Msg: "x"})
	}
	if n := len(l.lines); n > maxLogLines {
		t.Errorf("%d lines kept, max %d", n, maxLogLines)
	}
	if tail := l.tail(3); len(tail) != 3 {
		t.Errorf("tail = %v", tail)
	}
}

func TestSetSendOptions(t *testing.T) {
	home := t.TempDir()
	if err := os.MkdirAll(filepath.Join(home, "conf"), 0o700); err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(home, "conf", "server.xml")
	if err := os.WriteFile(f, []byte(`<Cluster className="x"
	         channelSendOptions="8">`), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := setSendOptions(home, 6); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(f); !strings.Contains(string(b), `channelSendOptions="6"`) {
		t.Fatalf("server.xml: %s", b)
	}
	if err := setSendOptions(home, 6); err == nil {
		t.Fatal("a home without the async 8: no error")
	}
}
