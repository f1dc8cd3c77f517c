package redismgr

import (
	"context"
	"errors"
	"fmt"

	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"

	"github.com/gomcat/gomcat/runtime/lifecycle"
	"github.com/gomcat/gomcat/runtime/session"
)

// ErrUnavailable wraps every failure to reach Redis in time; the request
// gets 503 Service Unavailable.
var ErrUnavailable = errors.New("redismgr: session store unavailable")

// Manager keeps a context's sessions in Redis (see the package doc). Safe
// for concurrent use.
type Manager struct {
	cfg  Config
	log  zerolog.Logger
	opts session.Options
	rdb  redis.UniversalClient
	db   int

	cache session.Store // the near-cache: sessions this node holds
	run   lifecycle.Runner
	sub   *redis.PubSub // set by Start before the subscriber runs; closed by Stop

	stats counters
}

// meta is the manager's note on a cached session.
type meta struct {
	mu      sync.Mutex
	version int64 // the stored version the session reflects; -1: reload
	touched int64 // unix nanoseconds of the last TTL refresh
	stored  bool  // the hash exists (written or loaded)
}

var (
	_ session.Manager = (*Manager)(nil)
	_ session.Loader  = (*Manager)(nil)
)

// New validates cfg and builds the client; it dials nothing (Start does).
func New(cfg Config) (*Manager, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	rdb, db, err := cfg.client()
	if err != nil {
		return nil, err
	}
	m := &Manager{
		cfg: cfg,
		log: cfg.Logger.With().Str("component", "redismgr").Str("manager", cfg.Name).Logger(),
		rdb: rdb,
		db:  db,
	}
	l := cfg.Listeners
	user := &m.cfg.Listeners
	if cfg.FlushMode == FlushImmediate {
		flush := func(s *session.Session) {
			if err := m.flush(context.Background(), s); err != nil {
				m.log.Warn().Err(err).Str("session_id", session.LogID(s.ID())).Msg("immediate flush failed")
			}
		}
		l.AttributeAdded = chain(user.AttributeAdded, flush)
		l.AttributeReplaced = chain(user.AttributeReplaced, flush)
		l.AttributeRemoved = chain(user.AttributeRemoved, flush)
	}
	m.cfg.Listeners = l
	m.opts = session.Options{
		Manager:     m,
		MaxInactive: cfg.MaxInactive,
		MaxSize:     cfg.MaxSessionSize,
		Listeners:   &m.cfg.Listeners,
		Now:         cfg.Now,
	}
	return m, nil
}

func chain(f func(*session.Session, string), then func(*session.Session)) func(*session.Session, string) {
	return func(s *session.Session, name string) {
		if f != nil {
			f(s, name)
		}
		then(s)
	}
}

// Client returns the go-redis client (for the CLI's export and import).
func (m *Manager) Client() redis.UniversalClient { return m.rdb }

// Key returns the hash key of session id: <prefix>:sessions:<id>.
func (m *Manager) Key(id string) string { return m.cfg.KeyPrefix + ":sessions:" + id }

func (m *Manager) channel() string { return m.cfg.KeyPrefix + ":invalidations" }

