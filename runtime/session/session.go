package session

import (
	"bytes"
	"fmt"
	"sync"
	"time"
)

// Options configure one Session. Managers build them once and pass the same
// values (and the same *Listeners) to every session they create.
type Options struct {
	// Manager receives Invalidate (Expire) and RenewID (ChangeID). Nil: a
	// standalone session that expires and renames itself.
	Manager Manager
	// MaxInactive is the idle timeout of a new session; <= 0 never expires.
	// FromRecord takes the record's value instead.
	MaxInactive time.Duration
	// MaxSize caps the sum of attribute name and value bytes; Set fails with
	// ErrTooLarge above it. <= 0: unlimited.
	MaxSize int
	// Listeners may be nil.
	Listeners *Listeners
	// Now is the clock. Default: time.Now.
	Now func() time.Time
}

// Session is one user session. All methods are safe for concurrent use: each
// session has its own mutex, held only for the duration of one call (never
// while a listener or the manager runs).
//
// Attribute values are stored CBOR-encoded at Set and decoded at every Get,
// so what a handler reads back is exactly what a peer node reads after
// failover; mutating a value after Set does not change the session.
type Session struct {
	mu sync.Mutex
	id string
	// unix nanoseconds; time.Time would cost 24 bytes each.
	created  int64
	accessed int64

	maxInactive time.Duration
	active      int32 // requests between Access and EndAccess
	isNew       bool
	valid       bool
	expiring    bool // Destroyed listener running

	principal, authType string

	attrs attrs      // sorted by name; values (CBOR) are never mutated in place
	size  int        // sum of len(name)+len(value)
	log   *changeLog // nil when nothing changed since TakeChanges
	note  any        // the manager's per-session data (SetNote)

	o Options
}

// New returns a valid, new session with id, created now. It records
// Changes.New for a replicated manager. It does not register the session
// with a manager nor fire Created: managers do both.
func New(id string, o Options) *Session {
	if o.Now == nil {
		o.Now = time.Now
	}
	now := o.Now().UnixNano()
	return &Session{
		id:          id,
		created:     now,
		accessed:    now,
		maxInactive: o.MaxInactive,
		isNew:       true,
		valid:       true,
		log:         &changeLog{isNew: true},
		o:           o,
	}
}

func (s *Session) now() time.Time { return s.o.Now() }

// ID returns the current id (it changes on RenewID).
func (s *Session) ID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.id
}

// IsNew reports whether the client has not yet joined the session: true
// until the end of the request that created it (EndAccess).
func (s *Session) IsNew() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.isNew
}

// CreatedAt returns the creation time.
func (s *Session) CreatedAt() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return time.Unix(0, s.created)
}

// LastAccessedAt returns the start or end of the latest request, whichever
// came last.
func (s *Session) LastAccessedAt() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return time.Unix(0, s.accessed)
}

// MaxInactive returns the idle timeout; <= 0 means never.
func (s *Session) MaxInactive() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.maxInactive
}

// SetMaxInactive sets the idle timeout; <= 0 never expires.
func (s *Session) SetMaxInactive(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.valid {
		return
	}
	s.maxInactive = d
	l := s.changes()
	l.maxInactive, l.maxInactiveSet = d, true
}

// Valid reports whether the session is still usable (not invalidated or
// expired). It stays true while the Destroyed listener runs.
func (s *Session) Valid() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.valid
}

// Set stores v under key, encoded as CBOR now. It fails, changing nothing,
// with ErrUnencodable (chan, func, complex, cyclic values …), ErrTooLarge or
// ErrInvalid; errors name the key. A nil v is stored (Get returns nil,
// true); use Delete to remove. Unexported struct fields are not stored.
func (s *Session) Set(key string, v any) error {
	b, err := Encode(v)
	if err != nil {
		return fmt.Errorf("set %q: %w", key, err)
	}
	return s.put(key, b)
}

// SetRaw stores b, which must be one well-formed CBOR item, under key. The
// session keeps a copy of b.
func (s *Session) SetRaw(key string, b []byte) error {
	if err := wellFormed(b); err != nil {
		return fmt.Errorf("set %q: %w", key, err)
	}
	return s.put(key, bytes.Clone(b))
}

func (s *Session) put(key string, b []byte) error {
	s.mu.Lock()
	if !s.valid {
		s.mu.Unlock()
		return fmt.Errorf("set %q: %w", key, ErrInvalid)
	}
	old, had := s.attrs.get(key)
	size := s.size + len(b) - len(old)
	if !had {
		size += len(key)
	}
	if s.o.MaxSize > 0 && size > s.o.MaxSize && size > s.size {
		s.mu.Unlock()
		return fmt.Errorf("set %q: %w: %d bytes, limit %d", key, ErrTooLarge, size, s.o.MaxSize)
	}
	s.attrs.set(key, b)
	s.size = size
	s.changes().attr(AttrChange{Name: key, Value: b})
	l := s.o.Listeners
	s.mu.Unlock()
	if had {
		l.attr(s, evReplaced, key)
	} else {
		l.attr(s, evAdded, key)
	}
	return nil
}

// Get returns the value stored under key, decoded afresh: integers as
// int64 (uint64 above MaxInt64), floats as float64, maps as map[string]any
// (map[any]any for other key types), arrays as []any, times as time.Time
// with nanoseconds, structs as map[string]any (use GetAs for the struct).
// It reports false when the key is absent or its bytes do not decode.
func (s *Session) Get(key string) (any, bool) {
	b, ok := s.raw(key)
	if !ok {
		return nil, false
	}
	v, err := Decode(b)
	if err != nil {
		return nil, false
	}
	return v, true
}

