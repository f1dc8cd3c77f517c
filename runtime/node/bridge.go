package node

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/gomcat/gomcat/conf"
	"github.com/gomcat/gomcat/deltamgr"
	"github.com/gomcat/gomcat/redismgr"
	"github.com/gomcat/gomcat/runtime/host"
	"github.com/gomcat/gomcat/runtime/session"
)

// BridgeConfig configures a Bridge.
type BridgeConfig struct {
	// Server is the model of a home whose <Cluster> is the DeltaManager
	// cluster to join (membership, receiver, key) and whose contexts with
	// <Manager className="gomcat.RedisManager"> name where their sessions
	// go. Its jvmRoute must be unique in the cluster. Required.
	Server *conf.Server
	// Home resolves relative paths (key and password files). Required.
	Home string
	// Interval is how often the sessions that changed are copied.
	// Default: DefaultBridgeInterval.
	Interval time.Duration
	// Logger; default zerolog.Nop().
	Logger zerolog.Logger
}

// DefaultBridgeInterval is how often a Bridge copies changed sessions.
const DefaultBridgeInterval = time.Second

// Bridge moves the live sessions of a DeltaManager cluster into Redis
// without logging anyone out: it joins the cluster as a member with no
// connector (its heartbeats advertise no URL, so balancers never route to
// it), receives every session by the state transfer of each context that
// has a RedisManager in its model, writes them into Redis under the same
// ids (redismgr.Manager.Put), then keeps copying each session whose last
// access changed (replicated deltas and ACCESSED messages) and deletes
// the ones a member invalidates, until Stop. Nodes can then be switched
// to RedisManager one by one: the sessions of the nodes still on
// DeltaManager keep reaching Redis through the bridge.
//
// A session that idled past its timeout is left to Redis's TTL, not
// deleted: it may be in use on a node that already reads Redis. When both
// sides write one session, the last writer wins (a sticky balancer keeps
// a user on one side).
//
// Goroutines: none of its own; Run copies on the caller's. Start, Run and
// Stop are called in that order by one goroutine.
type Bridge struct {
	cfg   BridgeConfig
	log   zerolog.Logger
	clus  *clusterPart
	pairs []*bridgePair
}

// bridgePair is one context: its DeltaManager replica and its Redis store.
type bridgePair struct {
	name  string
	delta *deltamgr.Manager
	redis *redismgr.Manager

	pushed  map[string]int64 // id → the LastAccessed (unix ns) last copied
	deleted atomic.Int64

	mu   sync.Mutex // guards gone
	gone []string   // ids invalidated or renamed by a member: to delete
}

// BridgeStats counts what a Bridge did for one context.
type BridgeStats struct {
	Context string // the manager's name ("localhost#/shop")
	Held    int    // sessions the bridge's replica holds now
	Copied  int    // sessions written into Redis in total
	Deleted int    // sessions deleted from Redis
	Failed  int    // writes or deletes Redis refused (retried at the next pass)
}

// NewBridge checks cfg; it starts nothing.
func NewBridge(cfg BridgeConfig) (*Bridge, error) {
	if cfg.Server == nil || cfg.Home == "" {
		return nil, errors.New("node: bridge: Server and Home are required")
	}
	if cfg.Interval <= 0 {
		cfg.Interval = DefaultBridgeInterval
	}
	s := cfg.Server
	eng := s.Engine()
	if eng == nil || s.Cluster() == nil {
		return nil, errors.New("node: bridge: the home's server.xml has no <Cluster> to take the sessions from")
	}
	if s.Cluster().Manager.ClassName == conf.BackupManager {
		return nil, errors.New("node: bridge: the cluster's <Manager> is BackupManager; the bridge takes sessions from a DeltaManager cluster")
	}
	if eng.JvmRoute == "" {
		return nil, errors.New("node: bridge: a jvmRoute is required (unique in the cluster)")
	}
	b := &Bridge{cfg: cfg, log: cfg.Logger.With().Str("component", "bridge").Logger()}
	var only *conf.Host
	if eng.Cluster == nil {
		only = s.ClusterHost()
	}
	cp, err := newClusterPart(s, only, b.abs, b.log)
	if err != nil {
		return nil, err
	}
	b.clus = cp
	n := 0
	for _, h := range eng.Hosts {
		if cp.covers(h) {
			for _, c := range h.Contexts {
				if c.Manager != nil {
					n++
				}
			}
		}
	}
	if n == 0 {
		return nil, errors.New("node: bridge: no context the cluster covers has <Manager className=\"gomcat.RedisManager\">: nothing to move")
	}
	return b, nil
}

func (b *Bridge) abs(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(b.cfg.Home, p)
}

// Start joins the cluster, receives each context's sessions (the state
// transfer) and copies them all into Redis. On an error what was started
// is stopped again.
func (b *Bridge) Start(ctx context.Context) (err error) {
	if err := b.clus.Start(ctx); err != nil {
		return fmt.Errorf("node: bridge: cluster: %w", err)
	}
	defer func() {
		if err != nil {
			_ = b.Stop(context.WithoutCancel(ctx))
		}
	}()
	eng := b.cfg.Server.Engine()
	for _, h := range eng.Hosts {
		if !b.clus.covers(h) {
			continue
		}
		for _, c := range h.Contexts {
			if c.Manager == nil {
				continue
			}
			if err := b.add(ctx, h.Name, c, eng.JvmRoute); err != nil {
				return err
			}
		}
	}
	for _, p := range b.pairs {
		b.copy(ctx, p)
		st := p.stats()
		b.log.Info().Str("context", p.name).Int("sessions", st.Copied).Int("failed", st.Failed).Msg("bridge: sessions copied into Redis")
	}
	return nil
}

