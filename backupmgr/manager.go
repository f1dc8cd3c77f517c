package backupmgr

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/gomcat/gomcat/deltamgr"
	"github.com/gomcat/gomcat/runtime/lifecycle"
	"github.com/gomcat/gomcat/runtime/session"
)

// Cluster is what the manager needs from the cluster: the same contract as
// deltamgr's (one adapter in runtime/node, transporttest's Port in tests).
type Cluster = deltamgr.Cluster

// Manager is the session manager of one distributable context with one
// primary and Config.Backups backups per session (Tomcat's BackupManager).
// It implements session.Manager; all methods are safe for concurrent use.
type Manager struct {
	cfg   Config
	cl    Cluster
	log   zerolog.Logger
	now   func() time.Time
	opts  session.Options
	store session.Store // the values held here: primaries and backups
	stats counters

	run lifecycle.Runner

	mu       sync.Mutex
	core     *core
	inflight map[string]chan struct{} // id → closed when its retrieval ended
	reqs     map[uint64]chan *Message // retrieval id → its reply
	reqSeq   uint64
	asked    map[string]bool // members whose map Start waits for
	answered chan struct{}   // closed when asked is empty
	// subscribed: Start's Subscribe returned; later joins are sent MSG_INIT
	subscribed bool
	router     *Router
}

var _ session.Manager = (*Manager)(nil)

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
		cfg:      cfg,
		cl:       cl,
		log:      cfg.Logger.With().Str("component", "backupmgr").Str("manager", cfg.Name).Logger(),
		now:      cfg.Now,
		inflight: make(map[string]chan struct{}),
		reqs:     make(map[uint64]chan *Message),
	}
	var idle, access time.Duration
	if cfg.MaxInactive > 0 {
		idle, access = 2*cfg.MaxInactive, cfg.MaxInactive/2
	}
	m.core = newCore(cl.Self(), cfg.Backups, cfg.RebalanceRate, idle, access)
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

// Count returns the number of session values held here (primaries and backups).
func (m *Manager) Count() int { return m.store.Len() }

// Sessions returns the session values held here, in no order.
func (m *Manager) Sessions() []*session.Session { return m.store.Sessions() }

// IsPrimary reports whether this member is the primary of s.
func (m *Manager) IsPrimary(s *session.Session) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, _ := m.core.lookup(s.ID())
	return r == rolePrimary
}

// Owners returns the primary and backups of id as this member knows them.
func (m *Manager) Owners(id string) (primary string, backups []string, ok bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e := m.core.view(id)
	if e == nil {
		return "", nil, false
	}
	return e.Primary, slices.Clone(e.Backups), true
}

func (m *Manager) setRouter(r *Router) {
	m.mu.Lock()
	m.router = r
	m.mu.Unlock()
}

// Start subscribes to membership, asks every member for its map (MSG_INIT;
// members running the context answer with their entries, the others with
// NO_CONTEXT) and waits for the answers within RPCTimeout, and within
// AccessTimeout once the first came. A missing answer is logged, or fails
// Start with TerminateOnStartFailure. Starting twice is a no-op; after Stop
// it fails with session.ErrClosed.
func (m *Manager) Start(ctx context.Context) error {
	m.mu.Lock()
	life, err := m.run.Begin()
	switch {
	case errors.Is(err, lifecycle.ErrClosed):
		m.mu.Unlock()
		return session.ErrClosed
	case err != nil:
		m.mu.Unlock()
		return nil
	}
	m.asked = make(map[string]bool)
	for _, p := range m.cl.Members() {
		m.asked[p] = true
	}
	m.answered = make(chan struct{})
	if len(m.asked) == 0 {
		close(m.answered)
	}
	answered := m.answered
	m.mu.Unlock()
	m.run.Go(m.sweeper)
	unsub := m.cl.Subscribe(m.onMember)
	context.AfterFunc(life, unsub)
	m.mu.Lock()
	m.subscribed = true
	m.mu.Unlock()

	b, err := m.encode(&Message{Kind: KindInit})
	if err == nil {
		m.count(KindInit, true)
		err = m.cl.Broadcast(ctx, b, deltamgr.OptionsAsync)
	}
	if err != nil {
		m.log.Warn().Err(err).Msg("map init: broadcast failed")
	}
	start := m.now()
	t := time.NewTimer(m.cfg.RPCTimeout)
	defer t.Stop()
	select {
	case <-answered:
		m.log.Info().Dur("took", m.now().Sub(start)).Int("peers", m.Peers()).Msg("map state received")
		return nil
	case <-t.C:
	case <-ctx.Done():
	case <-life.Done():
	}
	m.mu.Lock()
	missing := make([]string, 0, len(m.asked))
	for p := range m.asked {
		missing = append(missing, p)
	}
	m.mu.Unlock()
	slices.Sort(missing)
	if m.cfg.TerminateOnStartFailure {
		return fmt.Errorf("%w from %v", ErrStart, missing)
	}
	m.log.Warn().Strs("members", missing).Msg("map state not received from every member; continuing (terminateOnStartFailure=false)")
	return nil
}

