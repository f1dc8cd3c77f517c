package deltamgr

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/gomcat/gomcat/internal/testkit"
	"github.com/gomcat/gomcat/runtime/session"
)

// twoContexts is a node with ROOT and /shop.
type twoContexts struct {
	r          *Router
	logs       *testkit.Log
	root, shop *Manager
}

func newTwoContexts(t *testing.T, h *cluster, name string) *twoContexts {
	t.Helper()
	lb := &testkit.Log{}
	log := zerolog.New(lb)
	n := &twoContexts{r: NewRouter(log), logs: lb}
	p := h.Join(name, n.r.Deliver)
	n.r.Bind(p)
	for _, ctx := range []string{"localhost#", "localhost#/shop"} {
		cfg := DefaultConfig(ctx)
		cfg.Route = name
		cfg.Logger = log
		m, err := New(cfg, p)
		if err != nil {
			t.Fatal(err)
		}
		if err := n.r.Add(m); err != nil {
			t.Fatal(err)
		}
		if err := m.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { m.Stop(context.Background()) })
		if ctx == "localhost#" {
			n.root = m
		} else {
			n.shop = m
		}
	}
	return n
}

func TestRouterRoutesByContextName(t *testing.T) {
	h := newCluster(t)
	a, b := newTwoContexts(t, h, "n1"), newTwoContexts(t, h, "n2")
	s, _ := a.root.Create(context.Background())
	mustSet(t, s, "where", "root")
	a.root.RequestCompleted(context.Background(), s)
	testkit.WaitWithin(t, "ROOT session on n2", 5*time.Second, func() bool { return b.root.Find(s.ID()) != nil })
	if b.shop.Count() != 0 || a.shop.Count() != 0 {
		t.Fatal("a ROOT session reached /shop")
	}
	if b.r.Manager("localhost#") != b.root || b.r.Manager("localhost#/nope") != nil {
		t.Fatal("Manager lookup")
	}
	if err := b.r.Add(b.root); !errors.Is(err, ErrDuplicateContext) {
		t.Fatalf("duplicate Add: %v", err)
	}
	b.shop.Stop(context.Background())
	if b.r.Manager("localhost#/shop") != nil {
		t.Fatal("stopped manager still routed")
	}
}

func TestRouterUnknownContext(t *testing.T) {
	h := newCluster(t)
	n := newTwoContexts(t, h, "n1")
	rec := newRecorder(h, "peer", nil)
	delta, _ := Encode(&Message{Kind: KindDelta, Context: "localhost#/nope", SessionID: "S"})
	if err := rec.port.Send(context.Background(), "n1", delta, OptionsSync); err != nil {
		t.Fatalf("unknown context is not an error for the sender: %v", err)
	}
	ll, ok := n.logs.Match(`^Context manager doesn't exist:\[localhost#/nope\]$`)
	if !ok || ll.Level != "warn" {
		t.Fatalf("log %+v", ll)
	}
	getAll, _ := Encode(&Message{Kind: KindGetAllSessions, Context: "localhost#/nope", Transfer: 9})
	rec.port.Send(context.Background(), "n1", getAll, OptionsSync)
	testkit.WaitWithin(t, "NOCONTEXTMANAGER", 5*time.Second, func() bool { return len(rec.of(KindAllSessionNoContextManager)) == 1 })
	if m := rec.of(KindAllSessionNoContextManager)[0]; m.Transfer != 9 || m.Context != "localhost#/nope" {
		t.Fatalf("reply %+v", m)
	}
	if len(rec.of(KindAllSessionNoContextManager)) != 1 || len(rec.msgs) != 1 {
		t.Fatal("a DELTA for an unknown context was answered")
	}
}

func TestRouterRejectsGarbageIgnoresUnknownKinds(t *testing.T) {
	r := NewRouter(zerolog.Nop())
	if err := r.Deliver(context.Background(), "x", []byte("not cbor")); !errors.Is(err, ErrMalformed) {
		t.Fatalf("garbage: %v", err)
	}
	b, _ := Encode(&Message{Kind: 99, Context: "c"})
	if err := r.Deliver(context.Background(), "x", b); err != nil {
		t.Fatalf("unknown kind: %v", err)
	}
	// Unbound router: a GET_ALL for an unknown context is only logged.
	b, _ = Encode(&Message{Kind: KindGetAllSessions, Context: "c"})
	if err := r.Deliver(context.Background(), "x", b); err != nil {
		t.Fatal(err)
	}
}

// Messages that reach a manager before Start are queued, not lost.
func TestMessagesBeforeStartAreQueued(t *testing.T) {
	h := newCluster(t)
	n1 := newNode(t, h, "n1")
	n1.start(t)
	n2 := newNode(t, h, "n2")
	s, _ := n1.request(t, "", func(s *session.Session) { mustSet(t, s, "k", 1) })
	testkit.WaitWithin(t, "queued on n2", 5*time.Second, func() bool {
		n2.m.mu.Lock()
		defer n2.m.mu.Unlock()
		return len(n2.m.queue) == 1
	})
	n2.start(t)
	if v, _ := n2.get(s.ID(), "k"); v != int64(1) {
		t.Fatal("message received before Start lost")
	}
}
