package redismgr

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// subscribe opens the subscription to this manager's invalidation channel
// and, outside a Redis Cluster, to the keyspace events of its session keys
// (a cluster's are per master: see shardWatch).
func (m *Manager) subscribe(ctx context.Context) *redis.PubSub {
	ps := m.rdb.Subscribe(ctx, m.channel())
	want := 1
	if !m.clustered() {
		if err := ps.PSubscribe(ctx, m.keyspacePattern()); err != nil {
			m.log.Warn().Err(err).Msg("keyspace subscription failed; it is retried on reconnect")
			return ps
		}
		want = 2
	}
	// Wait for the confirmations, so that only later (re)subscriptions
	// reach events (where a Sticky manager drops its near-cache).
	for n := 0; n < want; {
		msg, err := ps.Receive(ctx)
		if err != nil {
			m.log.Warn().Err(err).Msg("event subscription not confirmed; it is retried on reconnect")
			return ps
		}
		if _, ok := msg.(*redis.Subscription); ok {
			n++
		}
	}
	return ps
}

func (m *Manager) keyspacePattern() string {
	return "__keyspace@" + strconv.Itoa(m.db) + "__:" + m.Key("*")
}

// clustered reports whether the client speaks to a Redis Cluster.
func (m *Manager) clustered() bool {
	_, ok := m.rdb.(*redis.ClusterClient)
	return ok
}

// events reads ps until ctx ends: it drops near-cache entries other nodes
// changed, and ends sessions deleted, expired or renamed elsewhere (firing
// Destroyed for the ones cached here). go-redis reconnects with back-off
// and resubscribes; every resubscription of ps's events (the keyspace
// pattern; in a cluster also the invalidation channel) clears the
// near-cache of a Sticky manager, since events may have been missed
// meanwhile, and (unless NoConfigure) enables the keyspace notifications
// on server again (a restart loses CONFIG SET).
func (m *Manager) events(ctx context.Context, ps *redis.PubSub, server redis.Cmdable) {
	prefix := "__keyspace@" + strconv.Itoa(m.db) + "__:" + m.Key("")
	for {
		msg, err := ps.Receive(ctx)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			m.stats.subscriberErrors.Add(1)
			m.log.Debug().Err(err).Msg("event subscription interrupted; reconnecting")
			select {
			case <-ctx.Done():
				return
			case <-time.After(100 * time.Millisecond):
			}
			continue
		}
		switch msg := msg.(type) {
		case *redis.Subscription:
			if msg.Kind != "psubscribe" && !(msg.Kind == "subscribe" && m.clustered()) {
				continue
			}
			// A resubscription: the server may have restarted (CONFIG SET
			// does not survive that) or been unreachable at Start.
			if !m.cfg.NoConfigure && msg.Kind == "psubscribe" {
				cctx, cancel := context.WithTimeout(ctx, m.cfg.Timeout)
				m.configureNotifications(cctx, server)
				cancel()
			}
			if m.cfg.Sticky {
				m.invalidateAll()
			}
		case *redis.Message:
			m.stats.events.Add(1)
			if msg.Channel == m.channel() {
				m.invalidated(msg.Payload)
				continue
			}
			id, ok := strings.CutPrefix(msg.Channel, prefix)
			if !ok {
				continue
			}
			switch msg.Payload {
			case "del", "expired", "evicted", "rename_from":
				if s := m.cache.Get(id); s != nil {
					m.drop(s, true)
				}
			}
		}
	}
}

// shardRefresh is how often a cluster's masters are listed again, so a
// master added or promoted by a failover gets its keyspace subscription.
const shardRefresh = 2 * time.Second

// shardWatch keeps one keyspace-event subscription per master of a Redis
// Cluster: keyspace notifications are published only on the node that
// holds the key, so one subscription sees a third of the events of three
// masters. Its run goroutine (Start's) owns subs and one events goroutine
// per subscription.
type shardWatch struct {
	m    *Manager
	cc   *redis.ClusterClient
	subs map[string]*shardSub // by master host:port
}

type shardSub struct {
	ps     *redis.PubSub
	cancel context.CancelFunc
	done   chan struct{}
}

// run subscribes every master now and again every shardRefresh until ctx
// ends, then closes every subscription and waits for its goroutine.
func (w *shardWatch) run(ctx context.Context) {
	defer func() {
		for addr, s := range w.subs {
			s.stop()
			delete(w.subs, addr)
		}
	}()
	t := time.NewTicker(shardRefresh)
	defer t.Stop()
	for {
		sctx, cancel := context.WithTimeout(ctx, w.m.cfg.Timeout)
		err := w.sync(sctx, ctx)
		cancel()
		if err != nil && ctx.Err() == nil {
			w.m.stats.subscriberErrors.Add(1)
			w.m.log.Debug().Err(err).Msg("cannot list the cluster's masters; retrying")
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// sync lists the masters (bounded by ctx) and starts a subscription, with
// the lifetime life, for each new one and stops those of former masters.
func (w *shardWatch) sync(ctx, life context.Context) error {
	var mu sync.Mutex
	masters := map[string]*redis.Client{}
	err := w.cc.ForEachMaster(ctx, func(_ context.Context, c *redis.Client) error {
		mu.Lock()
		masters[c.Options().Addr] = c
		mu.Unlock()
		return nil
	})
	if err != nil {
		return err
	}
	for addr, c := range masters {
		if w.subs[addr] != nil {
			continue
		}
		sctx, cancel := context.WithCancel(life)
		s := &shardSub{ps: c.PSubscribe(sctx, w.m.keyspacePattern()), cancel: cancel, done: make(chan struct{})}
		go func() {
			defer close(s.done)
			w.m.events(sctx, s.ps, c)
		}()
		w.subs[addr] = s
		w.m.log.Debug().Str("master", addr).Msg("keyspace events subscribed")
	}
	for addr, s := range w.subs {
		if masters[addr] == nil {
			s.stop()
			delete(w.subs, addr)
		}
	}
	return nil
}

func (s *shardSub) stop() {
	s.cancel()
	_ = s.ps.Close()
	<-s.done
}

// invalidated handles "<version> <id>" from a writer: a cached copy older
// than version is reloaded on its next request.
func (m *Manager) invalidated(payload string) {
	v, id, ok := strings.Cut(payload, " ")
	if !ok {
		return
	}
	ver, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return
	}
	s := m.cache.Get(id)
	if s == nil {
		return
	}
	mt := noteOf(s)
	for {
		cur := mt.loadVersion()
		if cur < 0 || cur >= ver || mt.casVersion(cur, -1) {
			return
		}
	}
}

func (m *Manager) invalidateAll() {
	for _, s := range m.cache.Sessions() {
		mt := noteOf(s)
		if mt.isStored() {
			mt.storeVersion(-1)
		}
	}
}