// sendInit asks one member for its map.
func (m *Manager) sendInit(ctx context.Context, to string) {
	b, err := m.encode(&Message{Kind: KindInit})
	if err == nil {
		m.count(KindInit, true)
		err = m.cl.Send(ctx, to, b, deltamgr.OptionsAsync)
	}
	if err != nil {
		m.log.Debug().Err(err).Str("peer", to).Msg("map init not sent")
	}
}

// Peers returns how many other members are known to run this context.
func (m *Manager) Peers() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.core.peers)
}

// answeredBy records that from sent its map (or has no such context).
func (m *Manager) answeredBy(from string) {
	if !m.asked[from] {
		return
	}
	delete(m.asked, from)
	if len(m.asked) == 0 {
		close(m.answered)
		return
	}
	// The first answer shortens the wait to AccessTimeout.
	if a := m.answered; a != nil {
		ch := a
		t := time.AfterFunc(m.cfg.AccessTimeout, func() {
			m.mu.Lock()
			defer m.mu.Unlock()
			if m.answered == ch && len(m.asked) > 0 {
				m.asked = map[string]bool{}
				m.log.Warn().Msg("map state: a member did not answer within accessTimeout")
				close(ch)
			}
		})
		context.AfterFunc(m.run.Context(), func() { t.Stop() })
	}
}

// Stop stops the sweeper, unregisters from the Router and drops every
// value held here (Destroyed fires for the primaries). The other members
// learn the member left from the membership and promote their backups.
// Idempotent.
func (m *Manager) Stop(ctx context.Context) error {
	m.mu.Lock()
	if m.run.End() == lifecycle.Stopped {
		m.mu.Unlock()
		return nil
	}
	r := m.router
	prim := make(map[string]bool)
	m.core.each(func(id string, e *entry) {
		if e.Primary == m.core.self {
			prim[id] = true
		}
	})
	m.mu.Unlock()
	if r != nil {
		r.removeIf(m)
	}
	for _, s := range m.store.Sessions() {
		m.store.Remove(s)
		s.Expire(prim[s.ID()])
	}
	if err := m.run.Wait(ctx); err != nil {
		return fmt.Errorf("backupmgr: stop %s: %w", m.cfg.Name, err)
	}
	return nil
}

func (m *Manager) stopped() bool { return m.run.State() == lifecycle.Stopped }

// Create makes, registers and returns a new primary session with its
// backups chosen (round-robin over the members running the context) and
// fires Created. Nothing is sent until its first request completes. It
// fails with session.ErrTooManySessions beyond MaxActiveSessions (primary
// sessions only) and session.ErrClosed after Stop.
func (m *Manager) Create(context.Context) (*session.Session, error) {
	if m.stopped() {
		return nil, session.ErrClosed
	}
	for {
		m.mu.Lock()
		if max := m.cfg.MaxActiveSessions; max >= 0 && m.core.primaryCount() >= max {
			m.mu.Unlock()
			m.stats.rejected.Add(1)
			m.log.Warn().Int("max_active", max).Msg("createSession: Too many active sessions")
			return nil, session.ErrTooManySessions
		}
		id := session.NewID(m.cfg.Route)
		if m.core.view(id) != nil {
			m.mu.Unlock()
			continue
		}
		s := session.New(id, m.opts)
		if err := m.store.Insert(s, 0); err != nil {
			m.mu.Unlock()
			continue
		}
		m.core.created(id, m.now())
		m.mu.Unlock()
		m.stats.created.Add(1)
		m.opts.Listeners.FireCreated(s)
		return s, nil
	}
}

