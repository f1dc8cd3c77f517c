package session

import (
	"context"
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/gomcat/gomcat/internal/testkit"
	"github.com/rs/zerolog"
)

func newLocal(t *testing.T, mod func(*Config)) (*LocalManager, *testkit.Clock, *recorder) {
	t.Helper()
	c, rec := newClock(), &recorder{}
	cfg := DefaultConfig()
	cfg.Route = "node1"
	cfg.MaxInactive = time.Minute
	cfg.Now = c.Now
	cfg.Listeners = *rec.listeners()
	cfg.Logger = zerolog.New(zerolog.NewTestWriter(t))
	if mod != nil {
		mod(&cfg)
	}
	m, err := NewLocal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Stop(context.Background()) })
	return m, c, rec
}

func TestConfigValidate(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatal(err)
	}
	bad := DefaultConfig()
	bad.Route = "a.b"
	bad.SweepInterval = -1
	err := bad.Validate()
	if err == nil || len(err.(interface{ Unwrap() []error }).Unwrap()) != 2 {
		t.Fatalf("Validate = %v, want two problems", err)
	}
	if _, err := NewLocal(bad); err == nil {
		t.Fatal("NewLocal accepted a bad config")
	}
	m, err := NewLocal(Config{})
	if err != nil || m.cfg.MaxInactive != DefaultMaxInactive || m.cfg.SweepInterval != DefaultSweepInterval {
		t.Fatalf("zero config defaults: %+v %v", m.cfg, err)
	}
}