// Start pings the server, loads the scripts, enables keyspace
// notifications unless NoConfigure, and starts the event subscriber. A
// server that refuses (a wrong password, an ACL) fails Start; one that
// cannot be reached within Timeout does not: the manager starts, its
// requests answer 503 until the server answers, and the subscriber
// configures the notifications once it has (re)subscribed.
func (m *Manager) Start(ctx context.Context) error {
	_, err := m.run.Begin()
	switch {
	case errors.Is(err, lifecycle.ErrClosed):
		return session.ErrClosed
	case err != nil:
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, m.cfg.Timeout)
	defer cancel()
	err = m.rdb.Ping(ctx).Err()
	for _, sc := range []*redis.Script{loadScript, writeScript} {
		if err == nil {
			err = sc.Load(ctx, m.rdb).Err()
		}
	}
	var refused redis.Error
	switch {
	case errors.As(err, &refused):
		m.run.End()
		return fmt.Errorf("redismgr: %s: %w", m.cfg.Name, err)
	case err != nil:
		m.stats.failures.Add(1)
		m.log.Warn().Err(err).Msg("redis unreachable at start: session requests answer 503 until it answers")
	case !m.cfg.NoConfigure && !m.clustered():
		m.configureNotifications(ctx, m.rdb) // a cluster's: each master's subscription
	}
	m.sub = m.subscribe(ctx)
	m.run.Go(func(ctx context.Context) { m.events(ctx, m.sub, m.rdb) })
	if cc, ok := m.rdb.(*redis.ClusterClient); ok {
		w := &shardWatch{m: m, cc: cc, subs: map[string]*shardSub{}}
		m.run.Go(w.run)
	}
	m.run.Go(m.sweeper)
	m.run.Ready()
	m.log.Info().Bool("sticky", m.cfg.Sticky).Str("flush_mode", string(m.cfg.FlushMode)).Str("write_mode", string(m.cfg.WriteMode)).Msg("redis session manager started")
	return nil
}

// configureNotifications adds the flags the events need (K keyspace,
// g generic: del/rename/expire, x expired, e evicted) to server's.
func (m *Manager) configureNotifications(ctx context.Context, server redis.Cmdable) {
	cur, err := server.ConfigGet(ctx, "notify-keyspace-events").Result()
	if err != nil {
		m.stats.configRefused.Add(1)
		m.log.Warn().Err(err).Msg("cannot read notify-keyspace-events; expiry events reach listeners only if the server sends them (Kgxe)")
		return
	}
	flags := cur["notify-keyspace-events"]
	want := flags
	if strings.Contains(want, "A") {
		want = strings.ReplaceAll(want, "A", "g$lshzxetd")
	}
	for _, f := range "Kgxe" {
		if !strings.ContainsRune(want, f) {
			want += string(f)
		}
	}
	if want == flags {
		return
	}
	if err := server.ConfigSet(ctx, "notify-keyspace-events", want).Err(); err != nil {
		m.stats.configRefused.Add(1)
		m.log.Warn().Err(err).Str("have", flags).Msg("cannot set notify-keyspace-events Kgxe; expiry events reach listeners only if the server is configured so")
		return
	}
	m.log.Info().Str("notify_keyspace_events", want).Msg("keyspace notifications enabled")
}

// Stop stops the subscriber and the sweeper, waits for them (or ctx) and
// closes the client. Sessions stay in Redis. Idempotent.
func (m *Manager) Stop(ctx context.Context) error {
	if m.run.End() == lifecycle.Stopped {
		return nil
	}
	if m.sub != nil {
		_ = m.sub.Close() // interrupts the subscriber's blocking read
	}
	err := m.run.Wait(ctx)
	_ = m.rdb.Close()
	if err != nil {
		return fmt.Errorf("redismgr: stop: %w", err)
	}
	return nil
}

// Create makes a new session in the near-cache. It reaches Redis at the
// end of the request (or at once with FlushImmediate).
func (m *Manager) Create(ctx context.Context) (*session.Session, error) {
	if m.run.State() == lifecycle.Stopped {
		return nil, session.ErrClosed
	}
	for {
		s := session.New(session.NewID(m.cfg.Route), m.opts)
		s.SetNote(&meta{touched: m.cfg.Now().UnixNano()})
		if err := m.cache.Insert(s, 0); errors.Is(err, session.ErrDuplicateID) {
			continue
		}
		m.stats.created.Add(1)
		if m.cfg.FlushMode == FlushImmediate {
			if err := m.flush(ctx, s); err != nil {
				m.cache.Remove(s)
				return nil, err
			}
		}
		m.opts.Listeners.FireCreated(s)
		return s, nil
	}
}