// Find returns the live session with id, or nil. On its primary it does not
// block. On a backup the member becomes primary (the others are told,
// async). On a member that only knows the owners it retrieves the value
// (MSG_RETRIEVE_BACKUP, backups first, within RPCTimeout), becomes primary
// and tells the others: Find blocks for that round trip, as Tomcat's.
func (m *Manager) Find(id string) *session.Session {
	if id == "" || m.stopped() {
		return nil
	}
	now := m.now()
	m.mu.Lock()
	r, from := m.core.lookup(id)
	m.mu.Unlock()
	s := m.store.Get(id)
	switch {
	case r == rolePrimary && s != nil:
		if s.Expired(now) {
			m.Expire(s)
			return nil
		}
		return s
	case r == roleBackup && s != nil:
		m.mu.Lock()
		effs := m.core.takeOver(id, nil, 0, now)
		m.mu.Unlock()
		m.stats.promoted.Add(1)
		m.exec(m.run.Context(), effs)
		return s
	case r == roleProxy:
		return m.retrieve(id, from)
	}
	return nil
}

// retrieve fetches id's value from the first of from that holds it and
// makes this member its primary. Concurrent calls for one id share it.
func (m *Manager) retrieve(id string, from []string) *session.Session {
	m.mu.Lock()
	if ch, ok := m.inflight[id]; ok {
		m.mu.Unlock()
		select {
		case <-ch:
		case <-m.run.Context().Done():
			return nil
		}
		if s := m.store.Get(id); s != nil && m.IsPrimary(s) {
			return s
		}
		return nil
	}
	done := make(chan struct{})
	m.inflight[id] = done
	m.mu.Unlock()
	defer func() {
		m.mu.Lock()
		delete(m.inflight, id)
		m.mu.Unlock()
		close(done)
	}()
	start := m.now()
	for _, h := range from {
		// Each holder gets its own RPCTimeout: a dead one that has not
		// been noticed yet (its messages queue until the failure detector
		// drops it) must not use up the time of the live one after it.
		ctx, cancel := context.WithTimeout(m.run.Context(), m.cfg.RPCTimeout)
		rep := m.ask(ctx, h, id)
		cancel()
		if rep == nil || rep.Record == nil || rep.Entry == nil || rep.Record.ID != id {
			continue
		}
		s := session.FromRecord(*rep.Record, m.opts)
		m.mu.Lock()
		if old := m.store.Put(s); old != nil {
			old.Expire(false)
		}
		effs := m.core.takeOver(id, rep.Entry, rep.Gen, m.now())
		m.mu.Unlock()
		m.stats.retrieved.Add(1)
		m.log.Debug().Str("session_id", session.LogID(id)).Str("from", h).Dur("took", m.now().Sub(start)).Msg("session retrieved, primary here now")
		m.exec(m.run.Context(), effs)
		return s
	}
	m.stats.retrieveFailures.Add(1)
	m.log.Warn().Str("session_id", session.LogID(id)).Strs("holders", from).Msg("cannot retrieve session from its holders")
	return nil
}

// ask sends one MSG_RETRIEVE_BACKUP to h and waits for its reply.
func (m *Manager) ask(ctx context.Context, h, id string) *Message {
	ch := make(chan *Message, 1)
	m.mu.Lock()
	m.reqSeq++
	req := m.reqSeq
	m.reqs[req] = ch
	m.mu.Unlock()
	defer func() {
		m.mu.Lock()
		delete(m.reqs, req)
		m.mu.Unlock()
	}()
	b, err := m.encode(&Message{Kind: KindRetrieve, Entry: &Entry{ID: id}, Req: req})
	if err == nil {
		m.count(KindRetrieve, true)
		err = m.cl.Send(ctx, h, b, deltamgr.OptionsAsync)
	}
	if err != nil {
		m.stats.sendFailures.Add(1)
		return nil
	}
	select {
	case rep := <-ch:
		return rep
	case <-ctx.Done():
		return nil
	}
}

