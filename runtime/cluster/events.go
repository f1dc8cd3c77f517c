package cluster

import (
	"sync"

	"github.com/gomcat/gomcat/mcast"
)

// EventKind says what happened to a member. The values are part of the
// builtin-typed seam (Port.Subscribe, deltamgr and farmdeploy declare the
// same numbers). Append only.
type EventKind int

const (
	// MemberJoined: the name became a member (its receiver answered).
	MemberJoined EventKind = 1
	// MemberLeft: the member was removed (left, expired, unreachable, or
	// the cluster stopped).
	MemberLeft EventKind = 2
	// MemberReplaced: the same name is now a new incarnation (a restart, or
	// a static member's name learned again); the old one is gone. Sends in
	// flight to the old one fail with ErrNoSuchMember.
	MemberReplaced EventKind = 3
)

// String returns "joined", "left" or "replaced".
func (k EventKind) String() string {
	switch k {
	case MemberJoined:
		return "joined"
	case MemberLeft:
		return "left"
	case MemberReplaced:
		return "replaced"
	}
	return "unknown"
}

// MemberEvent is one membership change as the consumers see it (after the
// failure detector confirmed it).
type MemberEvent struct {
	Kind   EventKind
	Member mcast.Member // the member (for MemberLeft, as it was last known)
}

// subscribers is the cluster's list of event subscribers. Its mutex also
// serialises publishing a view with notifying it, so a Subscribe sees a
// view and then exactly the changes after it.
type subscribers struct {
	mu     sync.Mutex
	next   int
	list   []subscriber
	closed bool // Stop published the empty view: nothing more is published
}

type subscriber struct {
	id int
	fn func(MemberEvent)
}

// Subscribe registers fn for membership changes. Contract (as
// memberlist's EventDelegate):
//   - Before Subscribe returns, fn is called with MemberJoined for every
//     current member, oldest first; then once per change, in order.
//   - Calls are made one at a time (never concurrently, for all
//     subscribers together) on the cluster's event loop, or on the caller
//     of Stop for the MemberLeft events of the final, empty view. When fn
//     runs, Members and Seniors already show the change.
//   - fn must not block (it holds up the failure detector): hand work to a
//     goroutine or a buffered channel. It must not call Subscribe or the
//     returned cancel (they would deadlock); it may call Members, Seniors
//     and async sends.
//
// cancel unregisters fn: once it returns, fn is not called again.
// Idempotent. Subscribe and cancel are safe for concurrent use.
func (c *Cluster) Subscribe(fn func(MemberEvent)) (cancel func()) {
	s := &c.subs
	s.mu.Lock()
	for _, r := range c.view.Load().members {
		fn(MemberEvent{Kind: MemberJoined, Member: r.m})
	}
	s.next++
	id := s.next
	s.list = append(s.list, subscriber{id, fn})
	s.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			for i, x := range s.list {
				if x.id == id {
					s.list = append(s.list[:i:i], s.list[i+1:]...)
					return
				}
			}
		})
	}
}

// store publishes v and tells the subscribers what changed from the view
// it replaces. final marks Stop's empty view: nothing is published after it.
func (c *Cluster) store(v *view, final bool) {
	s := &c.subs
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	s.closed = final
	old := c.view.Load()
	c.view.Store(v)
	close(old.next) // wakes hellos waiting for a member (admit.go)
	if len(s.list) == 0 {
		return
	}
	for _, ev := range diff(old, v) {
		for _, x := range s.list {
			x.fn(ev)
		}
	}
}

// diff lists the changes from old to v: departures first (old order), then
// replacements and arrivals (v's order, oldest first).
func diff(old, v *view) []MemberEvent {
	var evs []MemberEvent
	for _, r := range old.members {
		if v.byName[r.m.Name] == nil {
			evs = append(evs, MemberEvent{Kind: MemberLeft, Member: r.m})
		}
	}
	for _, r := range v.members {
		o := old.byName[r.m.Name]
		switch {
		case o == nil:
			evs = append(evs, MemberEvent{Kind: MemberJoined, Member: r.m})
		case o.gen != r.gen:
			evs = append(evs, MemberEvent{Kind: MemberReplaced, Member: r.m})
		}
	}
	return evs
}

// Subscribe is Cluster.Subscribe in builtin types, for the consumers' seams
// (deltamgr.Cluster, farmdeploy.Cluster): kind is an EventKind (1 joined,
// 2 left, 3 replaced), member the member's name. Same contract.
func (p *Port) Subscribe(fn func(kind int, member string)) (cancel func()) {
	return p.c.Subscribe(func(ev MemberEvent) { fn(int(ev.Kind), ev.Member.Name) })
}
