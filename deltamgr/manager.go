package deltamgr

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/gomcat/gomcat/runtime/lifecycle"
	"github.com/gomcat/gomcat/runtime/session"
)

// Manager is the replicated session manager of one distributable context
// (Tomcat's DeltaManager). It implements session.Manager; all methods are
// safe for concurrent use.
type Manager struct {
	cfg    Config
	cl     Cluster
	log    zerolog.Logger
	now    func() time.Time
	opts   session.Options
	store  session.Store
	stats  counters
	limits [nRules]limiter // refusal log lines, per rule

	// run is the lifecycle and owns the goroutines; its Context bounds sends
	// outside a request. New and Starting (the state transfer): inbound
	// messages are queued; Running (Ready once the queue drained, under
	// mu): applied as they come; Stopped (End under mu).
	run lifecycle.Runner

	mu      sync.Mutex
	meta    map[*session.Session]*entry
	aliases map[string]alias     // old id → new id after a rename
	tombs   map[string]time.Time // recently expired ids → forget after
	queue   []queued             // inbound messages held during state transfer
	getAlls []queued             // GET_ALL_SESSIONS held until our own transfer ended
	// GET_ALL_SESSIONS from names not members yet (holdGetAll)
	pendingGetAll []queued
	fetch         *fetch        // the state transfer Start runs (asking side); nil when none
	roundDone     chan struct{} // closed when fetch's round in flight ends
	router        *Router
	xferSeq       uint64
	snapT         int64 // snapshot time of the completed transfer, unix ms
}

var _ session.Manager = (*Manager)(nil)

// entry is the manager's bookkeeping for one session.
type entry struct {
	// sendMu serialises this session's outbound messages (delta, rename,
	// expiry), so they leave, and arrive, in the order they happened.
	sendMu sync.Mutex

	// Guarded by Manager.mu.
	primary        bool      // the last request using the session ran here
	announced      bool      // the members know the session
	lastReplicated time.Time // last message sent for it
}

type alias struct {
	to    string
	until time.Time
}

type queued struct {
	from string
	msg  *Message
}

// New validates cfg and returns a manager using cl. It starts nothing: add
// it to the node's Router, then Start it.
func New(cfg Config, cl Cluster) (*Manager, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cl == nil {
		return nil, ErrNoCluster
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	m := &Manager{
		cfg:     cfg,
		cl:      cl,
		log:     cfg.Logger.With().Str("component", "deltamgr").Str("manager", cfg.Name).Logger(),
		now:     cfg.Now,
		meta:    make(map[*session.Session]*entry),
		aliases: make(map[string]alias),
		tombs:   make(map[string]time.Time),
	}
	m.opts = session.Options{
		Manager:     m,
		MaxInactive: cfg.MaxInactive,
		MaxSize:     cfg.MaxSessionSize,
		Listeners:   cfg.Listeners,
		Now:         cfg.Now,
	}
	return m, nil
}

// Name returns the manager name ("localhost#/app").
func (m *Manager) Name() string { return m.cfg.Name }

// Route returns the jvmRoute appended to new ids.
func (m *Manager) Route() string { return m.cfg.Route }

// Count returns the number of sessions held, replicas included.
func (m *Manager) Count() int { return m.store.Len() }

// Sessions returns a snapshot of the sessions held, in no order.
func (m *Manager) Sessions() []*session.Session { return m.store.Sessions() }

// IsPrimary reports whether the last request that used s ran on this node.
func (m *Manager) IsPrimary(s *session.Session) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	e := m.meta[s]
	return e != nil && e.primary
}

func (m *Manager) setRouter(r *Router) {
	m.mu.Lock()
	m.router = r
	m.mu.Unlock()
}

