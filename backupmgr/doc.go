// Package backupmgr is Gomcat's BackupManager (server.xml: <Manager
// className="org.apache.catalina.ha.session.BackupManager"/> in the
// <Cluster> for every distributable context, or in one distributable
// <Context> for that context; runtime/node gives it cluster channel 4): a session.Manager for a
// distributable context where each session has one primary and
// Config.Backups backups (Tomcat's org.apache.catalina.ha.session.BackupManager
// has exactly one); the other members know only the owners (id → primary,
// backups), so memory and replication traffic per member stay flat as the
// cluster grows.
//
// Pure core (core.go): the map of entries and the members running the
// context. Inputs — a session created, a request completed (with or without
// changes), a map message, a member up (MSG_INIT/MSG_STATE) or down, a
// tick(now) — return effects (send to some members, replicate a value to
// its backups, drop or forget a value, promoted, lost) that the shell
// (manager.go) carries out. Backups are chosen round-robin over the peers;
// a member that leaves has its primaries promoted to their first live
// backup (every member computes the same guess; the new primary publishes
// the new roles with a higher Ver), its backups replaced, entries with no
// copy left forgotten and counted lost by one member (the first by name).
// A request for a session held elsewhere retrieves it (backups first),
// becomes primary and tells the previous holders before going on.
// Roles are ordered by Ver, values by (Ver, generation).
// The proxies (ids this member holds no value of: most of the map on
// more than a few members) are kept dense (dense.go): a 16-byte key from
// the id's hex digits, owners and route as indexes into interned names,
// no pointer per entry (84 instead of 222 heap bytes per proxy); each
// input takes the entries it changes out and settles them back.
//
// Wire (msg.go): CBOR with integer keys, versioned; kinds 1..13 keep
// Tomcat's MapMessage numbers. Decode bounds ids, owners and entries; the
// Router counts what does not decode (Refused). The cluster is deltamgr's
// Cluster contract (shared, not copied).
//
// Goroutines (a lifecycle.Runner): the sweeper (idle expiry, tick), one per
// relocation after a member left, one per inbound message whose effects
// wait for peers (Deliver, on the transport's goroutine, only sends async).
// Stop cancels and waits for them.
//
// Locks: Manager.mu guards the core and the retrieval bookkeeping; order
// Manager.mu, session.Store's, the session's. No send happens under mu;
// listeners run unlocked.
package backupmgr
