package backupmgr

import (
	"sync/atomic"
	"time"
)

// counters are the manager's statistics, updated atomically.
type counters struct {
	sent, received                 [32]atomic.Uint64 // by Kind
	receivedBytes, replicatedBytes atomic.Uint64
	sendFailures, refused          atomic.Uint64

	created, rejected, expired, expiredBackups, renamed atomic.Uint64
	promoted, retrieved, retrieveFailures, lost         atomic.Uint64
	relocations                                         atomic.Uint64
	relocationNanos                                     atomic.Int64
}

func (m *Manager) count(k Kind, sent bool) {
	i := int(k) % len(m.stats.sent)
	if sent {
		m.stats.sent[i].Add(1)
	} else {
		m.stats.received[i].Add(1)
	}
}

// Stats is a snapshot of a manager's counters.
type Stats struct {
	Sessions        int             // values held here (primaries and backups)
	Primaries       int             // sessions this member is primary for
	Backups         int             // sessions this member holds a backup of
	Proxies         int             // sessions this member knows only the owners of
	Entries         int             // ids known (primary, backup or proxy)
	Peers           int             // other members running the context
	Sent            map[Kind]uint64 // messages sent, by kind (one per destination)
	Received        map[Kind]uint64 // messages received, by kind
	ReceivedBytes   uint64
	ReplicatedBytes uint64 // bytes of MSG_BACKUP sent (one count per backup)
	SendFailures    uint64

	Created          uint64 // sessions created here
	Rejected         uint64 // Create refused by MaxActiveSessions
	Expired          uint64 // primaries expired or invalidated here
	ExpiredBackups   uint64 // backups dropped after 2×MaxInactive without news
	Renamed          uint64 // ChangeID here
	Promoted         uint64 // times this member became a session's primary (failover, takeover)
	Retrieved        uint64 // values fetched from another member (MSG_RETRIEVE_BACKUP)
	RetrieveFailures uint64 // retrievals no holder answered in time
	Lost             uint64 // sessions whose every copy died (counted by one member)
	Relocations      uint64 // member departures relocated
	LastRelocation   time.Duration
}

// Stats returns the manager's counters.
func (m *Manager) Stats() Stats {
	m.mu.Lock()
	st := Stats{Entries: len(m.core.entries) + len(m.core.proxies.slots), Peers: len(m.core.peers)}
	st.Primaries, st.Backups, st.Proxies = m.core.roleCounts()
	m.mu.Unlock()
	c := &m.stats
	st.Sessions = m.store.Len()
	st.Sent, st.Received = map[Kind]uint64{}, map[Kind]uint64{}
	for _, k := range kinds {
		if v := c.sent[int(k)%len(c.sent)].Load(); v > 0 {
			st.Sent[k] = v
		}
		if v := c.received[int(k)%len(c.received)].Load(); v > 0 {
			st.Received[k] = v
		}
	}
	st.ReceivedBytes = c.receivedBytes.Load()
	st.ReplicatedBytes = c.replicatedBytes.Load()
	st.SendFailures = c.sendFailures.Load()
	st.Created = c.created.Load()
	st.Rejected = c.rejected.Load()
	st.Expired = c.expired.Load()
	st.ExpiredBackups = c.expiredBackups.Load()
	st.Renamed = c.renamed.Load()
	st.Promoted = c.promoted.Load()
	st.Retrieved = c.retrieved.Load()
	st.RetrieveFailures = c.retrieveFailures.Load()
	st.Lost = c.lost.Load()
	st.Relocations = c.relocations.Load()
	st.LastRelocation = time.Duration(c.relocationNanos.Load())
	return st
}