// GetAs decodes the value stored under key into a T. It reports false (and
// no error) when the key is absent, and an error when the stored value does
// not fit T.
func GetAs[T any](s *Session, key string) (T, bool, error) {
	var v T
	b, ok := s.raw(key)
	if !ok {
		return v, false, nil
	}
	if err := DecodeInto(b, &v); err != nil {
		return v, true, fmt.Errorf("session: get %q: %w", key, err)
	}
	return v, true, nil
}

// GetRaw returns a copy of the CBOR bytes stored under key.
func (s *Session) GetRaw(key string) ([]byte, bool) {
	b, ok := s.raw(key)
	if !ok {
		return nil, false
	}
	return bytes.Clone(b), true
}

func (s *Session) raw(key string) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.attrs.get(key)
}

// Delete removes key; absent keys and invalid sessions are a no-op.
func (s *Session) Delete(key string) {
	s.mu.Lock()
	old, had := s.attrs.get(key)
	if !had || !s.valid {
		s.mu.Unlock()
		return
	}
	s.attrs.del(key)
	s.size -= len(key) + len(old)
	s.changes().attr(AttrChange{Name: key, Removed: true})
	l := s.o.Listeners
	s.mu.Unlock()
	l.attr(s, evRemoved, key)
}

// Keys returns the attribute names, sorted.
func (s *Session) Keys() []string {
	s.mu.Lock()
	keys := make([]string, len(s.attrs))
	for i, a := range s.attrs {
		keys[i] = a.name // sorted already
	}
	s.mu.Unlock()
	return keys
}

// Size returns the sum of attribute name and value bytes (what MaxSize
// limits).
func (s *Session) Size() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.size
}

// Principal returns the authenticated user's name and the authentication
// type ("BASIC", "FORM" …); empty when nobody logged in.
func (s *Session) Principal() (name, authType string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.principal, s.authType
}

// SetPrincipal records the authenticated user; empty name logs out.
func (s *Session) SetPrincipal(name, authType string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.valid {
		return
	}
	s.principal, s.authType = name, authType
	l := s.changes()
	l.principal, l.authType, l.principalSet = name, authType, true
}

// Access marks the start of a request using the session: it bumps the
// last-access time and keeps the session from expiring until EndAccess.
func (s *Session) Access(now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.accessed = now.UnixNano()
	s.active++
}

// EndAccess marks the end of that request: it bumps the last-access time
// and clears IsNew.
func (s *Session) EndAccess() {
	now := s.now().UnixNano()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.accessed = now
	s.isNew = false
	if s.active > 0 {
		s.active--
	}
}

// Idle returns how long the session has been idle at now.
func (s *Session) Idle(now time.Time) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return time.Duration(now.UnixNano() - s.accessed)
}

// InUse reports whether a request is between Access and EndAccess.
func (s *Session) InUse() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.active > 0
}

// Expired reports whether a valid session has outlived its idle timeout at
// now. Sessions in use never expire.
func (s *Session) Expired(now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.valid && s.maxInactive > 0 && s.active == 0 &&
		now.UnixNano()-s.accessed >= int64(s.maxInactive)
}

// Invalidate ends the session: through its manager's Expire (which
// unregisters it and, for a replicated manager, tells the peers) or, for a
// standalone session, by Expire(true).
func (s *Session) Invalidate() {
	if m := s.o.Manager; m != nil {
		m.Expire(s)
		return
	}
	s.Expire(true)
}

// Expire is the low-level end of a session, for Manager implementations;
// handlers call Invalidate. The first call fires Destroyed (when notify),
// then marks the session invalid and drops its attributes and pending
// changes; it reports whether this call did it.
func (s *Session) Expire(notify bool) bool {
	s.mu.Lock()
	if !s.valid || s.expiring {
		s.mu.Unlock()
		return false
	}
	s.expiring = true
	l := s.o.Listeners
	s.mu.Unlock()
	if notify && l != nil && l.Destroyed != nil {
		l.Destroyed(s)
	}
	s.mu.Lock()
	s.valid, s.expiring = false, false
	s.attrs, s.size, s.log = nil, 0, nil
	s.mu.Unlock()
	return true
}

// RenewID gives the session a fresh id (session-fixation protection,
// Servlet changeSessionId) through Manager.ChangeID and returns it; the
// middleware sends the new cookie. Call it before the response is written.
func (s *Session) RenewID() (string, error) {
	if !s.Valid() {
		return "", ErrInvalid
	}
	m := s.o.Manager
	if m == nil {
		s.mu.Lock()
		defer s.mu.Unlock()
		_, route := SplitID(s.id)
		s.id = NewID(route)
		return s.id, nil
	}
	id := NewID(m.Route())
	if err := m.ChangeID(s, id); err != nil {
		return "", err
	}
	return id, nil
}

// Note returns what the manager stored with SetNote.
func (s *Session) Note() any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.note
}

// SetNote stores per-session data for the Manager implementation (Tomcat
// session notes: a replicated manager keeps "primary" and "last
// replicated" there). Never replicated, never seen by Get; handlers must
// not use it.
func (s *Session) SetNote(v any) {
	s.mu.Lock()
	s.note = v
	s.mu.Unlock()
}

// setID renames the session; only Store.Rename calls it.
func (s *Session) setID(id string) {
	s.mu.Lock()
	s.id = id
	s.mu.Unlock()
}
