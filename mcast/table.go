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

	maxMembers int                     // bound of members and of foreign
	challenges map[identity]*challenge // name takeovers waiting for a probe; bounded by maxMembers
}

// challenge is a heartbeat that claims a live member's name from another
// receiver address: it replaces the member only once a probe of the old
// one's receiver fails.
type challenge struct {
	old     identity // the member whose name is claimed
	m       Member   // the claimant, as last heard
	probing bool
	until   time.Time // the old one answered: ignore the claimant until then
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
	oCapped                     // a new member (or foreign one) over MaxMembers: ignored
	oChallenge                  // claims a live member's name: waiting for (or refused by) a probe
	oProbe                      // claims a live member's name: probe the claimed member now (table.claimed)
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

		maxMembers: c.MaxMembers,
		challenges: make(map[identity]*challenge),
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
	var named *Member // a live member of m's name at another address
	for _, c := range t.members {
		if c.Name == m.Name || c.addrKey() == m.addrKey() {
			if compareAge(m, *c) < 0 {
				return oConflict, m, nil, nil // an older incarnation than the one we keep
			}
			rivals = append(rivals, c)
			if c.Name == m.Name && c.addrKey() != m.addrKey() {
				named = c
			}
		}
	}
	if named != nil {
		// A restart at another address, or someone taking the name over:
		// only a probe of the old receiver can tell.
		return t.challenge(m, named, now)
	}
	if len(rivals) == 0 && t.maxMembers > 0 && len(t.members) >= t.maxMembers {
		return oCapped, m, nil, nil
	}
	return t.admit(m, rivals)
}

// challenge records m's claim on old's name; oProbe asks the caller to
// probe old's receiver (claimed) and report with settle.
func (t *table) challenge(m Member, old *Member, now time.Time) (outcome, Member, []Event, error) {
	id := m.identity()
	ch := t.challenges[id]
	if ch == nil {
		if len(t.challenges) >= max(t.maxMembers, 1) {
			return oCapped, m, nil, nil
		}
		ch = &challenge{}
		t.challenges[id] = ch
	}
	ch.old, ch.m = old.identity(), m
	if ch.probing || now.Before(ch.until) {
		return oChallenge, m, nil, nil
	}
	ch.probing = true
	return oProbe, m, nil, nil
}

// claimed returns the member whose name claimant claims.
func (t *table) claimed(claimant identity) (Member, bool) {
	if ch := t.challenges[claimant]; ch != nil {
		if old, ok := t.members[ch.old]; ok {
			return old.clone(), true
		}
	}
	return Member{}, false
}

// settle applies the probe of the member whose name claimant (an identity
// returned with oProbe's challenge) claims: a failed probe (probeErr !=
// nil) lets the claimant replace it; an answer refuses the claimant until
// DropTime from now. It returns the claimant and whether it was refused.
func (t *table) settle(claimant identity, probeErr error, now time.Time) (m Member, refused bool, evs []Event) {
	ch := t.challenges[claimant]
	if ch == nil {
		return m, false, nil
	}
	ch.probing = false
	if probeErr == nil {
		if _, alive := t.members[ch.old]; alive {
			ch.until = now.Add(t.dropTime)
			return ch.m, true, nil
		}
	}
	delete(t.challenges, claimant)
	m = ch.m
	if _, known := t.members[claimant]; known {
		return m, false, nil
	}
	var rivals []*Member
	for _, c := range t.members {
		if c.Name == m.Name || c.addrKey() == m.addrKey() {
			if compareAge(m, *c) < 0 {
				return m, true, nil // meanwhile a newer one than the claimant
			}
			rivals = append(rivals, c)
		}
	}
	_, _, evs, _ = t.admit(m, rivals)
	return m, false, evs
}

// admit stores m, replacing rivals (the same name first).
func (t *table) admit(m Member, rivals []*Member) (outcome, Member, []Event, error) {
	var evs []Event
	stored := m
	t.members[m.identity()] = &stored
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
	if t.maxMembers > 0 && len(t.foreign) >= t.maxMembers {
		return oCapped, m, nil, nil
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
	for id, ch := range t.challenges {
		if !ch.probing && now.Sub(ch.m.LastHeard) > t.dropTime {
			delete(t.challenges, id)
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