// Find is Load without a caller context; an unreachable store reads as no
// session. The middleware calls Load.
func (m *Manager) Find(id string) *session.Session {
	s, _ := m.Load(context.Background(), id)
	return s
}

func noteOf(s *session.Session) *meta {
	mt, _ := s.Note().(*meta)
	if mt == nil {
		mt = &meta{version: -1}
	}
	return mt
}

func (m *Manager) ttl(s *session.Session) time.Duration {
	mi := s.MaxInactive()
	if mi <= 0 {
		return 0
	}
	return time.Duration(float64(mi) * (1 + m.cfg.TouchFraction))
}

// touchDue reports whether the last TTL refresh is older than the touch
// window at now.
func (m *Manager) touchDue(s *session.Session, mt *meta, now time.Time) bool {
	mi := s.MaxInactive()
	if mi <= 0 {
		return false
	}
	return now.UnixNano()-atomic.LoadInt64(&mt.touched) >= int64(float64(mi)*m.cfg.TouchFraction)
}

// Load returns the session with id: from the near-cache without a round
// trip when Sticky and within the touch window, else validated (and
// touched when due) in one round trip, reloaded when another node changed
// it. It fails with ErrUnavailable when Redis does not answer in Timeout.
func (m *Manager) Load(ctx context.Context, id string) (*session.Session, error) {
	if id == "" || len(id) > 256 {
		return nil, nil
	}
	now := m.cfg.Now()
	s := m.cache.Get(id)
	var mt *meta
	if s != nil {
		mt = noteOf(s)
		if !s.Valid() {
			m.cache.Remove(s)
			s = nil
		} else if !mt.isStored() {
			return s, nil // created here, not written yet (a concurrent request)
		}
	}
	if s != nil && m.cfg.Sticky && atomic.LoadInt64(&mt.version) >= 0 && !m.touchDue(s, mt, now) {
		m.stats.nearHits.Add(1)
		return s, nil
	}
	cached := ""
	if s != nil {
		if v := atomic.LoadInt64(&mt.version); v >= 0 {
			cached = strconv.FormatInt(v, 10)
		}
	}
	var ttl int64
	if s == nil || m.touchDue(s, mt, now) {
		// Unknown TTL before the load: use the default; a session with its
		// own MaxInactive gets its TTL at its next write.
		d := m.ttlFor(s)
		ttl = d.Milliseconds()
	}
	ctx, cancel := context.WithTimeout(ctx, m.cfg.Timeout)
	defer cancel()
	m.stats.roundTrips.Add(1)
	res, err := loadScript.Run(ctx, m.rdb, []string{m.Key(id)}, cached, ttl, now.UnixMilli()).Result()
	if errors.Is(err, redis.Nil) {
		if s != nil { // deleted or expired elsewhere
			m.drop(s, true)
		}
		return nil, nil
	}
	if err != nil {
		m.stats.failures.Add(1)
		m.log.Warn().Err(err).Str("session_id", session.LogID(id)).Msg("session load failed")
		return nil, fmt.Errorf("%w: load: %w", ErrUnavailable, err)
	}
	if ttl > 0 && s != nil {
		atomic.StoreInt64(&mt.touched, now.UnixNano())
	}
	if v, ok := res.(string); ok && s != nil && v == cached {
		m.stats.validated.Add(1)
		return s, nil
	}
	kv, ok := res.([]any)
	if !ok {
		return nil, fmt.Errorf("redismgr: load: unexpected reply %T", res)
	}
	strs := make([]string, len(kv))
	for i, x := range kv {
		strs[i], _ = x.(string)
	}
	st, err := decodeHash(id, strs)
	if err != nil {
		m.stats.badHashes.Add(1)
		m.log.Warn().Err(err).Str("session_id", session.LogID(id)).Msg("stored session ignored")
		return nil, nil
	}
	m.stats.loads.Add(1)
	ns := session.FromRecord(st.rec, m.opts)
	ns.SetNote(&meta{version: st.version, touched: now.UnixNano(), stored: true})
	if old := m.cache.Put(ns); old != nil {
		old.SetNote(&meta{version: -1, stored: true}) // its request still writes its own changes
	}
	return ns, nil
}

