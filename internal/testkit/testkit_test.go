package testkit

import (
	"path/filepath"
	"testing"
	"testing/synctest"
	"time"
)

func TestWaitWithin(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		ready := time.After(time.Second)
		done := false
		WaitWithin(t, "ready", time.Minute, func() bool {
			select {
			case <-ready:
				done = true
			default:
			}
			return done
		})
		if d := time.Since(start); d < time.Second || d > time.Second+maxPoll {
			t.Fatalf("waited %v for a 1 s condition", d)
		}
	})
}

func TestWaitWithinTimesOut(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		msg := Fatal(t, func(tb testing.TB) {
			WaitWithin(tb, "never", 3*time.Second, func() bool { return false })
		})
		if msg != "timed out after 3s waiting for never" {
			t.Fatalf("message %q", msg)
		}
	})
}

func TestFatal(t *testing.T) {
	if msg := Fatal(t, func(tb testing.TB) {}); msg != "" {
		t.Fatalf("no failure: %q", msg)
	}
	after := false
	msg := Fatal(t, func(tb testing.TB) { tb.Fatal("a", 1); after = true })
	if msg != "a1" || after {
		t.Fatalf("Fatal: %q, ran on: %v", msg, after)
	}
}

func TestClock(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	c := NewClock(t0)
	c.Add(time.Minute)
	c.Add(-time.Second)
	if got := c.Now(); !got.Equal(t0.Add(59 * time.Second)) {
		t.Fatalf("now %v", got)
	}
	c.Set(t0)
	if !c.Now().Equal(t0) {
		t.Fatal("Set")
	}
}

func TestLog(t *testing.T) {
	log, l := NewLogger(t)
	log.Info().Str("member", "b").Int("n", 3).Msg("member added: b")
	log.Warn().Str("member", "c").Msg("member added: c")
	log.Debug().Msg("Manager [x]: done")
	_, _ = l.Write([]byte("not json\n"))

	if n := len(l.Lines()); n != 3 {
		t.Fatalf("%d lines", n)
	}
	if ln, ok := l.Find("member added", "member", "c"); !ok || ln.Level != "warn" || ln.Str("member") != "c" {
		t.Fatalf("find: %v %v", ln, ok)
	}
	if ln, _ := l.Find("member added"); ln.Str("n") != "3" {
		t.Fatalf("n %q", ln.Str("n"))
	}
	if l.Count("member added") != 2 || l.Count("member added", "member", "b") != 1 || l.Count("nope") != 0 {
		t.Fatal("count")
	}
	if l.Index("Manager") != 2 || l.Index("nope") != -1 {
		t.Fatal("index")
	}
	if !l.Has("Manager [x]: done") || l.Has("Manager") {
		t.Fatal("has")
	}
	if _, ok := l.Match(`^Manager \[x\]: \w+$`); !ok || l.CountMatch(`added: [bc]$`) != 2 {
		t.Fatal("match")
	}
}

// errTB records Errorf instead of failing the test.
type errTB struct {
	testing.TB
	failed bool
}

func (e *errTB) Errorf(string, ...any) { e.failed = true }

func TestGolden(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.golden")
	Golden(t, path, []byte("a\n"), true)
	Golden(t, path, []byte("a\n"), false)
	e := &errTB{TB: t}
	if Golden(e, path, []byte("b\n"), false); !e.failed {
		t.Fatal("a differing output passed")
	}
}