// Start runs the state transfer (blocking until it ended, timed out or ctx
// ended), applies what was queued meanwhile and starts the idle sweeper.
// The node opens its HTTP connector only after Start returned. Starting
// twice is a no-op; after Stop it fails with session.ErrClosed.
func (m *Manager) Start(ctx context.Context) error {
	m.mu.Lock()
	life, err := m.run.Begin()
	m.mu.Unlock()
	switch {
	case errors.Is(err, lifecycle.ErrClosed):
		return session.ErrClosed
	case err != nil: // started already
		return nil
	}
	m.run.Go(m.sweeper)
	unsub := m.cl.Subscribe(m.onMember)
	context.AfterFunc(life, unsub)

	err = m.transferState(ctx)
	m.drainQueue()
	return err
}

// Stop stops the sweeper and any transfer, unregisters from the Router and
// expires every session locally (Destroyed listeners fire); the members are
// told only with ExpireSessionsOnShutdown, within ctx: once ctx ends the
// remaining sessions are expired locally only and Stop returns ctx's
// error. Idempotent.
func (m *Manager) Stop(ctx context.Context) error {
	m.mu.Lock()
	if m.run.End() == lifecycle.Stopped {
		m.mu.Unlock()
		return nil
	}
	m.queue, m.getAlls, m.pendingGetAll = nil, nil, nil
	r := m.router
	m.mu.Unlock()
	if r != nil {
		r.removeIf(m)
	}
	for _, s := range m.store.Sessions() {
		tell := m.cfg.ExpireSessionsOnShutdown && ctx.Err() == nil
		m.expire(ctx, s, tell, true, "shutdown")
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("deltamgr: stop %s: %w", m.cfg.Name, err)
	}
	if err := m.run.Wait(ctx); err != nil {
		return fmt.Errorf("deltamgr: stop %s: %w", m.cfg.Name, err)
	}
	m.log.Debug().Msg("session manager stopped")
	return nil
}

// stopped reports whether Stop was called.
func (m *Manager) stopped() bool { return m.run.State() == lifecycle.Stopped }

// Create makes, registers and returns a new primary session and fires
// Created. Nothing is sent yet: the session reaches the members with the
// first RequestCompleted, in one message with its first changes. It fails
// with session.ErrTooManySessions beyond MaxActiveSessions (replicas count)
// and session.ErrClosed after Stop.
func (m *Manager) Create(context.Context) (*session.Session, error) {
	if m.stopped() {
		return nil, session.ErrClosed
	}
	max := m.cfg.MaxActiveSessions
	for {
		if max >= 0 && m.store.Len() >= max {
			return nil, m.reject()
		}
		s := session.New(session.NewID(m.cfg.Route), m.opts)
		err := m.store.Insert(s, max)
		if errors.Is(err, session.ErrDuplicateID) {
			continue
		}
		if err != nil {
			return nil, m.reject()
		}
		m.mu.Lock()
		m.meta[s] = &entry{primary: true, lastReplicated: m.now()}
		m.mu.Unlock()
		m.stats.created.Add(1)
		m.opts.Listeners.FireCreated(s)
		return s, nil
	}
}

func (m *Manager) reject() error {
	m.stats.rejected.Add(1)
	m.log.Warn().Int("max_active", m.cfg.MaxActiveSessions).Int("active", m.store.Len()).
		Msg("createSession: Too many active sessions")
	return session.ErrTooManySessions
}

// Find returns the live session with id, or nil. An id renamed less than
// RenameGrace ago still finds the renamed session. A session idle past its
// timeout is expired on the spot: a primary after MaxInactive (telling the
// members), a replica after twice that, silently (Tomcat's guard against a
// lost primary). Does not block on the network except to send that EXPIRED.
func (m *Manager) Find(id string) *session.Session {
	if id == "" {
		return nil
	}
	s := m.store.Get(id)
	now := m.now()
	m.mu.Lock()
	if s == nil {
		if a, ok := m.aliases[id]; ok && now.Before(a.until) {
			s = m.store.Get(a.to)
		}
	}
	var e *entry
	if s != nil {
		e = m.meta[s]
	}
	if e == nil {
		m.mu.Unlock()
		return nil
	}
	primary := e.primary
	m.mu.Unlock()
	if idleExpired(s, primary, now) {
		m.expire(m.run.Context(), s, primary, true, "idle")
		return nil
	}
	if !s.Valid() {
		return nil
	}
	return s
}

