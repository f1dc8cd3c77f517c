package mcast

import (
	"errors"
	"math"
	"slices"
	"time"
)

// table is the membership state machine: pure (no I/O, no clock, no locks;
// Service.mu guards it), so its rules are tested directly.
type table struct {
	dropTime  time.Duration
	domain    string
	anyDomain bool
	hasSelf   bool
	self      identity
	selfName  string
	selfAddr  addrKey

	members map[identity]*Member
	foreign map[identity]*Member
	logged  map[[16]byte]struct{} // foreign or conflicting ids already logged; bounded
}

// outcome says what one heartbeat did, for stats and logs.
type outcome uint8

const (
	oKnown       outcome = iota // refreshed a known member (maybe Updated)
	oNew                        // Added or Replaced
	oLeft                       // shutdown of a known member
	oSelf                       // our own heartbeat looped back
	oOtherDomain                // another domain: ignored
	oBadPayload                 // Gomcat magic but undecodable payload
	oForeign                    // foreign member refreshed or left
	oForeignNew                 // foreign member seen first (log once)
	oConflict                   // our name/address, or an older incarnation than the one we have
	oUnknownLeft                // shutdown of a member we do not have
)

const maxLogged = 1024

func newTable(c Config, self *Member) *table {
	t := &table{
		dropTime:  c.DropTime,
		domain:    c.Domain,
		anyDomain: c.AnyDomain,
		members:   make(map[identity]*Member),
		foreign:   make(map[identity]*Member),
		logged:    make(map[[16]byte]struct{}),
	}
	if self != nil {
		t.hasSelf, t.self, t.selfName, t.selfAddr = true, self.identity(), self.Name, self.addrKey()
	}
	return t
}

func aliveDuration(ms int64) time.Duration {
	switch {
	case ms < 0:
		return 0
	case ms > math.MaxInt64/int64(time.Millisecond):
		return math.MaxInt64
	}
	return time.Duration(ms) * time.Millisecond
}

// firstLog reports whether id has not been logged yet, remembering it.
func (t *table) firstLog(id [16]byte) bool {
	if _, ok := t.logged[id]; ok {
		return false
	}
	if len(t.logged) >= maxLogged {
		clear(t.logged)
	}
	t.logged[id] = struct{}{}
	return true
}

// receive applies one decoded heartbeat heard at now. m is the member as
// decoded (valid for every outcome but oOtherDomain and oBadPayload).
func (t *table) receive(h Heartbeat, now time.Time) (o outcome, m Member, evs []Event, err error) {
	if string(h.Domain) != t.domain && !t.anyDomain {
		return oOtherDomain, m, nil, nil
	}
	m = Member{
		Domain:    string(h.Domain),
		Host:      append([]byte(nil), h.Host...),
		Port:      h.Port,
		UniqueID:  h.UniqueID,
		Alive:     aliveDuration(h.Alive),
		LastHeard: now,
	}
	id := m.identity()
	if t.hasSelf && id == t.self {
		return oSelf, m, nil, nil
	}
	if h.IsShutdown() {
		if old, ok := t.members[id]; ok {
			delete(t.members, id)
			return oLeft, *old, []Event{{Kind: Left, Member: old.clone()}}, nil
		}
		if old, ok := t.foreign[id]; ok {
			delete(t.foreign, id)
			return oForeign, *old, nil, nil
		}
		return oUnknownLeft, m, nil, nil
	}
	p, err := DecodePayload(h.Payload)
	if errors.Is(err, ErrForeign) {
		return t.foreignHeartbeat(m, now)
	}
	if err != nil {
		return oBadPayload, m, nil, err
	}
	m.Name, m.HTTPURL, m.StartedAt = p.Name, p.HTTPURL, p.StartedAt

	if t.hasSelf && (m.Name == t.selfName || m.addrKey() == t.selfAddr) {
		return oConflict, m, nil, nil
	}
	if old, ok := t.members[id]; ok {
		changed := old.Name != m.Name || old.HTTPURL != m.HTTPURL || old.StartedAt != m.StartedAt
		*old = m
		if changed {
			return oKnown, m, []Event{{Kind: Updated, Member: m.clone()}}, nil
		}
		return oKnown, m, nil, nil
	}
	var rivals []*Member
	for _, c := range t.members {
		if c.Name == m.Name || c.addrKey() == m.addrKey() {
			if compareAge(m, *c) < 0 {
				return oConflict, m, nil, nil // an older incarnation than the one we keep
			}
			rivals = append(rivals, c)
		}
	}
	stored := m
	t.members[id] = &stored
	if len(rivals) == 0 {
		return oNew, m, []Event{{Kind: Added, Member: m.clone()}}, nil
	}
	slices.SortFunc(rivals, func(a, b *Member) int { // the same name is the one replaced
		if (a.Name == m.Name) != (b.Name == m.Name) {
			if a.Name == m.Name {
				return -1
			}
			return 1
		}
		return compareAge(*a, *b)
	})
	for i, c := range rivals {
		delete(t.members, c.identity())
		if i == 0 {
			evs = append(evs, Event{Kind: Replaced, Member: m.clone(), Old: c.clone()})
		} else {
			evs = append(evs, Event{Kind: Disappeared, Member: c.clone()})
		}
	}
	return oNew, m, evs, nil
}

func (t *table) foreignHeartbeat(m Member, now time.Time) (outcome, Member, []Event, error) {
	m.Foreign = true
	id := m.identity()
	if old, ok := t.foreign[id]; ok {
		m.StartedAt = old.StartedAt
		*old = m
		return oForeign, m, nil, nil
	}
	m.StartedAt = now.UnixMilli() - m.Alive.Milliseconds()
	for oid, c := range t.foreign { // a restarted Tomcat on the same address
		if c.addrKey() == m.addrKey() {
			delete(t.foreign, oid)
		}
	}
	stored := m
	t.foreign[id] = &stored
	if t.firstLog(m.UniqueID) {
		return oForeignNew, m, nil, nil
	}
	return oForeign, m, nil, nil
}

// expire removes members silent for longer than dropTime.
func (t *table) expire(now time.Time) []Event {
	var evs []Event
	for id, m := range t.members {
		if now.Sub(m.LastHeard) > t.dropTime {
			delete(t.members, id)
			evs = append(evs, Event{Kind: Disappeared, Member: m.clone()})
		}
	}
	for id, m := range t.foreign {
		if now.Sub(m.LastHeard) > t.dropTime {
			delete(t.foreign, id)
		}
	}
	return evs
}

// list returns copies sorted oldest first; foreign ones only if asked.
func (t *table) list(withForeign bool) []Member {
	out := make([]Member, 0, len(t.members))
	for _, m := range t.members {
		out = append(out, m.clone())
	}
	if withForeign {
		for _, m := range t.foreign {
			out = append(out, m.clone())
		}
	}
	sortMembers(out)
	return out
}
