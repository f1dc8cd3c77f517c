package mcast

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gomcat/gomcat/internal/testkit"
)

func listenTCP(t *testing.T) (net.Listener, int) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_ = c.Close()
		}
	}()
	return ln, ln.Addr().(*net.TCPAddr).Port
}

func closedPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	_ = ln.Close()
	return port
}

func staticConfig(members ...StaticMember) StaticConfig {
	c := DefaultStaticConfig()
	c.Interval = 10 * time.Millisecond
	c.ExpirationTime = 100 * time.Millisecond
	c.ConnectTimeout = 500 * time.Millisecond
	c.Local = LocalMember{Name: "n1", Host: "127.0.0.1", Port: 4000}
	c.Members = members
	return c
}

func startStatic(t *testing.T, c StaticConfig) (*Static, *eventLog) {
	t.Helper()
	s, err := NewStatic(c)
	if err != nil {
		t.Fatal(err)
	}
	l := record(s)
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Stop(context.Background()) })
	return s, l
}

func TestStaticProbe(t *testing.T) {
	ln, live := listenTCP(t)
	dead := closedPort(t)
	s, l := startStatic(t, staticConfig(
		StaticMember{Host: "127.0.0.1", Port: 4000, Name: "n1"}, // ourselves: skipped
		StaticMember{Host: "127.0.0.1", Port: live},
		StaticMember{Host: "127.0.0.1", Port: dead, Name: "n3"},
	))
	ms := s.Members() // Start ran one probe round
	if len(ms) != 1 || ms[0].Port != live || ms[0].Name != ms[0].Addr() || ms[0].UniqueID == ([16]byte{}) {
		t.Fatalf("members after Start: %v", ms)
	}
	if !l.has(Added, ms[0].Name) {
		testkit.WaitFor(t, "Added event", func() bool { return l.has(Added, ms[0].Name) })
	}
	if !s.Learn("127.0.0.1", live, "n2", "http://127.0.0.1:8092", 42) {
		t.Fatal("Learn did not find the member")
	}
	testkit.WaitFor(t, "Replaced after Learn", func() bool { return l.has(Replaced, "n2") })
	if ev, _ := l.find(Replaced); ev.Old.Name != ms[0].Addr() || ev.Member.StartedAt != 42 {
		t.Fatalf("replaced %+v", ev)
	}
	if s.Learn("127.0.0.1", 1, "x", "", 0) {
		t.Fatal("Learn accepted an unknown address")
	}
	_ = ln.Close() // refused from now on: dropped without waiting ExpirationTime
	testkit.WaitFor(t, "n2 disappeared", func() bool { return l.has(Disappeared, "n2") })
	if len(s.Members()) != 0 || s.Stats().ProbeFailures == 0 {
		t.Fatalf("members %v stats %+v", s.Members(), s.Stats())
	}
}

func TestStaticExpiration(t *testing.T) {
	var fail atomic.Bool
	c := staticConfig(StaticMember{Host: "127.0.0.1", Port: 4001, Name: "n2"})
	c.probe = func(context.Context, string, int, time.Duration) error {
		if fail.Load() {
			return errors.New("i/o timeout")
		}
		return nil
	}
	s, l := startStatic(t, c)
	testkit.WaitFor(t, "n2 added", func() bool { return l.has(Added, "n2") })
	fail.Store(true)
	testkit.WaitFor(t, "n2 expired", func() bool { return l.has(Disappeared, "n2") })
	fail.Store(false)
	testkit.WaitFor(t, "n2 back", func() bool { return len(s.Members()) == 1 })
}

func TestStaticConfig(t *testing.T) {
	c := staticConfig(StaticMember{Host: "example.org", Port: 0, Name: "a b"}, StaticMember{Host: "127.0.0.1", Port: 1}, StaticMember{Host: "127.0.0.1", Port: 1})
	err := c.Validate()
	for _, want := range []string{"Host", "Port", "Name", "twice"} {
		if err == nil || !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate() = %v, want a complaint about %s", err, want)
		}
	}
	id, err := ParseUniqueID("{0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,-1}")
	if err != nil || id[1] != 1 || id[15] != 0xff {
		t.Fatalf("ParseUniqueID = %v, %v", id, err)
	}
	if id, err := ParseUniqueID("000102030405060708090a0b0c0d0e0f"); err != nil || id[15] != 15 {
		t.Fatalf("hex = %v, %v", id, err)
	}
	for _, bad := range []string{"{1,2,3}", "{0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,300}", "zz", ""} {
		if _, err := ParseUniqueID(bad); !errors.Is(err, ErrConfig) {
			t.Errorf("ParseUniqueID(%q) = %v", bad, err)
		}
	}
}

func TestProbe(t *testing.T) {
	_, live := listenTCP(t)
	if err := Probe(context.Background(), "127.0.0.1", live, time.Second); err != nil {
		t.Fatal(err)
	}
	err := Probe(context.Background(), "127.0.0.1", closedPort(t), time.Second)
	if err == nil || !refused(err) {
		t.Fatalf("closed port: %v", err)
	}
}