// ChangeID renames s to newID and tells the members (RenewID,
// JvmRouteBinderValve). Fires IDChanged.
func (m *Manager) ChangeID(s *session.Session, newID string) error {
	if !s.Valid() {
		return session.ErrInvalid
	}
	m.mu.Lock()
	if m.core.view(newID) != nil {
		m.mu.Unlock()
		return fmt.Errorf("%w: %s", session.ErrDuplicateID, session.LogID(newID))
	}
	old, err := m.store.Rename(s, newID)
	if err != nil {
		m.mu.Unlock()
		return err
	}
	effs := m.core.renamed(old, newID)
	m.mu.Unlock()
	m.stats.renamed.Add(1)
	m.exec(m.run.Context(), effs)
	m.opts.Listeners.FireIDChanged(s, old)
	return nil
}

// Expire invalidates s (Destroyed fires once), unregisters it and tells
// the members (MSG_REMOVE, async). Idempotent.
func (m *Manager) Expire(s *session.Session) {
	if !m.store.Remove(s) {
		s.Expire(true)
		return
	}
	m.mu.Lock()
	effs := m.core.removed(s.ID())
	m.mu.Unlock()
	m.stats.expired.Add(1)
	m.exec(m.run.Context(), effs)
	s.Expire(true)
}

// RequestCompleted sends what the request changed to the backups only:
// the whole value, with MapSendOptions (by default it returns once every
// backup stored it, and returns their errors); the first request of a new
// session also tells the other members its owners (async). A read-only
// request sends nothing, except an ACCESS at most once per MaxInactive/2.
func (m *Manager) RequestCompleted(ctx context.Context, s *session.Session) error {
	if !s.Valid() {
		return nil
	}
	changed := !s.TakeChanges().Empty()
	m.mu.Lock()
	effs := m.core.completed(s.ID(), changed, m.now())
	m.mu.Unlock()
	return m.exec(ctx, effs)
}

// onMember is the membership callback (it must not block): a member gone
// is relocated on a goroutine of the manager's.
func (m *Manager) onMember(kind int, member string) {
	if kind == deltamgr.MemberJoined || kind == deltamgr.MemberReplaced {
		// A member seen after Start's MSG_INIT (a new one, a healed
		// partition) is asked for its map; its answer makes it a peer.
		m.mu.Lock()
		ask := m.subscribed && !m.core.isPeer(member)
		m.mu.Unlock()
		if ask {
			m.run.Go(func(ctx context.Context) { m.sendInit(ctx, member) })
		}
		if kind == deltamgr.MemberJoined {
			return
		}
	}
	if kind != deltamgr.MemberLeft && kind != deltamgr.MemberReplaced {
		return
	}
	start := m.now()
	m.mu.Lock()
	if m.asked[member] {
		m.answeredBy(member)
	}
	effs, moved := m.core.peerDown(member)
	m.mu.Unlock()
	if moved == 0 && len(effs) == 0 {
		return
	}
	m.run.Go(func(ctx context.Context) {
		m.exec(ctx, effs)
		took := m.now().Sub(start)
		m.stats.relocations.Add(1)
		m.stats.relocationNanos.Store(int64(took))
		m.log.Info().Str("member", member).Int("entries", moved).Dur("took", took).
			Msgf("Relocation of map entries was complete in [%d] ms.", took.Milliseconds())
	})
}

// sweeper expires idle primaries (telling the members), drops backups
// idle past twice MaxInactive (their primary is gone unnoticed) and runs
// the core's tick (idle proxies, rebalancing).
func (m *Manager) sweeper(ctx context.Context) {
	t := time.NewTicker(m.cfg.SweepInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			m.sweep(ctx)
		}
	}
}