// idleExpired applies Tomcat's rule: primary copies expire after
// MaxInactive idle, backups after twice that. Sessions in use never expire.
func idleExpired(s *session.Session, primary bool, now time.Time) bool {
	mi := s.MaxInactive()
	if mi <= 0 || !s.Valid() || s.InUse() {
		return false
	}
	if !primary {
		mi *= 2
	}
	return s.Idle(now) >= mi
}

// Expire invalidates s (Destroyed fires once), unregisters it and sends
// EXPIRED to the members. Idempotent. In sync mode it waits for the members.
func (m *Manager) Expire(s *session.Session) {
	m.expire(m.run.Context(), s, true, true, "invalidated")
}

// expire removes s locally, optionally telling the cluster and firing
// Destroyed; it reports whether this call removed it.
func (m *Manager) expire(ctx context.Context, s *session.Session, tell, listeners bool, why string) bool {
	m.mu.Lock()
	e := m.meta[s]
	m.mu.Unlock()
	if e == nil {
		s.Expire(listeners)
		return false
	}
	e.sendMu.Lock()
	id := s.ID()
	m.mu.Lock()
	if m.meta[s] != e {
		m.mu.Unlock()
		e.sendMu.Unlock()
		return false
	}
	delete(m.meta, s)
	m.tombs[id] = m.now().Add(m.tombTTL())
	announced := e.announced
	m.mu.Unlock()
	m.store.Remove(s)
	s.TakeChanges()
	if tell && announced {
		err := m.send(ctx, &Message{Kind: KindExpired, SessionID: id})
		if err != nil {
			m.log.Warn().Err(err).Str("session_id", session.LogID(id)).Msg("cannot replicate session expiry")
		}
	}
	e.sendMu.Unlock()
	s.Expire(listeners)
	m.stats.expired.Add(1)
	m.log.Debug().Str("session_id", session.LogID(id)).Str("reason", why).Bool("cluster", tell && announced).Msg("session expired")
	return true
}

// aliasLocked lets old keep finding the session renamed to newID for
// RenameGrace, when only the route changed (JvmRouteBinderValve: concurrent
// requests of the same user still carry the old cookie). A fresh id
// (RenewID, session-fixation protection) never keeps the old one alive.
// m.mu held.
func (m *Manager) aliasLocked(old, newID string, now time.Time) {
	ob, _ := session.SplitID(old)
	nb, _ := session.SplitID(newID)
	if m.cfg.RenameGrace > 0 && ob == nb {
		m.aliases[old] = alias{to: newID, until: now.Add(m.cfg.RenameGrace)}
	}
}

// tombTTL is how long an expired id is remembered, so a late delta from
// another member does not resurrect it.
func (m *Manager) tombTTL() time.Duration {
	if m.cfg.RenameGrace > time.Minute {
		return m.cfg.RenameGrace
	}
	return time.Minute
}

