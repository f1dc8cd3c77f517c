package redismgr

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/gomcat/gomcat/internal/redistest"
	"github.com/gomcat/gomcat/internal/testkit"
	"github.com/gomcat/gomcat/runtime/session"
)

// newManager starts a manager on srv with cfg adjusted by mod.
func newManager(t *testing.T, srv *redistest.Server, mod func(*Config)) *Manager {
	t.Helper()
	log, _ := testkit.NewLogger(t)
	cfg := DefaultConfig("localhost#/t", srv.URL())
	cfg.Logger = log
	cfg.Timeout = 300 * time.Millisecond
	if mod != nil {
		mod(&cfg)
	}
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Stop(context.Background()) })
	return m
}

// rawClient is a plain client to look at what the manager stored.
func rawClient(t *testing.T, srv *redistest.Server) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: srv.Addr(), DisableIdentity: true})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// counter is a go-redis hook counting round trips (a pipeline is one).
type counter struct{ n atomic.Int64 }

func (c *counter) DialHook(next redis.DialHook) redis.DialHook { return next }
func (c *counter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		c.n.Add(1)
		return next(ctx, cmd)
	}
}
func (c *counter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		c.n.Add(1)
		return next(ctx, cmds)
	}
}

func countTrips(m *Manager) *counter {
	c := &counter{}
	m.Client().AddHook(c)
	return c
}

// request runs one request's worth of manager calls on the session with
// id ("" creates one) and returns it.
func request(t *testing.T, m *Manager, id string, f func(s *session.Session)) *session.Session {
	t.Helper()
	ctx := context.Background()
	var s *session.Session
	var err error
	if id == "" {
		s, err = m.Create(ctx)
	} else {
		s, err = m.Load(ctx, id)
	}
	if err != nil {
		t.Fatal(err)
	}
	if s == nil {
		return nil
	}
	s.Access(time.Now())
	if f != nil {
		f(s)
	}
	s.EndAccess()
	if s.Valid() {
		if err := m.RequestCompleted(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// writeResumes waits (up to 40 s) until a request on session id can write
// through m again after a failover: a Load error is "not yet", a session
// gone is a loss and fails the test. The write sets "after" = 2.
func writeResumes(t *testing.T, m *Manager, id string) {
	t.Helper()
	testkit.WaitWithin(t, "writes to resume on the promoted replica", 40*time.Second, func() bool {
		s, err := m.Load(context.Background(), id)
		if err != nil {
			return false
		}
		if s == nil {
			t.Fatal("session lost in the failover")
		}
		s.Access(time.Now())
		_ = s.Set("after", 2)
		s.EndAccess()
		return m.RequestCompleted(context.Background(), s) == nil
	})
}