func TestLocalCreateFindExpire(t *testing.T) {
	m, c, rec := newLocal(t, nil)
	ctx := context.Background()
	s, err := m.Create(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, r := SplitID(s.ID()); r != "node1" || m.Count() != 1 || m.Find(s.ID()) != s || m.Route() != "node1" {
		t.Fatal("create/find")
	}
	if m.Find("nope") != nil || m.Find("") != nil {
		t.Fatal("found unknown id")
	}
	s.Set("a", "x")
	s.Invalidate()
	if m.Find(s.ID()) != nil || m.Count() != 0 || s.Valid() {
		t.Fatal("invalidated session still there")
	}
	want := []string{"created", "added a", "destroyed a=x"}
	if got := rec.take(); !reflect.DeepEqual(got, want) {
		t.Fatalf("events = %v, want %v", got, want)
	}
	m.Expire(s) // idempotent
	if got := rec.take(); len(got) != 0 {
		t.Fatalf("second expire fired %v", got)
	}
	_ = c
	if st := m.Stats(); st.Created != 1 || st.Expired != 1 || st.Active != 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestLocalIdleExpiry(t *testing.T) {
	m, c, rec := newLocal(t, nil)
	ctx := context.Background()
	idle, _ := m.Create(ctx)
	busy, _ := m.Create(ctx)
	forever, _ := m.Create(ctx)
	forever.SetMaxInactive(-1)
	rec.take()

	c.Add(30 * time.Second)
	busy.Access(c.Now())
	busy.EndAccess()
	c.Add(31 * time.Second) // idle: 61 s, busy: 31 s
	if n := m.Sweep(c.Now()); n != 1 {
		t.Fatalf("Sweep expired %d, want 1", n)
	}
	if m.Find(idle.ID()) != nil || m.Find(busy.ID()) != busy || m.Find(forever.ID()) != forever {
		t.Fatal("wrong session expired")
	}
	if got := rec.take(); !reflect.DeepEqual(got, []string{"destroyed a=<nil>"}) {
		t.Fatalf("events %v", got)
	}
	// Find expires lazily between sweeps; sessions in use survive.
	busy.Access(c.Now())
	c.Add(time.Hour)
	if m.Find(busy.ID()) != busy {
		t.Fatal("session in use expired")
	}
	busy.EndAccess()
	c.Add(time.Hour)
	if m.Find(busy.ID()) != nil {
		t.Fatal("Find returned an idle-expired session")
	}
	if m.Count() != 1 {
		t.Fatalf("Count = %d", m.Count())
	}
}

func TestLocalSweeperGoroutine(t *testing.T) {
	m, c, _ := newLocal(t, func(cfg *Config) { cfg.SweepInterval = time.Millisecond })
	ctx := context.Background()
	if err := m.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := m.Start(ctx); err != nil {
		t.Fatal("second Start:", err)
	}
	s, _ := m.Create(ctx)
	c.Add(2 * time.Minute)
	testkit.WaitFor(t, "the sweeper to expire the session", func() bool { return m.Count() == 0 })
	if s.Valid() {
		t.Fatal("session still valid")
	}
	if err := m.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if err := m.Stop(ctx); err != nil {
		t.Fatal("second Stop:", err)
	}
	if _, err := m.Create(ctx); !errors.Is(err, ErrClosed) {
		t.Fatalf("Create after Stop = %v", err)
	}
	if err := m.Start(ctx); !errors.Is(err, ErrClosed) {
		t.Fatalf("Start after Stop = %v", err)
	}
}

func TestLocalExpireOnStop(t *testing.T) {
	for _, expire := range []bool{false, true} {
		m, _, rec := newLocal(t, func(cfg *Config) { cfg.ExpireOnStop = expire })
		s, _ := m.Create(context.Background())
		rec.take()
		m.Stop(context.Background())
		if s.Valid() == expire || len(rec.take()) != map[bool]int{false: 0, true: 1}[expire] {
			t.Fatalf("ExpireOnStop=%v: valid=%v", expire, s.Valid())
		}
	}
}

func TestLocalMaxActive(t *testing.T) {
	m, _, _ := newLocal(t, func(cfg *Config) { cfg.MaxActiveSessions = 2 })
	ctx := context.Background()
	a, _ := m.Create(ctx)
	m.Create(ctx)
	if _, err := m.Create(ctx); !errors.Is(err, ErrTooManySessions) {
		t.Fatalf("third Create = %v", err)
	}
	a.Invalidate()
	if _, err := m.Create(ctx); err != nil {
		t.Fatalf("Create after a slot freed: %v", err)
	}
	if st := m.Stats(); st.Rejected != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestLocalChangeID(t *testing.T) {
	m, _, rec := newLocal(t, nil)
	ctx := context.Background()
	s, _ := m.Create(ctx)
	other, _ := m.Create(ctx)
	old := s.ID()
	rec.take()

	id, err := s.RenewID()
	if err != nil {
		t.Fatal(err)
	}
	if id == old || s.ID() != id || m.Find(old) != nil || m.Find(id) != s || m.Count() != 2 {
		t.Fatal("RenewID did not rename atomically")
	}
	if _, r := SplitID(id); r != "node1" {
		t.Fatalf("new id %s lost the route", id)
	}
	if got := rec.take(); !reflect.DeepEqual(got, []string{"id changed"}) {
		t.Fatalf("events %v", got)
	}
	if err := m.ChangeID(s, other.ID()); !errors.Is(err, ErrDuplicateID) {
		t.Fatalf("ChangeID to a taken id = %v", err)
	}
	if err := m.ChangeID(s, ""); !errors.Is(err, ErrBadID) {
		t.Fatalf("ChangeID to empty = %v", err)
	}
	stranger := New("STRANGER", m.Options())
	if err := m.ChangeID(stranger, "NEW"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("ChangeID of an unregistered session = %v", err)
	}
	// JvmRouteBinderValve style: keep the base, swap the route.
	base, _ := SplitID(s.ID())
	if err := m.ChangeID(s, base+".node2"); err != nil || m.Find(base+".node2") != s {
		t.Fatalf("rebind rename: %v", err)
	}
}

func TestLocalRequestCompletedClearsChanges(t *testing.T) {
	m, _, _ := newLocal(t, nil)
	s, _ := m.Create(context.Background())
	s.Set("a", 1)
	if err := m.RequestCompleted(context.Background(), s); err != nil || s.Dirty() {
		t.Fatalf("RequestCompleted: %v dirty=%v", err, s.Dirty())
	}
}

func TestLocalConcurrent(t *testing.T) {
	m, c, _ := newLocal(t, func(cfg *Config) { cfg.MaxActiveSessions = 1000 })
	ctx := context.Background()
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for i := range 100 {
				s, err := m.Create(ctx)
				if err != nil {
					t.Error(err)
					return
				}
				s.Set("i", i)
				if m.Find(s.ID()) != s {
					t.Error("lost session")
				}
				switch i % 3 {
				case 0:
					s.Invalidate()
				case 1:
					s.RenewID()
				}
			}
		})
	}
	wg.Go(func() {
		for range 50 {
			m.Sweep(c.Now())
			m.Count()
		}
	})
	wg.Wait()
	if n := m.Count(); n != 8*100-8*34 {
		t.Fatalf("Count = %d", n)
	}
}