// ChangeID renames s to newID atomically and sends CHANGE_SESSION_ID to the
// members (RenewID, JvmRouteBinderValve). When only the route changed, the
// old id keeps finding s for RenameGrace. Fires IDChanged. Errors: session.ErrInvalid, ErrBadID,
// ErrNotFound, ErrDuplicateID, or the members' failure in sync mode.
func (m *Manager) ChangeID(s *session.Session, newID string) error {
	if !s.Valid() {
		return session.ErrInvalid
	}
	m.mu.Lock()
	e := m.meta[s]
	m.mu.Unlock()
	if e == nil {
		return fmt.Errorf("%w: %s", session.ErrNotFound, session.LogID(s.ID()))
	}
	e.sendMu.Lock()
	old, err := m.store.Rename(s, newID)
	if err != nil {
		e.sendMu.Unlock()
		return err
	}
	now := m.now()
	m.mu.Lock()
	m.aliasLocked(old, newID, now)
	e.primary = true
	announced := e.announced
	if announced {
		e.lastReplicated = now
	}
	m.mu.Unlock()
	if announced {
		err = m.send(m.run.Context(), &Message{Kind: KindChangeSessionID, SessionID: old, NewID: newID})
	}
	e.sendMu.Unlock()
	m.stats.renamed.Add(1)
	m.opts.Listeners.FireIDChanged(s, old)
	if err != nil && waits(m.cfg.SendOptions) {
		return fmt.Errorf("replicate id change: %w", err)
	}
	if err != nil {
		m.log.Warn().Err(err).Msg("cannot replicate session id change")
	}
	return nil
}

// RequestCompleted runs at the end of every request that used s (the
// ReplicationValve calls it): what the request changed leaves as ONE
// message to every member — CREATED or DELTA for a session created by the
// request (never two messages), DELTA for changes, ACCESSED only when the
// previous request ran on another member or when the replicas would expire
// otherwise (at most once per MaxInactive/2), nothing for a read-only
// request. In async mode it returns once queued and logs failures; in sync
// (or ack) mode it waits for every member and returns their errors.
func (m *Manager) RequestCompleted(ctx context.Context, s *session.Session) error {
	m.mu.Lock()
	e := m.meta[s]
	m.mu.Unlock()
	if e == nil {
		return nil // invalidated or expired during the request
	}
	e.sendMu.Lock()
	defer e.sendMu.Unlock()
	ch := s.TakeChanges()
	now := m.now()
	m.mu.Lock()
	if m.meta[s] != e {
		m.mu.Unlock()
		return nil
	}
	wasPrimary, announced, last := e.primary, e.announced, e.lastReplicated
	e.primary = true
	m.mu.Unlock()
	if !s.Valid() {
		return nil
	}
	if len(m.cl.Members()) == 0 {
		// Standalone: nothing to tell; a joining member gets the session
		// by state transfer.
		m.mu.Lock()
		e.announced = true
		e.lastReplicated = now
		m.mu.Unlock()
		return nil
	}

	d := FromChanges(ch)
	if !m.cfg.ReplicatePrincipal {
		d.PrincipalSet, d.Principal, d.AuthType = false, "", "" // members refuse it
	}
	msg := &Message{SessionID: s.ID(), Kind: outbound(wasPrimary, announced, last, &d, s.MaxInactive(), now)}
	if msg.Kind == 0 {
		return nil
	}
	if msg.Kind != KindAccessed {
		msg.Created = s.CreatedAt().UnixNano()
		msg.Delta = &d
	}
	m.mu.Lock()
	e.announced = true
	e.lastReplicated = now
	m.mu.Unlock()
	err := m.send(ctx, msg)
	if err == nil {
		return nil
	}
	if waits(m.cfg.SendOptions) {
		return fmt.Errorf("replicate %s: %w", msg.Kind, err)
	}
	m.log.Warn().Err(err).Str("kind", msg.Kind.String()).Str("session_id", session.LogID(msg.SessionID)).
		Msg("cannot replicate session")
	return nil
}

// outbound is RequestCompleted's decision, pure: the kind of the one
// message a request's end sends (0: nothing), given the session's
// bookkeeping and the request's changes d (completed in place for a new
// session): CREATED or DELTA with New for a session the members do not
// know, DELTA for changes, ACCESSED when the previous request ran on
// another member ("change primary") or when the replicas would otherwise
// expire (at most once per MaxInactive/2).
func outbound(wasPrimary, announced bool, last time.Time, d *Delta, mi time.Duration, now time.Time) Kind {
	if !announced {
		d.New = true
	}
	switch {
	case d.New:
		// The session and its first changes travel together, with what a
		// member needs to create it.
		d.MaxInactive, d.MaxInactiveSet = mi, true
		if len(d.Attrs) == 0 && !d.PrincipalSet {
			return KindCreated
		}
		return KindDelta
	case !d.Empty():
		return KindDelta
	case !wasPrimary:
		return KindAccessed
	case mi > 0 && now.Sub(last) > mi/2:
		return KindAccessed
	}
	return 0
}

