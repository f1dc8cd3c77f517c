package deltamgr

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
)

// stuck is a cluster whose broadcasts hang until their ctx ends (a member
// that stopped answering, in sync mode).
type stuck struct {
	Cluster
	entered chan struct{}
	calls   atomic.Int32
}

func (s *stuck) Broadcast(ctx context.Context, _ []byte, _ int) error {
	if s.calls.Add(1) == 1 {
		close(s.entered)
	}
	<-ctx.Done()
	return ctx.Err()
}

// Regression: Stop honours its ctx while expiring sessions on shutdown
// (it used to send each EXPIRED with the manager's own context, so a hung
// member held Stop forever). Once ctx ends the rest expire locally only.
func TestStopHonoursCtxWhileExpiring(t *testing.T) {
	h := newCluster(t)
	st := &stuck{entered: make(chan struct{})}
	newNode(t, h, "n2").start(t) // a member, so sessions are announced
	n := newNodeWrapped(t, h, "n1", func(c Cluster) Cluster { st.Cluster = c; return st },
		withSync(), func(cfg *Config) { cfg.ExpireSessionsOnShutdown = true; cfg.StateTransferTimeout = 0 })
	n.start(t)
	var ids []string
	for range 5 {
		s, err := n.m.Create(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		n.m.mu.Lock()
		n.m.meta[s].announced = true
		n.m.mu.Unlock()
		ids = append(ids, s.ID())
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-st.entered; cancel() }()
	err := n.m.Stop(ctx)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Stop: %v, want context.Canceled", err)
	}
	if n.m.Count() != 0 {
		t.Fatalf("%d sessions left after Stop", n.m.Count())
	}
	if c := st.calls.Load(); c != 1 {
		t.Fatalf("%d EXPIRED broadcasts, want 1 (the rest local only once ctx ended)", c)
	}
}
