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

func newHub(t *testing.T) *transporttest.Hub {
	h := transporttest.NewHub(1)
	t.Cleanup(h.Close)
	return h
}

// startNode joins the hub as name and starts a manager for testCtx.
func startNode(t *testing.T, h *transporttest.Hub, name string, opts ...nodeOpt) *node {
	t.Helper()
	lb := &testkit.Log{}
	log := zerolog.New(lb).Level(zerolog.DebugLevel)
	n := &node{name: name, logs: lb, router: NewRouter(log)}
	n.port = h.Join(name, n.router.Deliver)
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
	t.Cleanup(func() { _ = m.Stop(context.Background()) })
	if err := m.Start(context.Background()); err != nil {
		t.Fatalf("%s: start: %v", name, err)
	}
	return n
}

// cluster starts k nodes n1..nk, each knowing all the others.
func cluster(t *testing.T, h *transporttest.Hub, k int, opts ...nodeOpt) []*node {
	t.Helper()
	var out []*node
	for i := 1; i <= k; i++ {
		out = append(out, startNode(t, h, fmt.Sprintf("n%d", i), opts...))
	}
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

// kill removes n from the hub (its messages are lost, as kill -9) and stops its manager.
func kill(h *transporttest.Hub, n *node) {
	h.Leave(n.name)
	_ = n.m.Stop(context.Background())
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

func alive(nodes []*node, dead ...*node) []*node {
	var out []*node
next:
	for _, n := range nodes {
		for _, d := range dead {
			if n == d {
				continue next
			}
		}
		out = append(out, n)
	}
	return out
}

func totalLost(nodes []*node) uint64 {
	var n uint64
	for _, x := range nodes {
		n += x.m.Stats().Lost
	}
	return n
}

func testkitLogger() zerolog.Logger { return zerolog.Nop() }
