package session

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/gomcat/gomcat/runtime/lifecycle"
)

// LocalManager keeps sessions in memory on one node (Tomcat StandardManager
// without persistence). Safe for concurrent use.
type LocalManager struct {
	cfg   Config
	log   zerolog.Logger
	opts  Options
	store Store

	run lifecycle.Runner // Begin, Ready, End; owns the sweeper

	created  atomic.Int64
	expired  atomic.Int64
	rejected atomic.Int64
}

var _ Manager = (*LocalManager)(nil)

// NewLocal validates cfg and returns a manager. It starts nothing; Start
// starts the idle sweeper.
func NewLocal(cfg Config) (*LocalManager, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	m := &LocalManager{
		cfg: cfg,
		log: cfg.Logger.With().Str("component", "session").Logger(),
	}
	m.opts = Options{
		Manager:     m,
		MaxInactive: cfg.MaxInactive,
		MaxSize:     cfg.MaxSessionSize,
		Listeners:   &m.cfg.Listeners,
		Now:         cfg.Now,
	}
	return m, nil
}

// Options returns the options the manager gives its sessions.
func (m *LocalManager) Options() Options { return m.opts }

// Start starts the idle sweeper goroutine; Stop stops it. Starting twice is
// a no-op; after Stop it fails with ErrClosed.
func (m *LocalManager) Start(context.Context) error {
	_, err := m.run.Begin()
	switch {
	case errors.Is(err, lifecycle.ErrClosed):
		return ErrClosed
	case err != nil: // started already
		return nil
	}
	m.run.Go(m.sweeper)
	m.run.Ready()
	m.log.Debug().Dur("sweep_interval", m.cfg.SweepInterval).Msg("session manager started")
	return nil
}

func (m *LocalManager) sweeper(ctx context.Context) {
	t := time.NewTicker(m.cfg.SweepInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			m.Sweep(m.cfg.Now())
		}
	}
}

// Stop stops the sweeper and waits for it, or for ctx. With ExpireOnStop it
// then expires every session. Create fails afterwards. Idempotent.
func (m *LocalManager) Stop(ctx context.Context) error {
	if m.run.End() == lifecycle.Stopped { // cancels the sweeper
		return nil
	}
	if err := m.run.Wait(ctx); err != nil {
		return fmt.Errorf("session: stop: %w", err)
	}
	if m.cfg.ExpireOnStop {
		for _, s := range m.store.Sessions() {
			m.Expire(s)
		}
	}
	m.log.Debug().Int("sessions", m.store.Len()).Msg("session manager stopped")
	return nil
}

// Create makes, registers and returns a new session, firing Created.
func (m *LocalManager) Create(context.Context) (*Session, error) {
	if m.run.State() == lifecycle.Stopped {
		return nil, ErrClosed
	}
	for {
		s := New(NewID(m.cfg.Route), m.opts)
		err := m.store.Insert(s, m.cfg.MaxActiveSessions)
		if errors.Is(err, ErrDuplicateID) {
			continue // 2^-128; Tomcat retries too
		}
		if err != nil {
			m.rejected.Add(1)
			m.log.Warn().Int("max_active", m.cfg.MaxActiveSessions).Msg("session rejected: too many active sessions")
			return nil, err
		}
		m.created.Add(1)
		m.opts.Listeners.FireCreated(s)
		return s, nil
	}
}

// Find returns the live session with id, or nil; an idle-expired one is
// expired on the spot.
func (m *LocalManager) Find(id string) *Session {
	if id == "" {
		return nil
	}
	s := m.store.Get(id)
	if s == nil {
		return nil
	}
	if s.Expired(m.cfg.Now()) {
		m.Expire(s)
		return nil
	}
	if !s.Valid() {
		return nil
	}
	return s
}

// ChangeID renames s atomically and fires IDChanged.
func (m *LocalManager) ChangeID(s *Session, newID string) error {
	if !s.Valid() {
		return ErrInvalid
	}
	old, err := m.store.Rename(s, newID)
	if err != nil {
		return err
	}
	m.opts.Listeners.FireIDChanged(s, old)
	return nil
}

// Expire invalidates s, fires Destroyed once and unregisters it.
func (m *LocalManager) Expire(s *Session) {
	if s.Expire(true) {
		m.expired.Add(1)
	}
	m.store.Remove(s)
}

// RequestCompleted drops the session's recorded changes: nobody to send
// them to.
func (m *LocalManager) RequestCompleted(_ context.Context, s *Session) error {
	s.TakeChanges()
	return nil
}

// Count returns the number of registered sessions.
func (m *LocalManager) Count() int { return m.store.Len() }

// Route returns the configured jvmRoute.
func (m *LocalManager) Route() string { return m.cfg.Route }

// Sessions returns a snapshot of the registered sessions.
func (m *LocalManager) Sessions() []*Session { return m.store.Sessions() }

// Sweep expires every session idle past its timeout at now and returns how
// many it expired. The sweeper calls it every SweepInterval; tests call it
// with their own clock.
func (m *LocalManager) Sweep(now time.Time) int {
	n := 0
	for _, s := range m.store.Expired(now) {
		if s.Expired(now) {
			m.Expire(s)
			n++
		}
	}
	if n > 0 {
		m.log.Debug().Int("expired", n).Int("active", m.store.Len()).Msg("idle sessions expired")
	}
	return n
}

// Stats are the manager's counters.
type Stats struct {
	Active   int   // registered now
	Created  int64 // since NewLocal
	Expired  int64 // invalidated or timed out
	Rejected int64 // Create refused by MaxActiveSessions
}

// Stats returns the counters.
func (m *LocalManager) Stats() Stats {
	return Stats{
		Active:   m.store.Len(),
		Created:  m.created.Load(),
		Expired:  m.expired.Load(),
		Rejected: m.rejected.Load(),
	}
}

// LogID returns a short hash of a session id, for logs (ids are bearer
// credentials and are never logged in clear).
func LogID(id string) string {
	base, _ := SplitID(id)
	h := sha256.Sum256([]byte(base))
	return hex.EncodeToString(h[:6])
}
