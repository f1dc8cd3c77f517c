package balancer

import (
	"context"
	"errors"
	"time"
)

// MemberKind is a membership change as a heartbeat observer reports it
// (the mcast.Event kinds). Append only.
type MemberKind int

// Membership change kinds.
const (
	MemberAdded       MemberKind = iota + 1 // first heartbeat heard → live
	MemberReplaced                          // restarted (new unique id) → live, maybe at a new URL
	MemberDisappeared                       // silent for dropTime → down
	MemberLeft                              // said goodbye (shutdown) → draining
	MemberUpdated                           // changed its HTTP URL → live at the new URL
)

// MemberEvent is one membership change with what the balancer needs of the member.
type MemberEvent struct {
	Kind    MemberKind
	Name    string // jvmRoute
	HTTPURL string // the node's HTTP connector, from its heartbeat
	OldName string // Replaced: the name of the member it replaced, if different
}

// MemberSource is a silent heartbeat observer.
type MemberSource interface {
	// Start begins listening; it does not block beyond opening sockets.
	Start(ctx context.Context) error
	// Events delivers changes; it may drop the oldest when the reader lags
	// (the balancer reconciles with Members). Closed after Stop.
	Events() <-chan MemberEvent
	// Members lists the live members now. Concurrency-safe, non-blocking.
	Members() []MemberEvent
	// Stop stops listening; idempotent.
	Stop(ctx context.Context) error
}

// ReconcileInterval is how often a membership Discovery compares the table
// with the observer's member list, to repair events dropped under load.
const ReconcileInterval = 5 * time.Second

// Membership returns a Discovery fed by heartbeats: Added, Replaced, Updated
// → up; Disappeared → down; Left → draining. Nodes are not health-checked
// actively; a node that fails a connection is probed until it passes
// Config.Health.Rise checks.
func Membership(src MemberSource) Discovery {
	return memberRun[MemberEvent]{
		start:   src.Start,
		stop:    src.Stop,
		events:  src.Events,
		convert: func(e MemberEvent) (MemberEvent, bool) { return e, true },
		members: src.Members,
		every:   ReconcileInterval,
	}
}

// memberRun is the membership Discovery over any observer whose events are
// of type E (MemberEvent, or mcast.Event for Observe).
type memberRun[E any] struct {
	start, stop func(context.Context) error
	events      func() <-chan E
	convert     func(E) (MemberEvent, bool) // false: not for the balancer
	members     func() []MemberEvent
	every       time.Duration
}

var errEventsClosed = errors.New("balancer: membership events closed")

func (m memberRun[E]) Run(ctx context.Context, emit func(Event)) error {
	if err := m.start(ctx); err != nil {
		return err
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = m.stop(sctx)
	}()
	up := map[string]string{} // names reported up → URL
	send := func(e MemberEvent) {
		switch e.Kind {
		case MemberAdded, MemberReplaced, MemberUpdated:
			if e.OldName != "" && e.OldName != e.Name {
				delete(up, e.OldName)
				emit(Event{Kind: NodeDown, Name: e.OldName})
			}
			up[e.Name] = e.HTTPURL
			emit(Event{Kind: NodeUp, Name: e.Name, URL: e.HTTPURL})
		case MemberDisappeared:
			delete(up, e.Name)
			emit(Event{Kind: NodeDown, Name: e.Name})
		case MemberLeft:
			delete(up, e.Name)
			emit(Event{Kind: NodeLeaving, Name: e.Name})
		}
	}
	reconcile := func() {
		now := map[string]bool{}
		for _, e := range m.members() {
			now[e.Name] = true
			if u, ok := up[e.Name]; !ok || u != e.HTTPURL {
				send(MemberEvent{Kind: MemberAdded, Name: e.Name, HTTPURL: e.HTTPURL})
			}
		}
		for name := range up {
			if !now[name] {
				send(MemberEvent{Kind: MemberDisappeared, Name: name})
			}
		}
	}
	reconcile()
	t := time.NewTicker(m.every)
	defer t.Stop()
	events := m.events()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			reconcile()
		case e, ok := <-events:
			if !ok {
				if ctx.Err() != nil {
					return nil
				}
				return errEventsClosed
			}
			if me, ok := m.convert(e); ok {
				send(me)
			}
		}
	}
}