func (b *Bridge) add(ctx context.Context, hostName string, c *conf.Context, route string) error {
	spec := host.ContextSpec{Path: c.Path, SessionTimeout: c.SessionTimeout}
	if c.SessionTimeout <= 0 {
		spec.SessionTimeout = -1
	}
	p := &bridgePair{name: managerName(hostName, c.Path), pushed: map[string]int64{}}
	rm, err := newRedisManager(b.abs, b.log, hostName, spec, route, c.Manager)
	if err != nil {
		return fmt.Errorf("node: bridge: context %s: %w", c.Path, err)
	}
	if err := rm.Start(ctx); err != nil {
		return fmt.Errorf("node: bridge: context %s: %w", c.Path, err)
	}
	p.redis = rm
	b.pairs = append(b.pairs, p) // Stop stops what is in pairs
	l := &session.Listeners{
		// An explicit invalidation by a member (idle well within the
		// timeout) is deleted from Redis; an idle expiry is left to the
		// TTL there.
		Destroyed: func(s *session.Session) {
			if mi := s.MaxInactive(); mi <= 0 || s.Idle(time.Now()) < mi {
				p.forget(s.ID())
			}
		},
		IDChanged: func(_ *session.Session, old string) { p.forget(old) },
	}
	dm, err := b.clus.newDeltaManager(hostName, spec, route, &b.clus.conf.Manager, func(dc *deltamgr.Config) {
		dc.Listeners = l
		dc.NotifySessionListenersOnReplication = true
		dc.ExpireSessionsOnShutdown = false // leaving the cluster must not end anyone's session
	})
	if err != nil {
		return fmt.Errorf("node: bridge: context %s: %w", c.Path, err)
	}
	p.delta = dm
	if err := dm.Start(ctx); err != nil { // the state transfer
		return fmt.Errorf("node: bridge: context %s: state transfer: %w", c.Path, err)
	}
	return nil
}

// forget queues id for deletion from Redis.
func (p *bridgePair) forget(id string) {
	p.mu.Lock()
	p.gone = append(p.gone, id)
	p.mu.Unlock()
}

// copy writes into Redis every session whose last access changed since
// the last copy and deletes the queued ids.
func (b *Bridge) copy(ctx context.Context, p *bridgePair) {
	p.mu.Lock()
	gone := p.gone
	p.gone = nil
	p.mu.Unlock()
	for i, id := range gone {
		if err := p.redis.Delete(ctx, id); err != nil {
			b.log.Warn().Err(err).Str("session_id", session.LogID(id)).Msg("bridge: delete failed; retried")
			p.mu.Lock()
			p.gone = append(p.gone, gone[i:]...)
			p.mu.Unlock()
			break
		}
		delete(p.pushed, id)
		p.deleted.Add(1)
	}
	live := make(map[string]bool, len(p.pushed))
	for _, s := range p.delta.Sessions() {
		id := s.ID()
		live[id] = true
		at := s.LastAccessedAt().UnixNano()
		if last, ok := p.pushed[id]; ok && last == at {
			continue
		}
		if err := p.redis.Put(ctx, s.Snapshot()); err != nil {
			b.log.Warn().Err(err).Str("session_id", session.LogID(id)).Msg("bridge: copy failed; retried")
			continue
		}
		p.pushed[id] = at
	}
	for id := range p.pushed {
		if !live[id] {
			delete(p.pushed, id)
		}
	}
}

// Run copies the changed sessions every Interval until ctx ends.
func (b *Bridge) Run(ctx context.Context) error {
	t := time.NewTicker(b.cfg.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			for _, p := range b.pairs {
				b.copy(ctx, p)
			}
		}
	}
}

// Stats returns each context's counters.
func (b *Bridge) Stats() []BridgeStats {
	out := make([]BridgeStats, 0, len(b.pairs))
	for _, p := range b.pairs {
		out = append(out, p.stats())
	}
	return out
}

func (p *bridgePair) stats() BridgeStats {
	st := BridgeStats{Context: p.name}
	if p.delta != nil {
		st.Held = p.delta.Count()
	}
	rs := p.redis.Stats()
	st.Copied, st.Deleted, st.Failed = int(rs.Writes), int(p.deleted.Load()), int(rs.Failures)
	return st
}

// Stop leaves the cluster (no session is expired: the members keep
// theirs) and closes the Redis clients.
func (b *Bridge) Stop(ctx context.Context) error {
	var errs []error
	for _, p := range b.pairs {
		if p.delta != nil {
			errs = append(errs, p.delta.Stop(ctx))
		}
		errs = append(errs, p.redis.Stop(ctx))
	}
	errs = append(errs, b.clus.Stop(ctx))
	return errors.Join(errs...)
}