func (m *Manager) ttlFor(s *session.Session) time.Duration {
	if s != nil {
		return m.ttl(s)
	}
	if m.cfg.MaxInactive <= 0 {
		return 0
	}
	return time.Duration(float64(m.cfg.MaxInactive) * (1 + m.cfg.TouchFraction))
}

func (mt *meta) isStored() bool {
	mt.mu.Lock()
	defer mt.mu.Unlock()
	return mt.stored
}

// RequestCompleted writes the request's changes in one round trip (a Lua
// script: all of them or none) and refreshes the TTL; a read-only request
// writes nothing. On a failure (ErrUnavailable, the client gets 503)
// nothing was written and the near-cache forgets the session, so the next
// request reads what Redis holds.
func (m *Manager) RequestCompleted(ctx context.Context, s *session.Session) error {
	return m.flush(ctx, s)
}

func (m *Manager) flush(ctx context.Context, s *session.Session) error {
	if !s.Valid() {
		return nil
	}
	mt := noteOf(s)
	mt.mu.Lock() // one write per session at a time on this node
	defer mt.mu.Unlock()
	if !s.Dirty() {
		return nil
	}
	snap := s.Snapshot()
	c := s.TakeChanges()
	mode := "update"
	if !mt.stored {
		mode = "new"
	} else if m.cfg.WriteMode == WriteWhole {
		mode = "whole"
	}
	var set []any
	var del []any
	if mode != "update" || c.New {
		set = metaFields(snap)
		for k, v := range snap.Attrs {
			set = append(set, attrPrefix+k, v)
		}
	} else {
		if c.MaxInactiveSet {
			set = append(set, fMaxInactive, int64(c.MaxInactive/time.Second))
		}
		if c.PrincipalSet {
			set = append(set, fPrincipal, c.Principal, fAuthType, c.AuthType)
		}
		for _, a := range c.Attrs {
			if a.Removed {
				del = append(del, attrPrefix+a.Name)
			} else {
				set = append(set, attrPrefix+a.Name, a.Value)
			}
		}
		set = append(set, fAccessed, snap.LastAccessed/int64(time.Millisecond))
	}
	args := make([]any, 0, 5+len(set)+len(del))
	args = append(args, mode, m.ttl(s).Milliseconds(), m.channel(), snap.ID, len(set)/2)
	args = append(args, set...)
	args = append(args, del...)
	expect := atomic.LoadInt64(&mt.version)
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), m.cfg.Timeout)
	defer cancel()
	m.stats.roundTrips.Add(1)
	v, err := writeScript.Run(cctx, m.rdb, []string{m.Key(snap.ID)}, args...).Int64()
	if err != nil {
		// Nothing of this request reached Redis (the script is atomic) and
		// the client gets a 503: forget the local copy too, so the next
		// request reads what Redis holds.
		_ = c
		atomic.StoreInt64(&mt.version, -1)
		m.cache.Remove(s)
		m.stats.failures.Add(1)
		m.log.Warn().Err(err).Str("session_id", session.LogID(snap.ID)).Msg("session write failed")
		return fmt.Errorf("%w: write: %w", ErrUnavailable, err)
	}
	m.stats.writes.Add(1)
	if v < 0 { // invalidated or expired elsewhere meanwhile
		m.drop(s, true)
		return nil
	}
	mt.stored = true
	atomic.StoreInt64(&mt.touched, m.cfg.Now().UnixNano())
	if v == expect+1 {
		atomic.StoreInt64(&mt.version, v)
	} else {
		atomic.StoreInt64(&mt.version, -1) // another node wrote too: reload next time
	}
	return nil
}

