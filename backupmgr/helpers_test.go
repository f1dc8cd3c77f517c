package backupmgr

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/gomcat/gomcat/internal/testkit"
	"github.com/gomcat/gomcat/runtime/session"
	"github.com/gomcat/gomcat/transport/transporttest"
)

const testCtx = "localhost#/app"

// node is one member of a test cluster: router, hub port, one manager.
type node struct {
	name   string
	router *Router
	port   *transporttest.Port
	m      *Manager
	logs   *testkit.Log
}

type nodeOpt func(*Config)

func withBackups(n int) nodeOpt { return func(c *Config) { c.Backups = n } }

// cluster is a test cluster of backupmgr nodes on one hub.
type cluster = transporttest.Cluster[*node]

func newCluster(t *testing.T) *cluster { return transporttest.NewCluster[*node](t, 1) }

// startNode adds name to the cluster and starts a manager for testCtx.
func startNode(t *testing.T, h *cluster, name string, opts ...nodeOpt) *node {
	t.Helper()
	return h.Add(name, build(opts...))
}

// startCluster starts k nodes n1..nk, each knowing all the others.
func startCluster(t *testing.T, h *cluster, k int, opts ...nodeOpt) []*node {
	t.Helper()
	out := h.AddAll(build(opts...), transporttest.Names("n", k)...)
	testkit.WaitFor(t, "every node knows every peer", func() bool {
		for _, n := range out {
			if n.m.Peers() != k-1 {
				return false
			}
		}
		return true
	})
	return out
}

// build is the factory of the test nodes: a router on the hub port and a
// started manager for testCtx.
func build(opts ...nodeOpt) transporttest.Build[*node] {
	return func(t testing.TB, name string, join func(transporttest.DeliverFunc) *transporttest.Port) (*node, func()) {
		t.Helper()
		lb := &testkit.Log{}
		log := zerolog.New(lb).Level(zerolog.DebugLevel)
		n := &node{name: name, logs: lb, router: NewRouter(log)}
		n.port = join(n.router.Deliver)
		n.router.Bind(n.port)
		cfg := DefaultConfig(testCtx)
		cfg.Route = name
		cfg.Logger = log
		cfg.RPCTimeout = 5 * time.Second
		cfg.RebalanceRate = 0
		for _, o := range opts {
			o(&cfg)
		}
		m, err := New(cfg, n.port)
		if err != nil {
			t.Fatal(err)
		}
		if err := n.router.Add(m); err != nil {
			t.Fatal(err)
		}
		n.m = m
		stop := func() { _ = m.Stop(context.Background()) }
		if err := m.Start(context.Background()); err != nil {
			stop()
			t.Fatalf("%s: start: %v", name, err)
		}
		return n, stop
	}
}

// request runs one request on n for id ("" creates): Find/Create, fn, RequestCompleted.
func (n *node) request(id string, fn func(s *session.Session)) (*session.Session, error) {
	var s *session.Session
	if id == "" {
		var err error
		if s, err = n.m.Create(context.Background()); err != nil {
			return nil, err
		}
	} else if s = n.m.Find(id); s == nil {
		return nil, fmt.Errorf("%s: session %s not found", n.name, id)
	}
	s.Access(n.m.now())
	if fn != nil {
		fn(s)
	}
	err := n.m.RequestCompleted(context.Background(), s)
	s.EndAccess()
	if err == nil && !s.Valid() {
		err = fmt.Errorf("%s: session ended during the request (node stopped)", n.name)
	}
	return s, err
}

func set(k string, v any) func(*session.Session) {
	return func(s *session.Session) { _ = s.Set(k, v) }
}

// value reads attribute "v" of id through a request on n.
func (n *node) value(id string) (int, error) {
	var got int
	var ok bool
	_, err := n.request(id, func(s *session.Session) {
		var err error
		got, ok, err = session.GetAs[int](s, "v")
		if err != nil {
			ok = false
		}
	})
	if err == nil && !ok {
		err = fmt.Errorf("%s: %s has no v", n.name, id)
	}
	return got, err
}

// holders counts the live copies of id over nodes.
func holders(nodes []*node, id string) int {
	k := 0
	for _, n := range nodes {
		if n.m.store.Get(id) != nil {
			k++
		}
	}
	return k
}

func totalLost(nodes []*node) uint64 {
	var n uint64
	for _, x := range nodes {
		n += x.m.Stats().Lost
	}
	return n
}

func testkitLogger() zerolog.Logger { return zerolog.Nop() }
