package balancer

import (
	"context"

	"github.com/gomcat/gomcat/mcast"
)

// Observed is what Observe needs of a membership: *mcast.Observer (a silent
// multicast listener) and *mcast.Static both have it.
type Observed interface {
	Start(ctx context.Context) error
	Stop(ctx context.Context) error
	Events() <-chan mcast.Event
	Members() []mcast.Member
}

// Observe returns a Discovery fed by a cluster membership: each heartbeat
// carries the node's HTTPURL and its name (jvmRoute). Added, Replaced and
// Updated → up; Disappeared → down; Left → draining. Foreign (Tomcat)
// members and members without an HTTPURL are skipped. Run starts and stops src.
func Observe(src Observed) Discovery {
	return memberRun[mcast.Event]{
		start:   src.Start,
		stop:    src.Stop,
		events:  src.Events,
		convert: fromMcast,
		members: func() []MemberEvent {
			var out []MemberEvent
			for _, m := range src.Members() {
				if usable(m) {
					out = append(out, MemberEvent{Kind: MemberAdded, Name: m.Name, HTTPURL: m.HTTPURL})
				}
			}
			return out
		},
		every: ReconcileInterval,
	}
}

func usable(m mcast.Member) bool { return !m.Foreign && m.Name != "" && m.HTTPURL != "" }

func fromMcast(e mcast.Event) (MemberEvent, bool) {
	var k MemberKind
	switch e.Kind {
	case mcast.Added:
		k = MemberAdded
	case mcast.Replaced:
		k = MemberReplaced
	case mcast.Updated:
		k = MemberUpdated
	case mcast.Disappeared:
		k = MemberDisappeared
	case mcast.Left:
		k = MemberLeft
	default:
		return MemberEvent{}, false
	}
	if e.Member.Foreign || e.Member.Name == "" {
		return MemberEvent{}, false
	}
	if (k == MemberAdded || k == MemberUpdated) && e.Member.HTTPURL == "" {
		return MemberEvent{}, false
	}
	me := MemberEvent{Kind: k, Name: e.Member.Name, HTTPURL: e.Member.HTTPURL}
	if k == MemberReplaced {
		me.OldName = e.Old.Name
		if e.Member.HTTPURL == "" { // the new incarnation has no HTTP connector
			me = MemberEvent{Kind: MemberDisappeared, Name: e.Member.Name}
			if e.Old.Name != "" && e.Old.Name != e.Member.Name {
				me.Name = e.Old.Name
			}
		}
	}
	return me, true
}

// NodesOf lists the members usable by a front end (not foreign, with an
// HTTPURL) as Generate input, in the given order.
func NodesOf(members []mcast.Member) []NodeInfo {
	var out []NodeInfo
	for _, m := range members {
		if usable(m) {
			out = append(out, NodeInfo{Name: m.Name, HTTPURL: m.HTTPURL})
		}
	}
	return out
}
