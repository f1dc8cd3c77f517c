package session

import "time"

// Record is a session's full state, for state transfer and backups (Tomcat
// DeltaSession.writeObjectData). It is a plain value with short integer
// CBOR keys; the numbers are wire format: append only, never reuse.
type Record struct {
	ID           string            `cbor:"1,keyasint"`
	Created      int64             `cbor:"2,keyasint"` // unix nanoseconds
	LastAccessed int64             `cbor:"3,keyasint"` // unix nanoseconds
	MaxInactive  time.Duration     `cbor:"4,keyasint,omitempty"`
	New          bool              `cbor:"5,keyasint,omitempty"`
	Principal    string            `cbor:"6,keyasint,omitempty"`
	AuthType     string            `cbor:"7,keyasint,omitempty"`
	Attrs        map[string][]byte `cbor:"8,keyasint,omitempty"` // name → CBOR value
}

// Snapshot returns the session's state. The map is new; the value slices
// are shared with the session (never mutated in place), so a snapshot of a
// large session costs one map, not a copy of its values.
func (s *Session) Snapshot() Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := Record{
		ID:           s.id,
		Created:      s.created,
		LastAccessed: s.accessed,
		MaxInactive:  s.maxInactive,
		New:          s.isNew,
		Principal:    s.principal,
		AuthType:     s.authType,
	}
	if len(s.attrs) > 0 {
		r.Attrs = make(map[string][]byte, len(s.attrs))
		for _, a := range s.attrs {
			r.Attrs[a.name] = a.value
		}
	}
	return r
}

// FromRecord rebuilds a valid session from r, taking ownership of the
// values of r.Attrs (they must not be modified afterwards). It records no changes,
// ignores o.MaxInactive and o.MaxSize, does not register the session with a
// manager, and fires no listener. Attribute bytes are not checked; a value
// that does not decode makes Get report false and GetAs fail.
func FromRecord(r Record, o Options) *Session {
	if o.Now == nil {
		o.Now = time.Now
	}
	s := &Session{
		id:          r.ID,
		created:     r.Created,
		accessed:    r.LastAccessed,
		maxInactive: r.MaxInactive,
		isNew:       r.New,
		valid:       true,
		principal:   r.Principal,
		authType:    r.AuthType,
		o:           o,
	}
	if len(r.Attrs) > 0 {
		s.attrs = attrsOf(r.Attrs)
		for k, v := range r.Attrs {
			s.size += len(k) + len(v)
		}
	}
	return s
}