// sweep is one pass of the sweeper.
func (m *Manager) sweep(ctx context.Context) {
	now := m.now()
	for _, s := range m.store.Expired(now) {
		m.mu.Lock()
		r, _ := m.core.lookup(s.ID())
		m.mu.Unlock()
		if r == rolePrimary {
			m.Expire(s)
			continue
		}
		if mi := s.MaxInactive(); mi > 0 && s.Idle(now) >= 2*mi {
			m.mu.Lock()
			if m.store.Remove(s) {
				m.core.forget(s.ID())
			}
			m.mu.Unlock()
			s.Expire(false)
			m.stats.expiredBackups.Add(1)
		}
	}
	m.mu.Lock()
	effs := m.core.tick(now)
	m.mu.Unlock()
	m.exec(ctx, effs)
}

// exec carries out the core's effects. It returns the backups' errors for
// replications sent with waiting MapSendOptions.
func (m *Manager) exec(ctx context.Context, effs []effect) error {
	var errs []error
	for _, f := range effs {
		switch f.kind {
		case effSend:
			b, err := m.encode(f.msg)
			if err != nil {
				m.log.Error().Err(err).Msg("encode map message")
				continue
			}
			opts := deltamgr.OptionsAsync
			if f.wait {
				opts = m.cfg.MapSendOptions
			}
			for _, to := range f.to {
				m.count(f.msg.Kind, true)
				if err := m.cl.Send(ctx, to, b, opts); err != nil {
					m.stats.sendFailures.Add(1)
					m.log.Debug().Err(err).Str("peer", to).Str("kind", f.msg.Kind.String()).Msg("map message not sent")
				}
			}
		case effReplicate:
			if err := m.replicate(ctx, f.id, f.to); err != nil {
				errs = append(errs, err)
			}
		case effDrop, effForget:
			if s := m.store.Get(f.id); s != nil {
				m.mu.Lock()
				r, _ := m.core.lookup(f.id)
				m.mu.Unlock()
				// A request may still use s (a concurrent takeover
				// elsewhere won): it ends normally, unreplicated.
				if r != rolePrimary && r != roleBackup && m.store.Remove(s) && !s.InUse() {
					s.Expire(false)
				}
			}
		case effPromoted:
			m.stats.promoted.Add(1)
		case effLost:
			m.stats.lost.Add(1)
			m.log.Error().Str("session_id", session.LogID(f.id)).
				Msg("session lost: its primary and every backup left or died")
		}
	}
	if len(errs) > 0 && deltamgr.SendUseAck&m.cfg.MapSendOptions|deltamgr.SendSyncAck&m.cfg.MapSendOptions != 0 {
		return fmt.Errorf("backupmgr: replicate: %w", errors.Join(errs...))
	}
	return nil
}

// replicate sends id's whole value with its roles to each of to. A backup
// that fails is replaced by another member at once (Tomcat tries the next
// one too), so the request fails only when no member took the value.
func (m *Manager) replicate(ctx context.Context, id string, to []string) error {
	s := m.store.Get(id)
	if s == nil {
		return nil
	}
	var errs []error
	var tried []string
	for len(to) > 0 {
		p := to[0]
		to = to[1:]
		tried = append(tried, p)
		// The snapshot and its generation are taken together: a newer
		// value always has a higher generation.
		m.mu.Lock()
		roles, gen, ok := m.core.nextGen(id)
		rec := s.Snapshot()
		m.mu.Unlock()
		if !ok {
			return nil
		}
		b, err := m.encode(&Message{Kind: KindBackup, Entry: &roles, Record: &rec, Gen: gen})
		if err != nil {
			return err
		}
		m.count(KindBackup, true)
		m.stats.replicatedBytes.Add(uint64(len(b)))
		err = m.cl.Send(ctx, p, b, m.cfg.MapSendOptions)
		if err == nil {
			continue
		}
		m.stats.sendFailures.Add(1)
		m.log.Warn().Err(err).Str("peer", p).Str("session_id", session.LogID(id)).Msg("cannot send session to its backup; choosing another")
		m.mu.Lock()
		next := m.core.replaceBackup(id, p, tried)
		var e Entry
		if en := m.core.view(id); en != nil {
			e = en.clone()
		}
		m.mu.Unlock()
		if len(next) == 0 {
			errs = append(errs, fmt.Errorf("%s: %w", p, err))
			continue
		}
		to = append(to, next...)
		// The others learn the new roles (the new backup with the value).
		if pm, err := m.encode(proxyMsg(&e)); err == nil {
			for _, o := range m.Members() {
				if o != next[0] {
					m.count(KindProxy, true)
					_ = m.cl.Send(ctx, o, pm, deltamgr.OptionsAsync)
				}
			}
		}
	}
	return errors.Join(errs...)
}

