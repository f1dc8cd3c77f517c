package deltamgr

import (
	"context"
	"slices"
	"time"

	"github.com/gomcat/gomcat/runtime/lifecycle"
	"github.com/gomcat/gomcat/runtime/session"
)

// receive handles one decoded message for this manager (from the Router).
// State-transfer replies are handled at once; GET_ALL_SESSIONS and session
// events are queued while the manager has not finished its own transfer.
func (m *Manager) receive(_ context.Context, from string, msg *Message, size int) error {
	m.stats.received[msg.Kind].Add(1)
	m.stats.receivedBytes.Add(uint64(size))
	switch msg.Kind {
	case KindAllSessionData:
		return m.receiveChunk(from, msg)
	case KindAllSessionTransferComplete:
		m.receiveComplete(from, msg)
		return nil
	case KindAllSessionNoContextManager:
		m.receiveNoContext(from, msg)
		return nil
	case KindGetAllSessions:
		switch m.ageOf(from) {
		case ageOlder:
			m.refuse(ruleGetAllOlder, from, msg.Kind, "")
		case ageYounger:
			m.acceptGetAll(from, msg)
		default:
			m.holdGetAll(from, msg)
		}
		return nil
	}
	if !validID(msg.SessionID) || msg.Kind == KindChangeSessionID && !validID(msg.NewID) {
		m.refuse(ruleBadID, from, msg.Kind, "")
		return nil
	}
	if msg.Kind == KindChangeSessionID && !m.knownRoute(msg.NewID, from) {
		m.refuse(ruleRoute, from, msg.Kind, msg.NewID)
		return nil
	}
	m.mu.Lock()
	switch {
	case m.stoppedLocked():
		m.mu.Unlock()
		return nil
	case m.run.State() != lifecycle.Running:
		if len(m.queue) >= m.cfg.QueueLimit {
			m.mu.Unlock()
			if m.stats.queueDrops.Add(1) == 1 {
				m.log.Warn().Int("limit", m.cfg.QueueLimit).Msg("state transfer queue full: dropping session messages")
			}
			return nil
		}
		m.queue = append(m.queue, queued{from, msg})
		m.mu.Unlock()
		return nil
	}
	m.mu.Unlock()
	m.apply(from, msg)
	return nil
}

// acceptGetAll answers a GET_ALL_SESSIONS from a younger member, or holds
// it until this manager's own transfer ended.
func (m *Manager) acceptGetAll(from string, msg *Message) {
	m.mu.Lock()
	defer m.mu.Unlock()
	switch {
	case m.stoppedLocked():
	case m.run.State() == lifecycle.Running:
		m.goRespondLocked(from, msg.Transfer)
	default:
		// Answered as soon as our own transfer ended (Tomcat dropped
		// them); the bound only guards memory against a flood.
		if len(m.getAlls) < m.cfg.QueueLimit {
			m.getAlls = append(m.getAlls, queued{from, msg})
		} else {
			m.stats.queueDrops.Add(1)
		}
	}
}

// holdGetAll keeps a GET_ALL_SESSIONS from a name that is not a member
// yet (membership can lag its first message) until the name joins (then
// the age rule decides) or leaves; at most maxPendingGetAll, the oldest
// refused first.
func (m *Manager) holdGetAll(from string, msg *Message) {
	m.mu.Lock()
	var out []queued
	if len(m.pendingGetAll) >= maxPendingGetAll {
		out = append(out, m.pendingGetAll[0])
		m.pendingGetAll = m.pendingGetAll[1:]
	}
	m.pendingGetAll = append(m.pendingGetAll, queued{from, msg})
	m.mu.Unlock()
	for _, q := range out {
		m.refuse(ruleGetAllNobody, q.from, KindGetAllSessions, "")
	}
	if m.ageOf(from) != ageUnknown { // joined meanwhile: its event may have come first
		m.onMember(MemberJoined, from)
	}
}

// releaseGetAll decides the GET_ALL_SESSIONS held for member after a
// membership change: answered if it joined younger, refused otherwise.
func (m *Manager) releaseGetAll(kind int, member string) {
	m.mu.Lock()
	var mine []queued
	m.pendingGetAll = slices.DeleteFunc(m.pendingGetAll, func(q queued) bool {
		if q.from == member {
			mine = append(mine, q)
			return true
		}
		return false
	})
	m.mu.Unlock()
	for _, q := range mine {
		switch {
		case kind == MemberLeft:
			m.refuse(ruleGetAllNobody, q.from, KindGetAllSessions, "")
		case m.ageOf(q.from) == ageYounger:
			m.acceptGetAll(q.from, q.msg)
		default:
			m.refuse(ruleGetAllOlder, q.from, KindGetAllSessions, "")
		}
	}
}

