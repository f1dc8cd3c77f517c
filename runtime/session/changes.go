package session

import (
	"slices"
	"time"
)

// AttrChange is one attribute action: set to Value (CBOR), or Removed.
type AttrChange struct {
	Name    string `cbor:"1,keyasint"`
	Value   []byte `cbor:"2,keyasint,omitempty"`
	Removed bool   `cbor:"3,keyasint,omitempty"`
}

// Changes is what happened to a session since the last TakeChanges, the
// unit a replicated manager sends (Tomcat DeltaRequest). Like DeltaRequest
// without recordAllActions, only the last action per attribute name is kept,
// in order of last touch.
type Changes struct {
	Attrs          []AttrChange  `cbor:"1,keyasint,omitempty"`
	MaxInactive    time.Duration `cbor:"2,keyasint,omitempty"`
	MaxInactiveSet bool          `cbor:"3,keyasint,omitempty"`
	Principal      string        `cbor:"4,keyasint,omitempty"`
	AuthType       string        `cbor:"5,keyasint,omitempty"`
	PrincipalSet   bool          `cbor:"6,keyasint,omitempty"` // Principal "" = logged out
	New            bool          `cbor:"7,keyasint,omitempty"` // created on the sending node
}

// Empty reports whether there is nothing to send.
func (c Changes) Empty() bool {
	return len(c.Attrs) == 0 && !c.MaxInactiveSet && !c.PrincipalSet && !c.New
}

// changeLog accumulates Changes under the session lock.
type changeLog struct {
	attrs          []AttrChange
	maxInactive    time.Duration
	maxInactiveSet bool
	principal      string
	authType       string
	principalSet   bool
	isNew          bool
}

// changes returns the session's log, creating it; s.mu must be held.
func (s *Session) changes() *changeLog {
	if s.log == nil {
		s.log = &changeLog{}
	}
	return s.log
}

// attr drops the earlier action on c.Name, if any, and appends c.
func (l *changeLog) attr(c AttrChange) {
	for i := range l.attrs {
		if l.attrs[i].Name == c.Name {
			l.attrs = slices.Delete(l.attrs, i, i+1)
			break
		}
	}
	l.attrs = append(l.attrs, c)
}

// TakeChanges returns what changed since the previous call (or since New)
// and starts a fresh record. Values share the session's immutable bytes.
func (s *Session) TakeChanges() Changes {
	s.mu.Lock()
	l := s.log
	s.log = nil
	s.mu.Unlock()
	if l == nil {
		return Changes{}
	}
	return Changes{
		Attrs:          l.attrs,
		MaxInactive:    l.maxInactive,
		MaxInactiveSet: l.maxInactiveSet,
		Principal:      l.principal,
		AuthType:       l.authType,
		PrincipalSet:   l.principalSet,
		New:            l.isNew,
	}
}

// Dirty reports whether changes are pending.
func (s *Session) Dirty() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.log != nil
}

// Apply applies a peer's changes without recording them, skipping the size
// limit (the writer enforced it; last writer wins). It fires the attribute
// listeners only when notify is true. It takes ownership of the Value
// slices, does not touch access times (wrap it in Access/EndAccess as
// Tomcat's DeltaRequest.execute does), and ignores invalid sessions.
func (s *Session) Apply(c Changes, notify bool) {
	type event struct {
		kind attrEvent
		name string
	}
	var events []event
	s.mu.Lock()
	if !s.valid {
		s.mu.Unlock()
		return
	}
	for _, a := range c.Attrs {
		switch {
		case a.Removed:
			old, had := s.attrs.del(a.Name)
			if !had {
				continue
			}
			s.size -= len(a.Name) + len(old)
			events = append(events, event{evRemoved, a.Name})
		default:
			old, had := s.attrs.set(a.Name, a.Value)
			s.size += len(a.Value) - len(old)
			if had {
				events = append(events, event{evReplaced, a.Name})
			} else {
				s.size += len(a.Name)
				events = append(events, event{evAdded, a.Name})
			}
		}
	}
	if c.MaxInactiveSet {
		s.maxInactive = c.MaxInactive
	}
	if c.PrincipalSet {
		s.principal, s.authType = c.Principal, c.AuthType
	}
	if c.New {
		s.isNew = true
	}
	l := s.o.Listeners
	s.mu.Unlock()
	if !notify {
		return
	}
	for _, e := range events {
		l.attr(s, e.kind, e.name)
	}
}
