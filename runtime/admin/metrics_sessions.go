package admin

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/gomcat/gomcat/backupmgr"
	"github.com/gomcat/gomcat/deltamgr"
	"github.com/gomcat/gomcat/redismgr"
	"github.com/gomcat/gomcat/runtime/session"
)

// The statistics a session manager may offer.
type (
	deltaStats  interface{ Stats() deltamgr.Stats }
	backupStats interface{ Stats() backupmgr.Stats }
	localStats  interface{ Stats() session.Stats }
	redisStats  interface{ Stats() redismgr.Stats }
)

// emitKinds exports one counter per message kind.
func emitKinds[K interface {
	comparable
	String() string
}](e emitter, d *prometheus.Desc, byKind map[K]uint64, host, path string) {
	for k, n := range byKind {
		e.counter(d, n, host, path, kindLabel(k.String()))
	}
}

// SessionsCollector exports, per context, session counts, for a
// DeltaManager replication and state-transfer counters, for a
// BackupManager sessions by role, replication, relocations and lost
// sessions.
func SessionsCollector(contexts func() []Context) prometheus.Collector {
	m := &metricSet{}
	l := []string{"host", "context"}
	active := m.desc(ns+"_sessions_active", "Sessions held now (replicas included).", l...)
	created := m.desc(ns+"_sessions_created_total", "Sessions created on this node.", l...)
	expired := m.desc(ns+"_sessions_expired_total", "Sessions removed: invalidated, timed out, expired by a member.", l...)
	rejected := m.desc(ns+"_sessions_rejected_total", "Session creations refused by maxActiveSessions.", l...)
	sent := m.desc(ns+"_replication_messages_sent_total", "Session replication messages sent, by kind (session_delta, session_expired, …).", "host", "context", "kind")
	recv := m.desc(ns+"_replication_messages_received_total", "Session replication messages received, by kind.", "host", "context", "kind")
	recvBytes := m.desc(ns+"_replication_received_bytes_total", "Bytes of session replication messages received.", l...)
	failures := m.desc(ns+"_replication_failures_total", "Replication sends or broadcasts that failed.", l...)
	applied := m.desc(ns+"_replication_deltas_applied_total", "Session deltas applied from members.", l...)
	xfers := m.desc(ns+"_state_transfers_total", "State transfers this node asked for, by result.", "host", "context", "result")
	xferDur := m.desc(ns+"_state_transfer_duration_seconds", "Duration of the last completed state transfer.", l...)
	xferSess := m.desc(ns+"_state_transfer_sessions", "Sessions in the last completed state transfer.", l...)
	xferRecv := m.desc(ns+"_state_transfer_sessions_received_total", "Sessions installed by state transfers.", l...)
	xferChunks := m.desc(ns+"_state_transfer_chunks_received_total", "State-transfer chunks (ALL-SESSION-DATA) received.", l...)
	served := m.desc(ns+"_state_transfers_served_total", "State transfers answered for joining members.", l...)
	storeOps := m.desc(ns+"_session_store_operations_total", "Redis session store operations, by kind (round_trip, load, validated, near_hit, write).", "host", "context", "kind")
	storeFail := m.desc(ns+"_session_store_problems_total", "Redis session store problems, by kind (operation: failed or timed out, answered 503; subscriber: event subscription interrupted; config_refused: CONFIG of notify-keyspace-events refused; bad_hash: a stored session that did not decode).", "host", "context", "kind")
	storeEvents := m.desc(ns+"_session_store_events_total", "Invalidations and keyspace events received from Redis.", l...)
	roles := m.desc(ns+"_sessions_role", "BackupManager: sessions this node is primary or backup for, or knows only the owners of (proxy).", "host", "context", "role")
	lost := m.desc(ns+"_sessions_lost_total", "BackupManager: sessions whose primary and every backup died (counted by one member).", l...)
	promoted := m.desc(ns+"_sessions_promoted_total", "BackupManager: times this node became a session's primary (failover, request takeover).", l...)
	retrieved := m.desc(ns+"_sessions_retrieved_total", "BackupManager: sessions fetched from the member holding them, by result.", "host", "context", "result")
	backupBytes := m.desc(ns+"_replication_backup_bytes_total", "BackupManager: bytes of session values sent to backups (one count per backup).", l...)
	relocations := m.desc(ns+"_session_relocations_total", "BackupManager: member departures whose sessions were relocated.", l...)
	relocationDur := m.desc(ns+"_session_relocation_duration_seconds", "BackupManager: duration of the last relocation.", l...)
	m.collect = func(e emitter) {
		for _, c := range contexts() {
			lv := []string{c.Host, c.Path}
			switch mg := c.Manager.(type) {
			case deltaStats:
				st := mg.Stats()
				e.gauge(active, float64(st.Sessions), lv...)
				e.counter(created, st.Created, lv...)
				e.counter(expired, st.Expired, lv...)
				e.counter(rejected, st.Rejected, lv...)
				emitKinds(e, sent, st.Sent, c.Host, c.Path)
				emitKinds(e, recv, st.Received, c.Host, c.Path)
				e.counter(recvBytes, st.ReceivedBytes, lv...)
				e.counter(failures, st.SendFailures, lv...)
				e.counter(applied, st.DeltasApplied, lv...)
				e.counter(xfers, st.TransfersCompleted, c.Host, c.Path, "completed")
				e.counter(xfers, st.TransfersFailed, c.Host, c.Path, "failed")
				e.gauge(xferDur, st.TransferDuration.Seconds(), lv...)
				e.gauge(xferSess, float64(st.TransferSessions), lv...)
				e.counter(xferRecv, st.SessionsReceived, lv...)
				e.counter(xferChunks, st.Received[deltamgr.KindAllSessionData], lv...)
				e.counter(served, st.TransfersServed, lv...)
			case redisStats:
				st := mg.Stats()
				e.gauge(active, float64(st.Cached), lv...)
				e.counter(created, st.Created, lv...)
				e.counter(expired, st.Expired, lv...)
				for _, k := range []struct {
					kind string
					n    uint64
				}{{"round_trip", st.RoundTrips}, {"load", st.Loads}, {"validated", st.Validated}, {"near_hit", st.NearHits}, {"write", st.Writes}} {
					e.counter(storeOps, k.n, c.Host, c.Path, k.kind)
				}
				for _, k := range []struct {
					kind string
					n    uint64
				}{{"operation", st.Failures}, {"subscriber", st.SubscriberErrors}, {"config_refused", st.ConfigRefused}, {"bad_hash", st.BadHashes}} {
					e.counter(storeFail, k.n, c.Host, c.Path, k.kind)
				}
				e.counter(storeEvents, st.Events, lv...)
			case backupStats:
				st := mg.Stats()
				e.gauge(active, float64(st.Sessions), lv...)
				e.gauge(roles, float64(st.Primaries), c.Host, c.Path, "primary")
				e.gauge(roles, float64(st.Backups), c.Host, c.Path, "backup")
				e.gauge(roles, float64(st.Proxies), c.Host, c.Path, "proxy")
				e.counter(created, st.Created, lv...)
				e.counter(expired, st.Expired, lv...)
				e.counter(rejected, st.Rejected, lv...)
				emitKinds(e, sent, st.Sent, c.Host, c.Path)
				emitKinds(e, recv, st.Received, c.Host, c.Path)
				e.counter(recvBytes, st.ReceivedBytes, lv...)
				e.counter(failures, st.SendFailures, lv...)
				e.counter(backupBytes, st.ReplicatedBytes, lv...)
				e.counter(lost, st.Lost, lv...)
				e.counter(promoted, st.Promoted, lv...)
				e.counter(retrieved, st.Retrieved, c.Host, c.Path, "ok")
				e.counter(retrieved, st.RetrieveFailures, c.Host, c.Path, "failed")
				e.counter(relocations, st.Relocations, lv...)
				e.gauge(relocationDur, st.LastRelocation.Seconds(), lv...)
			case localStats:
				st := mg.Stats()
				e.gauge(active, float64(st.Active), lv...)
				e.counter(created, uint64(st.Created), lv...)
				e.counter(expired, uint64(st.Expired), lv...)
				e.counter(rejected, uint64(st.Rejected), lv...)
			case session.Manager:
				e.gauge(active, float64(mg.Count()), lv...)
			}
		}
	}
	return m
}
