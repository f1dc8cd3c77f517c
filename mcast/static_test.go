package mcast

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
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
	c.Probe = func(context.Context, string, int, time.Duration) error {
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

func TestStaticDiscover(t *testing.T) {
	var mu sync.Mutex
	listed := []StaticMember{{Host: "127.0.0.1"}, {Host: "127.0.0.2"}} // port 0: Local's (4000); 127.0.0.1:4000 is ourselves
	alive := map[string]bool{"127.0.0.2": true, "127.0.0.3": true}
	var fail error
	c := staticConfig()
	c.Discover = func(ctx context.Context) ([]StaticMember, error) {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(listed), fail
	}
	c.Probe = func(_ context.Context, host string, port int, _ time.Duration) error {
		mu.Lock()
		defer mu.Unlock()
		if port != 4000 {
			return fmt.Errorf("probed port %d", port)
		}
		if !alive[host] {
			return syscall.ECONNREFUSED
		}
		return nil
	}
	set := func(f func()) { mu.Lock(); f(); mu.Unlock() }
	names := func(s *Static) []string {
		var out []string
		for _, m := range s.Members() {
			out = append(out, m.Name)
		}
		slices.Sort(out)
		return out
	}
	s, l := startStatic(t, c)
	if got := names(s); !slices.Equal(got, []string{"127.0.0.2:4000"}) {
		t.Fatalf("after Start: %v", got)
	}
	// A new address joins; a failing discovery keeps the list.
	set(func() { listed = append(listed, StaticMember{Host: "127.0.0.3"}) })
	testkit.WaitFor(t, "127.0.0.3 added", func() bool { return l.has(Added, "127.0.0.3:4000") })
	set(func() { fail = errors.New("dns: lookup: timeout") })
	testkit.WaitFor(t, "a failed discovery", func() bool { return s.Stats().DiscoveryFailures > 0 })
	if got := names(s); len(got) != 2 {
		t.Fatalf("after a failed discovery: %v", got)
	}
	// Gone from discovery but answering: kept. Gone and silent: dropped.
	set(func() { fail, listed = nil, listed[:2] })
	d := s.Stats().Discoveries
	testkit.WaitFor(t, "two more rounds", func() bool { return s.Stats().Discoveries > d+2 })
	if got := names(s); len(got) != 2 {
		t.Fatalf("127.0.0.3 unlisted but alive: %v", got)
	}
	set(func() { alive["127.0.0.3"] = false })
	testkit.WaitFor(t, "127.0.0.3 dropped", func() bool { return l.has(Disappeared, "127.0.0.3:4000") })
	set(func() { alive["127.0.0.3"] = true })
	d = s.Stats().Discoveries
	testkit.WaitFor(t, "two more rounds", func() bool { return s.Stats().Discoveries > d+2 })
	if got := names(s); !slices.Equal(got, []string{"127.0.0.2:4000"}) {
		t.Fatalf("127.0.0.3 unlisted and back: %v (it should be forgotten)", got)
	}
}

func TestStaticDiscoverFirstRound(t *testing.T) {
	// Start returns with the discovered peers already members and Joined
	// closed: the cluster's fast join needs no establish wait.
	c := staticConfig(StaticMember{Host: "127.0.0.9", Port: 4000}) // configured: never "gone"
	c.Interval, c.ExpirationTime = time.Hour, 2*time.Hour
	c.Discover = func(context.Context) ([]StaticMember, error) {
		return []StaticMember{{Host: "127.0.0.2"}, {Host: "127.0.0.3", Port: 4100}, {Host: "127.0.0.2"}}, nil
	}
	c.Probe = func(context.Context, string, int, time.Duration) error { return nil }
	s, _ := startStatic(t, c)
	select {
	case <-s.Joined():
	default:
		t.Fatal("Joined not closed when Start returned")
	}
	var got []string
	for _, m := range s.Members() {
		got = append(got, m.Addr())
	}
	slices.Sort(got)
	if want := []string{"127.0.0.2:4000", "127.0.0.3:4100", "127.0.0.9:4000"}; !slices.Equal(got, want) {
		t.Fatalf("members after Start: %v, want %v", got, want)
	}
}

func TestStaticLeave(t *testing.T) {
	var down atomic.Bool
	c := staticConfig(StaticMember{Host: "127.0.0.2", Port: 4000})
	c.ExpirationTime = time.Hour // a goodbye holds until a probe fails
	c.Probe = func(context.Context, string, int, time.Duration) error {
		if down.Load() {
			return syscall.ECONNREFUSED
		}
		return nil
	}
	s, l := startStatic(t, c)
	if !s.Leave("127.0.0.2", 4000) {
		t.Fatal("Leave of a live member: false")
	}
	if s.Leave("127.0.0.2", 4000) || s.Leave("127.0.0.7", 4000) {
		t.Fatal("Leave of a member not live: true")
	}
	testkit.WaitFor(t, "Left", func() bool { return l.has(Left, "127.0.0.2:4000") })
	// Still answering (stopping): not re-added.
	p := s.Stats().Probes
	testkit.WaitFor(t, "three more probes", func() bool { return s.Stats().Probes > p+3 })
	if n := len(s.Members()); n != 0 {
		t.Fatalf("re-added after its goodbye while stopping: %d members", n)
	}
	// Down, then back (a restart): added again.
	down.Store(true)
	f := s.Stats().ProbeFailures
	testkit.WaitFor(t, "a failed probe", func() bool { return s.Stats().ProbeFailures > f })
	down.Store(false)
	testkit.WaitFor(t, "back", func() bool { return len(s.Members()) == 1 })
}
