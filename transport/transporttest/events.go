package transporttest

import "slices"

// Membership event kinds passed to a Subscribe callback (the numbers of
// runtime/cluster's EventKind and of the consumers' seams).
const (
	MemberJoined   = 1
	MemberLeft     = 2
	MemberReplaced = 3 // a Join under the name of a live member
)

type hubSub struct {
	id int
	fn func(kind int, member string)
}

// Subscribe calls fn with MemberJoined for every member p sees now, before
// it returns, then once for every change of what p sees (Join, Leave,
// Partition, Heal, Close), in order. Calls are made one at a time on the
// goroutine that made the change, after Members shows it; fn must not
// block and must not call Join, Leave, Partition, Heal, Close, Subscribe
// or cancel (deadlock). Once p left (Leave, Close, a Join under its
// name) fn is not called any more. cancel is idempotent; once it returns fn is not
// called again.
func (p *Port) Subscribe(fn func(kind int, member string)) (cancel func()) {
	h := p.h
	h.evMu.Lock()
	defer h.evMu.Unlock()
	h.mu.Lock()
	cur := h.peersLocked(p, false)
	h.mu.Unlock()
	for _, q := range cur {
		fn(MemberJoined, q.name)
	}
	if h.subs == nil {
		h.subs = make(map[*Port][]hubSub)
	}
	h.next++
	id := h.next
	h.subs[p] = append(h.subs[p], hubSub{id, fn})
	return func() {
		h.evMu.Lock()
		defer h.evMu.Unlock()
		h.subs[p] = slices.DeleteFunc(h.subs[p], func(s hubSub) bool { return s.id == id })
	}
}

// change runs f with h.mu held, then tells each subscribing port what it
// now sees differently.
func (h *Hub) change(f func()) {
	h.evMu.Lock()
	defer h.evMu.Unlock()
	h.mu.Lock()
	before := make(map[*Port][]*Port, len(h.subs))
	for p := range h.subs {
		before[p] = h.peersLocked(p, false)
	}
	f()
	type note struct {
		subs []hubSub
		evs  []hubEvent
	}
	var notes []note
	for _, p := range h.order { // live subscribers, in join order
		if subs := h.subs[p]; len(subs) > 0 {
			if evs := diffPeers(before[p], h.peersLocked(p, false)); len(evs) > 0 {
				notes = append(notes, note{slices.Clone(subs), evs})
			}
		}
	}
	for p := range h.subs {
		if h.ports[p.name] != p {
			delete(h.subs, p) // left: it hears nothing more
		}
	}
	h.mu.Unlock()
	for _, n := range notes {
		for _, ev := range n.evs {
			for _, s := range n.subs {
				s.fn(ev.kind, ev.name)
			}
		}
	}
}

type hubEvent struct {
	kind int
	name string
}

// diffPeers lists departures, then replacements and arrivals.
func diffPeers(old, cur []*Port) []hubEvent {
	var evs []hubEvent
	byName := func(ps []*Port, name string) *Port {
		for _, p := range ps {
			if p.name == name {
				return p
			}
		}
		return nil
	}
	for _, p := range old {
		if byName(cur, p.name) == nil {
			evs = append(evs, hubEvent{MemberLeft, p.name})
		}
	}
	for _, p := range cur {
		switch o := byName(old, p.name); {
		case o == nil:
			evs = append(evs, hubEvent{MemberJoined, p.name})
		case o != p:
			evs = append(evs, hubEvent{MemberReplaced, p.name})
		}
	}
	return evs
}
