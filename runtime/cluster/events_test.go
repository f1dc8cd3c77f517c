package cluster_test

import (
	"context"
	"crypto/rand"
	"slices"
	"sync"
	"testing"

	"github.com/gomcat/gomcat/internal/testkit"
	"github.com/gomcat/gomcat/mcast"
	"github.com/gomcat/gomcat/runtime/cluster"
)

// events records what a subscriber got, and what Members said at that moment.
type events struct {
	mu  sync.Mutex
	got []string // "kind member"
	saw [][]string
}

func (e *events) list() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.got)
}

// Joins, a restart under the same name, a goodbye and Stop reach a
// subscriber as joined/replaced/left, in order; a late subscriber gets the
// current members first; cancel ends the calls.
func TestSubscribeMembershipEvents(t *testing.T) {
	c, f, _ := startFake(t, "a", nil)
	var ev events
	port := c.Port(1)
	cancel := port.Subscribe(func(kind int, member string) {
		ev.mu.Lock()
		defer ev.mu.Unlock()
		ev.got = append(ev.got, cluster.EventKind(kind).String()+" "+member)
		ev.saw = append(ev.saw, port.Members())
	})
	defer cancel()
	b, d := newPeer(t, "b", true), newPeer(t, "d", true)
	f.emit(mcast.Added, b.m)
	testkit.WaitFor(t, "b joined", func() bool { return len(ev.list()) == 1 })
	f.emit(mcast.Added, d.m)
	testkit.WaitFor(t, "d joined", func() bool { return len(ev.list()) == 2 })

	// A new incarnation of b: one replaced event, never a gap.
	b2 := *b
	b2.m.StartedAt++
	rand.Read(b2.m.UniqueID[:])
	f.emit(mcast.Replaced, b2.m, b.m)
	testkit.WaitFor(t, "b replaced", func() bool { return len(ev.list()) == 3 })

	var late events
	cancelLate := c.Subscribe(func(e cluster.MemberEvent) {
		late.mu.Lock()
		defer late.mu.Unlock()
		late.got = append(late.got, e.Kind.String()+" "+e.Member.Name)
	})
	if got := late.list(); !slices.Equal(got, []string{"joined b", "joined d"}) && !slices.Equal(got, []string{"joined d", "joined b"}) {
		t.Fatalf("late subscriber got %v, want the current members", got)
	}
	cancelLate()
	cancelLate() // idempotent

	f.emit(mcast.Left, d.m)
	testkit.WaitFor(t, "d left", func() bool { return len(ev.list()) == 4 })
	if err := c.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := []string{"joined b", "joined d", "replaced b", "left d", "left b"}
	if got := ev.list(); !slices.Equal(got, want) {
		t.Fatalf("events %v, want %v", got, want)
	}
	// Members already showed each change when it was reported.
	ev.mu.Lock()
	defer ev.mu.Unlock()
	if !slices.Contains(ev.saw[0], "b") || slices.Contains(ev.saw[3], "d") || len(ev.saw[4]) != 0 {
		t.Fatalf("Members during the calls: %v", ev.saw)
	}
	if got := late.list(); len(got) != 2 {
		t.Fatalf("cancelled subscriber still called: %v", got)
	}
}