// Put stores rec as the whole session, replacing what Redis holds under
// its id, in one round trip (the write script: version+1, the invalidation
// other nodes' near-caches follow). It is how sessions of another manager
// move in (runtime/node's migration bridge from a DeltaManager cluster).
// The key's TTL is what rec has left of maxInactive × (1+TouchFraction)
// since its last access; a record already past it is not stored.
func (m *Manager) Put(ctx context.Context, rec session.Record) error {
	if rec.ID == "" || len(rec.ID) > 256 {
		return session.ErrBadID
	}
	var ttl int64
	if rec.MaxInactive > 0 {
		idle := m.cfg.Now().UnixNano() - rec.LastAccessed
		left := time.Duration(float64(rec.MaxInactive)*(1+m.cfg.TouchFraction)) - time.Duration(idle)
		if left <= 0 {
			return nil
		}
		ttl = max(left.Milliseconds(), 1)
	}
	set := metaFields(rec)
	for k, v := range rec.Attrs {
		set = append(set, attrPrefix+k, v)
	}
	args := append([]any{"put", ttl, m.channel(), rec.ID, len(set) / 2}, set...)
	ctx, cancel := context.WithTimeout(ctx, m.cfg.Timeout)
	defer cancel()
	m.stats.roundTrips.Add(1)
	if err := writeScript.Run(ctx, m.rdb, []string{m.Key(rec.ID)}, args...).Err(); err != nil {
		m.stats.failures.Add(1)
		return fmt.Errorf("%w: put: %w", ErrUnavailable, err)
	}
	m.stats.writes.Add(1)
	return nil
}

// Delete removes the session id from Redis (DEL); nodes holding it see the
// deletion event.
func (m *Manager) Delete(ctx context.Context, id string) error {
	ctx, cancel := context.WithTimeout(ctx, m.cfg.Timeout)
	defer cancel()
	m.stats.roundTrips.Add(1)
	if err := m.rdb.Del(ctx, m.Key(id)).Err(); err != nil {
		m.stats.failures.Add(1)
		return fmt.Errorf("%w: delete: %w", ErrUnavailable, err)
	}
	return nil
}

// ChangeID renames s to newID (see rename; its hash keeps its fields and
// TTL) and fires IDChanged.
func (m *Manager) ChangeID(s *session.Session, newID string) error {
	if !s.Valid() {
		return session.ErrInvalid
	}
	if newID == "" || len(newID) > 256 {
		return session.ErrBadID
	}
	mt := noteOf(s)
	mt.mu.Lock()
	defer mt.mu.Unlock()
	old := s.ID()
	// The near-cache first: the keyspace event of our own RENAMENX then
	// finds nothing under the old id.
	if _, err := m.cache.Rename(s, newID); err != nil {
		return err
	}
	if mt.stored {
		ctx, cancel := context.WithTimeout(context.Background(), m.cfg.Timeout)
		defer cancel()
		ok, err := m.rename(ctx, m.Key(old), m.Key(newID))
		if err != nil || !ok {
			_, _ = m.cache.Rename(s, old)
		}
		switch {
		case err != nil && strings.Contains(err.Error(), errNoSuchKey):
			m.drop(s, true)
			return fmt.Errorf("%w: %s", session.ErrNotFound, session.LogID(old))
		case err != nil:
			m.stats.failures.Add(1)
			return fmt.Errorf("%w: rename: %w", ErrUnavailable, err)
		case !ok:
			return fmt.Errorf("%w: %s", session.ErrDuplicateID, session.LogID(newID))
		}
	}
	m.stats.renamed.Add(1)
	m.opts.Listeners.FireIDChanged(s, old)
	return nil
}

// errNoSuchKey is what Redis answers RENAME of a missing key.
const errNoSuchKey = "no such key"

