package session

import (
	"fmt"
	"sync"
	"time"
)

// Store indexes sessions by id: the map every Manager needs, with an atomic
// rename. The zero value is ready to use; safe for concurrent use.
//
// Lock order: Store before Session. Store never calls listeners.
type Store struct {
	mu sync.RWMutex
	m  map[string]*Session
}

// Get returns the session registered under id, or nil. It does not check
// validity or expiry.
func (st *Store) Get(id string) *Session {
	st.mu.RLock()
	defer st.mu.RUnlock()
	return st.m[id]
}

// Insert registers s under its id. It fails with ErrDuplicateID, or with
// ErrTooManySessions when max > 0 sessions are already registered.
func (st *Store) Insert(s *Session, max int) error {
	id := s.ID()
	st.mu.Lock()
	defer st.mu.Unlock()
	if _, dup := st.m[id]; dup {
		return fmt.Errorf("%w: %s", ErrDuplicateID, id)
	}
	if max > 0 && len(st.m) >= max {
		return ErrTooManySessions
	}
	if st.m == nil {
		st.m = make(map[string]*Session)
	}
	st.m[id] = s
	return nil
}

// Put registers s under its id, replacing and returning any other session
// there (state transfer: "overload existing session").
func (st *Store) Put(s *Session) (old *Session) {
	id := s.ID()
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.m == nil {
		st.m = make(map[string]*Session)
	}
	old = st.m[id]
	st.m[id] = s
	if old == s {
		old = nil
	}
	return old
}

// Remove unregisters s if it is the session registered under its id.
func (st *Store) Remove(s *Session) bool {
	id := s.ID()
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.m[id] != s {
		return false
	}
	delete(st.m, id)
	return true
}

// Rename moves s from its id to newID atomically and returns the old id.
func (st *Store) Rename(s *Session, newID string) (oldID string, err error) {
	if newID == "" {
		return "", ErrBadID
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	oldID = s.ID()
	if st.m[oldID] != s {
		return oldID, fmt.Errorf("%w: %s", ErrNotFound, oldID)
	}
	if newID == oldID {
		return oldID, nil
	}
	if _, dup := st.m[newID]; dup {
		return oldID, fmt.Errorf("%w: %s", ErrDuplicateID, newID)
	}
	delete(st.m, oldID)
	s.setID(newID)
	st.m[newID] = s
	return oldID, nil
}

// Len returns the number of registered sessions.
func (st *Store) Len() int {
	st.mu.RLock()
	defer st.mu.RUnlock()
	return len(st.m)
}

// Sessions returns a snapshot of the registered sessions, in no order.
func (st *Store) Sessions() []*Session {
	st.mu.RLock()
	defer st.mu.RUnlock()
	out := make([]*Session, 0, len(st.m))
	for _, s := range st.m {
		out = append(out, s)
	}
	return out
}

// Expired returns the registered sessions for which s.Expired(now) holds.
func (st *Store) Expired(now time.Time) []*Session {
	var out []*Session
	for _, s := range st.Sessions() {
		if s.Expired(now) {
			out = append(out, s)
		}
	}
	return out
}
