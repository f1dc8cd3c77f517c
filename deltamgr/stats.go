package deltamgr

import (
	"sync/atomic"
	"time"
)

// counters are the manager's statistics, updated atomically.
type counters struct {
	sent, received [32]atomic.Uint64 // by Kind
	receivedBytes  atomic.Uint64
	sendFailures   atomic.Uint64

	created, rejected, expired, expiredBackups, renamed atomic.Uint64
	deltasApplied, replicasCreated, unknownDeltas       atomic.Uint64
	unknownSession                                      atomic.Uint64

	queueDrops, staleDropped, staleChunks, badRecords atomic.Uint64
	sessionsReceived, sessionsReplaced                atomic.Uint64
	transfersCompleted, transfersFailed               atomic.Uint64
	transferSessions, transferNanos                   atomic.Uint64
	transfersServed, transfersAborted, sessionsSent   atomic.Uint64
	refused                                           [nRules]atomic.Uint64
}

// Stats is a snapshot of a manager's counters (Tomcat's DeltaManager JMX
// counters, plus what Gomcat adds).
type Stats struct {
	Sessions      int             // held now, replicas included
	Sent          map[Kind]uint64 // messages sent, by kind
	Received      map[Kind]uint64 // messages received, by kind
	ReceivedBytes uint64
	SendFailures  uint64 // sends or broadcasts that returned an error

	Created        uint64 // sessions created here
	Rejected       uint64 // Create refused by MaxActiveSessions
	Expired        uint64 // sessions removed (invalidated, idle, by a peer, shutdown)
	ExpiredBackups uint64 // replicas expired by the 2×MaxInactive guard
	Renamed        uint64 // id changes, local and replicated

	DeltasApplied        uint64 // DELTA messages applied
	ReplicasCreated      uint64 // sessions created by a peer's CREATED or DELTA
	UnknownSessionDeltas uint64 // DELTA (not New) for a session not held: it was created
	UnknownSession       uint64 // ACCESSED/EXPIRED/CHANGE_SESSION_ID for a session not held, or for an expired id

	QueueDrops   uint64 // messages dropped because the transfer queue was full
	StaleDropped uint64 // queued messages older than the snapshot, dropped (StateTimestampDrop)
	StaleChunks  uint64 // transfer replies of a transfer no longer waited for
	BadRecords   uint64 // session records in a chunk that did not decode

	SessionsReceived   uint64        // sessions installed by state transfer
	SessionsReplaced   uint64        // of which replaced a session already held
	TransfersCompleted uint64        // state transfers completed (as requester)
	TransfersFailed    uint64        // timed out, no senior left, cancelled
	TransferSessions   uint64        // sessions in the last completed transfer
	TransferDuration   time.Duration // duration of the last completed transfer
	TransfersServed    uint64        // GET_ALL_SESSIONS answered completely
	TransfersAborted   uint64        // answers aborted by a send failure
	SessionsSent       uint64        // sessions sent by completed answers

	// Refused counts what the sender rules refused (or, for
	// "max_inactive_capped", capped), by rule: "get_all_from_older_member",
	// "get_all_from_non_member", "principal_not_replicated",
	// "bad_session_id", "unknown_route", "max_inactive_capped".
	Refused map[string]uint64
}

// Stats returns the counters. Safe for concurrent use.
func (m *Manager) Stats() Stats {
	c := &m.stats
	st := Stats{
		Sessions:             m.store.Len(),
		Sent:                 make(map[Kind]uint64),
		Received:             make(map[Kind]uint64),
		ReceivedBytes:        c.receivedBytes.Load(),
		SendFailures:         c.sendFailures.Load(),
		Created:              c.created.Load(),
		Rejected:             c.rejected.Load(),
		Expired:              c.expired.Load(),
		ExpiredBackups:       c.expiredBackups.Load(),
		Renamed:              c.renamed.Load(),
		DeltasApplied:        c.deltasApplied.Load(),
		ReplicasCreated:      c.replicasCreated.Load(),
		UnknownSessionDeltas: c.unknownDeltas.Load(),
		UnknownSession:       c.unknownSession.Load(),
		QueueDrops:           c.queueDrops.Load(),
		StaleDropped:         c.staleDropped.Load(),
		StaleChunks:          c.staleChunks.Load(),
		BadRecords:           c.badRecords.Load(),
		SessionsReceived:     c.sessionsReceived.Load(),
		SessionsReplaced:     c.sessionsReplaced.Load(),
		TransfersCompleted:   c.transfersCompleted.Load(),
		TransfersFailed:      c.transfersFailed.Load(),
		TransferSessions:     c.transferSessions.Load(),
		TransferDuration:     time.Duration(c.transferNanos.Load()),
		TransfersServed:      c.transfersServed.Load(),
		TransfersAborted:     c.transfersAborted.Load(),
		SessionsSent:         c.sessionsSent.Load(),
	}
	for r := range nRules {
		if n := c.refused[r].Load(); n > 0 {
			if st.Refused == nil {
				st.Refused = make(map[string]uint64)
			}
			st.Refused[ruleNames[r]] = n
		}
	}
	for _, k := range kinds {
		if n := c.sent[k].Load(); n > 0 {
			st.Sent[k] = n
		}
		if n := c.received[k].Load(); n > 0 {
			st.Received[k] = n
		}
	}
	return st
}