// rename moves the hash at from to to unless to exists, in one RENAMENX.
// In a Redis Cluster the two keys almost always live in different slots
// (ids are random), where RENAMENX is refused (CROSSSLOT), so there it is
// DUMP and PTTL of from (one round trip), RESTORE to with that TTL
// (refused when to exists), then DEL from: not atomic against a write to
// the old id from another node in between, which is then lost (renewal
// happens at login, when one request holds the session).
func (m *Manager) rename(ctx context.Context, from, to string) (bool, error) {
	if !m.clustered() {
		m.stats.roundTrips.Add(1)
		return m.rdb.RenameNX(ctx, from, to).Result()
	}
	m.stats.roundTrips.Add(3)
	var dump *redis.StringCmd
	var ttl *redis.DurationCmd
	if _, err := m.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		dump, ttl = p.Dump(ctx, from), p.PTTL(ctx, from)
		return nil
	}); err != nil {
		if errors.Is(err, redis.Nil) {
			return false, errors.New(errNoSuchKey)
		}
		return false, err
	}
	keep := ttl.Val()
	if keep < 0 {
		keep = 0 // no expiry
	}
	if err := m.rdb.Restore(ctx, to, keep, dump.Val()).Err(); err != nil {
		if strings.Contains(err.Error(), "BUSYKEY") {
			return false, nil
		}
		return false, err
	}
	if err := m.rdb.Del(ctx, from).Err(); err != nil {
		// Both ids would work: undo, so the old one is not left valid.
		_ = m.rdb.Del(ctx, to).Err()
		return false, err
	}
	return true, nil
}

// Expire invalidates s (Destroyed fires here), drops it from the
// near-cache and deletes its hash (DEL; other nodes see the deletion
// event). A failed DEL is logged and counted; the key then expires by TTL.
func (m *Manager) Expire(s *session.Session) {
	id := s.ID()
	if s.Expire(true) {
		m.stats.expired.Add(1)
	}
	m.cache.Remove(s)
	ctx, cancel := context.WithTimeout(context.Background(), m.cfg.Timeout)
	defer cancel()
	m.stats.roundTrips.Add(1)
	if err := m.rdb.Del(ctx, m.Key(id)).Err(); err != nil {
		m.stats.failures.Add(1)
		m.log.Warn().Err(err).Str("session_id", session.LogID(id)).Msg("session delete failed; it expires by TTL")
	}
}

// drop removes a session that is gone from Redis from the near-cache,
// firing Destroyed when notify.
func (m *Manager) drop(s *session.Session, notify bool) {
	if s.Expire(notify) {
		m.stats.expired.Add(1)
	}
	m.cache.Remove(s)
}

// Count returns the number of sessions in this node's near-cache (Redis
// holds the cluster's; see Stored).
func (m *Manager) Count() int { return m.cache.Len() }

// Route returns the configured jvmRoute.
func (m *Manager) Route() string { return m.cfg.Route }

// sweeper drops near-cache entries idle past their timeout without a
// round trip (Redis expires the hash; its expiry event fires Destroyed).
func (m *Manager) sweeper(ctx context.Context) {
	iv := time.Duration(float64(m.cfg.MaxInactive) * m.cfg.TouchFraction)
	if iv <= 0 || iv > time.Minute {
		iv = time.Minute
	}
	t := time.NewTicker(iv)
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

// Sweep drops near-cache entries idle longer than their TTL at now and
// returns how many.
func (m *Manager) Sweep(now time.Time) int {
	n := 0
	for _, s := range m.cache.Sessions() {
		if ttl := m.ttl(s); ttl > 0 && !s.InUse() && s.Idle(now) > ttl {
			m.cache.Remove(s)
			n++
		}
	}
	return n
}

func (mt *meta) loadVersion() int64         { return atomic.LoadInt64(&mt.version) }
func (mt *meta) storeVersion(v int64)       { atomic.StoreInt64(&mt.version, v) }
func (mt *meta) casVersion(o, n int64) bool { return atomic.CompareAndSwapInt64(&mt.version, o, n) }
