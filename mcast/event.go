package mcast

import (
	"sync"
	"sync/atomic"
)

// Kind is what happened to a member. Wire/API enum: append only.
type Kind uint8

const (
	// Added: first heartbeat of a new identity.
	Added Kind = iota + 1
	// Disappeared: silent for longer than DropTime (Static: probe failed or expired).
	Disappeared
	// Left: the member announced its shutdown (BABY-ALEX); no wait.
	Left
	// Replaced: same Name or same receiver host:port came back with a new
	// UniqueID; Event.Old is removed at once and Event.Member takes its place.
	// The younger incarnation (StartedAt, then UniqueID) wins: heartbeats of
	// an older one still talking are ignored (Stats.Conflicts), so two
	// processes with one name do not flap.
	Replaced
	// Updated: a known member changed its HTTPURL or flags. May be ignored.
	Updated
)

func (k Kind) String() string {
	switch k {
	case Added:
		return "added"
	case Disappeared:
		return "disappeared"
	case Left:
		return "left"
	case Replaced:
		return "replaced"
	case Updated:
		return "updated"
	}
	return "unknown"
}

// Event is one membership change. Old is set only for Replaced.
type Event struct {
	Kind   Kind
	Member Member
	Old    Member
}

// emitter feeds the Events channel without ever blocking the producer: when
// the buffer is full the oldest event is discarded and counted. Consumers
// that fall behind reconcile with Members(). emit and close are serialised
// by mu, so the channel has a single producer and drop-oldest cannot spin.
type emitter struct {
	mu      sync.Mutex
	ch      chan Event
	closed  bool
	dropped atomic.Uint64
}

func newEmitter(n int) *emitter {
	if n < 1 {
		n = 1
	}
	return &emitter{ch: make(chan Event, n)}
}

func (e *emitter) emit(ev Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return
	}
	for {
		select {
		case e.ch <- ev:
			return
		default:
		}
		select {
		case <-e.ch:
			e.dropped.Add(1)
		default:
		}
	}
}

func (e *emitter) close() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.closed {
		e.closed = true
		close(e.ch)
	}
}
