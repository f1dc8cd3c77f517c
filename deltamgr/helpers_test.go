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

// cluster is a test cluster of deltamgr nodes on one hub.
type cluster = transporttest.Cluster[*node]

func newCluster(t *testing.T) *cluster { return transporttest.NewCluster[*node](t, 1) }

// newNode adds name to the cluster with a manager for testCtx, not started.
func newNode(t *testing.T, h *cluster, name string, opts ...nodeOpt) *node {
	t.Helper()
	return h.Add(name, build(nil, false, opts...))
}

// newNodeWrapped is newNode with the manager's cluster wrapped by wrap.
func newNodeWrapped(t *testing.T, h *cluster, name string, wrap func(Cluster) Cluster, opts ...nodeOpt) *node {
	t.Helper()
	return h.Add(name, build(wrap, false, opts...))
}

// startNodes adds and starts nodes one after the other.
func startNodes(t *testing.T, h *cluster, names []string, opts ...nodeOpt) []*node {
	t.Helper()
	return h.AddAll(build(nil, true, opts...), names...)
}

// build is the factory of the test nodes: a router on the hub port, one
// manager for testCtx on the port (or on wrap of it), started if start.
func build(wrap func(Cluster) Cluster, start bool, opts ...nodeOpt) transporttest.Build[*node] {
	return func(t testing.TB, name string, join func(transporttest.DeliverFunc) *transporttest.Port) (*node, func()) {
		t.Helper()
		lb := &testkit.Log{}
		log := zerolog.New(lb).Level(zerolog.DebugLevel)
		n := &node{name: name, logs: lb, router: NewRouter(log)}
		n.port = join(n.router.Deliver)
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
		stop := func() { _ = m.Stop(context.Background()) }
		if start {
			n.start(t)
		}
		return n, stop
	}
}

// start starts n's manager; if that fails it stops it and fails the test.
func (n *node) start(t testing.TB) {
	t.Helper()
	if err := n.m.Start(context.Background()); err != nil {
		_ = n.m.Stop(context.Background())
		t.Fatalf("%s: start: %v", n.name, err)
	}
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
