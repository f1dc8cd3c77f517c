package redismgr

import "sync/atomic"

type counters struct {
	created, expired, renamed             atomic.Uint64
	roundTrips, loads, validated, writes  atomic.Uint64
	nearHits, failures, badHashes, events atomic.Uint64
	subscriberErrors, configRefused       atomic.Uint64
}

// Stats is a snapshot of a manager's counters.
type Stats struct {
	Cached     int    // sessions in the near-cache now
	Created    uint64 // sessions created on this node
	Expired    uint64 // sessions ended here: invalidated, or gone from Redis
	Renamed    uint64 // id changes
	RoundTrips uint64 // Redis commands or scripts sent for sessions
	Loads      uint64 // full reads (HGETALL) of a session
	Validated  uint64 // version checks that kept the cached copy
	NearHits   uint64 // reads served by the near-cache with no round trip
	Writes     uint64 // request-end (or immediate) writes
	Failures   uint64 // operations that failed or timed out (503s)
	BadHashes  uint64 // stored sessions that did not decode (ignored)
	Events     uint64 // invalidations and keyspace events received
	// SubscriberErrors counts interruptions of the event subscription.
	SubscriberErrors uint64
	// ConfigRefused counts refused CONFIG GET/SET notify-keyspace-events.
	ConfigRefused uint64
}

// Stats returns the counters.
func (m *Manager) Stats() Stats {
	c := &m.stats
	return Stats{
		Cached: m.cache.Len(), Created: c.created.Load(), Expired: c.expired.Load(),
		Renamed: c.renamed.Load(), RoundTrips: c.roundTrips.Load(), Loads: c.loads.Load(),
		Validated: c.validated.Load(), NearHits: c.nearHits.Load(), Writes: c.writes.Load(),
		Failures: c.failures.Load(), BadHashes: c.badHashes.Load(), Events: c.events.Load(),
		SubscriberErrors: c.subscriberErrors.Load(), ConfigRefused: c.configRefused.Load(),
	}
}