// apply applies one session event from a peer.
func (m *Manager) apply(from string, msg *Message) {
	now := m.now()
	switch msg.Kind {
	case KindCreated, KindDelta:
		m.applyDelta(from, msg, now)
	case KindAccessed:
		s, e := m.lookup(msg.SessionID, now)
		if e == nil {
			m.stats.unknownSession.Add(1)
			return
		}
		m.mu.Lock()
		e.primary = false
		m.mu.Unlock()
		s.Access(now)
		s.EndAccess()
	case KindExpired:
		s, e := m.lookup(msg.SessionID, now)
		if e == nil {
			m.mu.Lock()
			m.tombs[msg.SessionID] = now.Add(m.tombTTL())
			m.mu.Unlock()
			m.stats.unknownSession.Add(1)
			return
		}
		m.expire(m.run.Context(), s, false, m.cfg.NotifySessionListenersOnReplication, "expired by "+from)
	case KindChangeSessionID:
		m.applyRename(msg.SessionID, msg.NewID, now)
	}
}

// lookup finds a held session by id, following a recent rename.
func (m *Manager) lookup(id string, now time.Time) (*session.Session, *entry) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.store.Get(id)
	if s == nil {
		if a, ok := m.aliases[id]; ok && now.Before(a.until) {
			s = m.store.Get(a.to)
		}
	}
	if s == nil {
		return nil, nil
	}
	return s, m.meta[s]
}

// applyDelta applies a CREATED or DELTA. A session the manager does not
// know is created (with the sender's creation time) rather than dropped,
// so a first write is never lost; only a recently expired id is refused.
func (m *Manager) applyDelta(from string, msg *Message, now time.Time) {
	id := msg.SessionID
	if id == "" {
		return
	}
	var d Delta
	if msg.Delta != nil {
		d = *msg.Delta
	}
	m.guardDelta(from, msg, &d)
	if m.store.Get(id) == nil && !m.knownRoute(id, from) {
		m.refuse(ruleRoute, from, msg.Kind, id)
		return
	}
	m.mu.Lock()
	if m.stoppedLocked() {
		m.mu.Unlock()
		return
	}
	s := m.store.Get(id)
	var e *entry
	if s != nil {
		e = m.meta[s]
	}
	created := false
	if e == nil {
		if until, dead := m.tombs[id]; dead && now.Before(until) {
			m.mu.Unlock()
			m.stats.unknownSession.Add(1)
			return
		}
		mi := m.cfg.MaxInactive
		if d.MaxInactiveSet {
			mi = d.MaxInactive // capped by guardDelta
		}
		at := msg.Created
		if at == 0 {
			at = now.UnixNano()
		}
		s = session.FromRecord(session.Record{
			ID: id, Created: at, LastAccessed: now.UnixNano(), MaxInactive: mi, New: d.New,
		}, m.opts)
		if old := m.store.Put(s); old != nil {
			delete(m.meta, old)
		}
		e = &entry{announced: true, lastReplicated: now}
		m.meta[s] = e
		created = true
	}
	e.primary = false
	m.mu.Unlock()
	if created {
		m.stats.replicasCreated.Add(1)
		if msg.Kind == KindDelta && !d.New {
			m.stats.unknownDeltas.Add(1)
			m.log.Debug().Str("session_id", session.LogID(id)).Msg("delta for unknown session: created it")
		}
		if m.cfg.NotifySessionListenersOnReplication {
			m.opts.Listeners.FireCreated(s)
		}
	}
	s.Access(now)
	s.Apply(d.Changes(), m.cfg.NotifyListenersOnReplication)
	s.EndAccess()
	if msg.Kind == KindDelta {
		m.stats.deltasApplied.Add(1)
	}
}

// applyRename applies a peer's CHANGE_SESSION_ID.
func (m *Manager) applyRename(oldID, newID string, now time.Time) {
	if oldID == "" || newID == "" || oldID == newID {
		return
	}
	m.mu.Lock()
	s := m.store.Get(oldID)
	var e *entry
	if s != nil {
		e = m.meta[s]
	}
	if e == nil {
		known := m.store.Get(newID) != nil
		m.mu.Unlock()
		if !known {
			m.stats.unknownSession.Add(1)
		}
		return
	}
	// A message under the new id that overtook the rename (from another
	// member) made a fragment: the complete copy wins.
	other := m.store.Get(newID)
	if other != nil {
		delete(m.meta, other)
		m.store.Remove(other)
	}
	_, err := m.store.Rename(s, newID)
	if err == nil {
		e.primary = false
		m.aliasLocked(oldID, newID, now)
	}
	m.mu.Unlock()
	if other != nil {
		other.Expire(false)
	}
	if err != nil {
		m.log.Warn().Err(err).Msg("cannot apply session id change")
		return
	}
	m.stats.renamed.Add(1)
	if m.cfg.NotifySessionListenersOnReplication {
		m.opts.Listeners.FireIDChanged(s, oldID)
	}
}