// Members returns the other members known to run this context.
func (m *Manager) Members() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.core.peers)
}

func (m *Manager) encode(msg *Message) ([]byte, error) {
	msg.Context = m.cfg.Name
	return Encode(msg)
}

// receive handles one decoded message for this context (Router.Deliver).
// It runs on the transport's goroutine and sends only async.
func (m *Manager) receive(ctx context.Context, from string, msg *Message, n int) error {
	m.count(msg.Kind, false)
	m.stats.receivedBytes.Add(uint64(n))
	if m.stopped() {
		return nil
	}
	now := m.now()
	var effs []effect
	switch msg.Kind {
	case KindInit:
		m.mu.Lock()
		effs = m.core.peerUp(from, true)
		m.mu.Unlock()
	case KindNoContext:
		m.mu.Lock()
		m.answeredBy(from)
		m.mu.Unlock()
	case KindState:
		m.mu.Lock()
		effs = m.core.peerUp(from, false)
		effs = append(effs, m.core.receive(from, msg, now)...)
		m.answeredBy(from)
		m.mu.Unlock()
	case KindBackup:
		if msg.Entry == nil || msg.Record == nil || msg.Record.ID != msg.Entry.ID {
			m.stats.refused.Add(1)
			return fmt.Errorf("%w: backup without entry or record", ErrMalformed)
		}
		m.mu.Lock()
		if m.core.backup(msg.Entry, msg.Gen, now) {
			if old := m.store.Put(session.FromRecord(*msg.Record, m.opts)); old != nil {
				old.Expire(false)
			}
		}
		m.mu.Unlock()
	case KindRetrieve:
		if msg.Entry == nil {
			return nil
		}
		rep := &Message{Kind: KindRetrieveReply, Req: msg.Req}
		m.mu.Lock()
		if e := m.core.view(msg.Entry.ID); e != nil && e.local {
			if s := m.store.Get(msg.Entry.ID); s != nil {
				rec := s.Snapshot()
				ent := e.clone()
				rep.Record, rep.Entry, rep.Gen = &rec, &ent, e.gen
			}
		}
		m.mu.Unlock()
		effs = []effect{{kind: effSend, to: []string{from}, msg: rep}}
	case KindRetrieveReply:
		m.mu.Lock()
		ch := m.reqs[msg.Req]
		delete(m.reqs, msg.Req)
		m.mu.Unlock()
		if ch != nil {
			ch <- msg
		}
	case KindAccess:
		m.mu.Lock()
		effs = m.core.receive(from, msg, now)
		m.mu.Unlock()
		if s := m.store.Get(msg.Entry.ID); s != nil && msg.Accessed > s.LastAccessedAt().UnixNano() {
			rec := s.Snapshot()
			rec.LastAccessed = msg.Accessed
			m.mu.Lock()
			if m.store.Get(rec.ID) == s {
				m.store.Put(session.FromRecord(rec, m.opts))
			}
			m.mu.Unlock()
		}
	case KindRename:
		m.mu.Lock()
		effs = m.core.receive(from, msg, now)
		if s := m.store.Get(msg.Entry.ID); s != nil {
			if e := m.core.view(msg.NewID); e != nil && e.local {
				_, _ = m.store.Rename(s, msg.NewID)
			}
		}
		m.mu.Unlock()
	default:
		m.mu.Lock()
		effs = m.core.receive(from, msg, now)
		m.mu.Unlock()
	}
	if len(effs) > 0 {
		if needsWait(effs) {
			m.run.Go(func(ctx context.Context) { m.exec(ctx, effs) })
		} else {
			m.exec(ctx, effs)
		}
	}
	return nil
}

// needsWait reports whether effs replicate values or wait for the peers
// (never on the transport's goroutine).
func needsWait(effs []effect) bool {
	for _, f := range effs {
		if f.kind == effReplicate || f.wait {
			return true
		}
	}
	return false
}
