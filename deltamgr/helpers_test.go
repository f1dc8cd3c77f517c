package deltamgr

import (
	"context"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/gomcat/gomcat/internal/testkit"
	"github.com/gomcat/gomcat/runtime/session"
	"github.com/gomcat/gomcat/transport/transporttest"
)

// newClock is the clock the managers of one test share.
func newClock() *testkit.Clock {
	return testkit.NewClock(time.Date(2025, 11, 25, 12, 0, 0, 0, time.UTC))
}

// node is one member of a test cluster: router, hub port, one manager.
type node struct {
	name   string
	router *Router
	port   *transporttest.Port
	cl     Cluster // what the manager uses (the port, or a wrapper)
	m      *Manager
	logs   *testkit.Log
}

type nodeOpt func(*Config)

const testCtx = "localhost#/app"

// newNode joins the hub as name with a manager for testCtx, not started.
func newNode(t *testing.T, h *transporttest.Hub, name string, opts ...nodeOpt) *node {
	t.Helper()
	return newNodeWrapped(t, h, name, nil, opts...)
}

// newNodeWrapped is newNode with the manager's cluster wrapped by wrap.
func newNodeWrapped(t *testing.T, h *transporttest.Hub, name string, wrap func(Cluster) Cluster, opts ...nodeOpt) *node {
	t.Helper()
	lb := &testkit.Log{}
	log := zerolog.New(lb).Level(zerolog.DebugLevel)
	n := &node{name: name, logs: lb, router: NewRouter(log)}
	n.port = h.Join(name, n.router.Deliver)
	n.router.Bind(n.port)
	n.cl = n.port
	if wrap != nil {
		n.cl = wrap(n.port)
	}
	cfg := DefaultConfig(testCtx)
	cfg.Route = name
	cfg.Logger = log
	cfg.StateTransferTimeout = 20 * time.Second
	for _, o := range opts {
		o(&cfg)
	}
	m, err := New(cfg, n.cl)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.router.Add(m); err != nil {
		t.Fatal(err)
	}
	n.m = m
	t.Cleanup(func() { _ = m.Stop(context.Background()) })
	return n
}

func (n *node) start(t *testing.T) {
	t.Helper()
	if err := n.m.Start(context.Background()); err != nil {
		t.Fatalf("%s: start: %v", n.name, err)
	}
}

// startNodes joins and starts nodes one after the other.
func startNodes(t *testing.T, h *transporttest.Hub, names []string, opts ...nodeOpt) []*node {
	t.Helper()
	var out []*node
	for _, name := range names {
		n := newNode(t, h, name, opts...)
		n.start(t)
		out = append(out, n)
	}
	return out
}

func newHub(t *testing.T) *transporttest.Hub {
	h := transporttest.NewHub(1)
	t.Cleanup(h.Close)
	return h
}

// request simulates one HTTP request on n using session id (or a new
// session when id is ""): Find/Create, Access, fn, RequestCompleted, EndAccess.
func (n *node) request(t *testing.T, id string, fn func(s *session.Session)) (*session.Session, error) {
	t.Helper()
	var s *session.Session
	if id != "" {
		s = n.m.Find(id)
		if s == nil {
			t.Fatalf("%s: session %s not found", n.name, id)
		}
	} else {
		var err error
		s, err = n.m.Create(context.Background())
		if err != nil {
			t.Fatalf("%s: create: %v", n.name, err)
		}
	}
	s.Access(n.m.now())
	if fn != nil {
		fn(s)
	}
	err := n.m.RequestCompleted(context.Background(), s)
	s.EndAccess()
	return s, err
}

// get returns the decoded attribute key of session id on n.
func (n *node) get(id, key string) (any, bool) {
	s := n.m.store.Get(id)
	if s == nil {
		return nil, false
	}
	return s.Get(key)
}

func withClock(c *testkit.Clock) nodeOpt { return func(cfg *Config) { cfg.Now = c.Now } }

func withSync() nodeOpt { return func(cfg *Config) { cfg.SendOptions = OptionsSync } }

func sent(n *node, k Kind) uint64 { return n.m.Stats().Sent[k] }

func mustSet(t *testing.T, s *session.Session, k string, v any) {
	t.Helper()
	if err := s.Set(k, v); err != nil {
		t.Fatal(err)
	}
}