// send stamps msg and broadcasts it with the configured send options.
func (m *Manager) send(ctx context.Context, msg *Message) error {
	msg.Context = m.cfg.Name
	msg.Timestamp = m.now().UnixMilli()
	buf := getBuf()
	defer putBuf(buf)
	if err := encodeTo(buf, msg); err != nil {
		return err
	}
	m.stats.sent[msg.Kind].Add(1)
	if err := m.cl.Broadcast(ctx, buf.Bytes(), m.cfg.SendOptions); err != nil { // Broadcast keeps no reference
		m.stats.sendFailures.Add(1)
		return err
	}
	return nil
}

// sendTo stamps msg and sends it to one member.
func (m *Manager) sendTo(ctx context.Context, to string, msg *Message, opts int) error {
	buf := getBuf()
	defer putBuf(buf)
	if err := encodeTo(buf, m.stamp(msg)); err != nil {
		return err
	}
	return m.sendBytes(ctx, to, msg.Kind, buf.Bytes(), opts) // Send keeps no reference
}

// stamp sets the context name and, if unset, the timestamp.
func (m *Manager) stamp(msg *Message) *Message {
	msg.Context = m.cfg.Name
	if msg.Timestamp == 0 {
		msg.Timestamp = m.now().UnixMilli()
	}
	return msg
}

// sendBytes sends an encoded message of kind k to one member.
func (m *Manager) sendBytes(ctx context.Context, to string, k Kind, b []byte, opts int) error {
	m.stats.sent[k].Add(1)
	if err := m.cl.Send(ctx, to, b, opts); err != nil {
		m.stats.sendFailures.Add(1)
		return fmt.Errorf("send %s to %s: %w", k, to, err)
	}
	return nil
}

// sweeper expires idle sessions every SweepInterval until Stop.
func (m *Manager) sweeper(ctx context.Context) {
	t := time.NewTicker(m.cfg.SweepInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			m.Sweep()
		}
	}
}

// Sweep expires every idle session now (by Config.Now) and forgets old
// renamed ids; it returns how many sessions it expired. The sweeper calls
// it every SweepInterval; tests call it after moving their clock.
func (m *Manager) Sweep() int {
	now := m.now()
	type cand struct {
		s       *session.Session
		primary bool
	}
	var cands []cand
	m.mu.Lock()
	for s, e := range m.meta {
		cands = append(cands, cand{s, e.primary})
	}
	for id, a := range m.aliases {
		if !now.Before(a.until) {
			delete(m.aliases, id)
		}
	}
	for id, until := range m.tombs {
		if !now.Before(until) {
			delete(m.tombs, id)
		}
	}
	m.mu.Unlock()
	n := 0
	for _, c := range cands {
		if !idleExpired(c.s, c.primary, now) {
			continue
		}
		m.mu.Lock()
		e := m.meta[c.s]
		primary := e != nil && e.primary
		m.mu.Unlock()
		if e == nil || !idleExpired(c.s, primary, now) {
			continue
		}
		if m.expire(m.run.Context(), c.s, primary, true, "idle") {
			n++
			if !primary {
				m.stats.expiredBackups.Add(1)
			}
		}
	}
	if n > 0 {
		m.log.Debug().Int("expired", n).Int("active", m.store.Len()).Msg("idle sessions expired")
	}
	return n
}

// stoppedLocked is stopped for callers holding m.mu (Stop ends the
// lifecycle under m.mu, so the answer holds while they keep it).
func (m *Manager) stoppedLocked() bool { return m.run.State() == lifecycle.Stopped }
