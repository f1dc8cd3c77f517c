package redismgr

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// subscribe opens the subscription to this manager's invalidation channel
// and to the keyspace events of its session keys.
func (m *Manager) subscribe(ctx context.Context) *redis.PubSub {
	ps := m.rdb.Subscribe(ctx, m.channel())
	if err := ps.PSubscribe(ctx, m.keyspacePattern()); err != nil {
		m.log.Warn().Err(err).Msg("keyspace subscription failed; it is retried on reconnect")
		return ps
	}
	// Wait for both confirmations, so that only later (re)subscriptions
	// reach events (where a Sticky manager drops its near-cache).
	for n := 0; n < 2; {
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

// events is the subscriber goroutine: it drops near-cache entries other
// nodes changed, and ends sessions deleted, expired or renamed elsewhere
// (firing Destroyed for the ones cached here). go-redis reconnects with
// back-off and resubscribes; every (re)subscription clears the near-cache
// of a Sticky manager, since events may have been missed meanwhile, and
// (unless NoConfigure) enables the keyspace notifications again.
func (m *Manager) events(ctx context.Context, ps *redis.PubSub) {
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
			if msg.Kind != "psubscribe" {
				continue
			}
			// A resubscription: the server may have restarted (CONFIG SET
			// does not survive that) or been unreachable at Start.
			if !m.cfg.NoConfigure {
				cctx, cancel := context.WithTimeout(ctx, m.cfg.Timeout)
				m.configureNotifications(cctx)
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
