// Package redismgr is a session.Manager that keeps a context's sessions in
// Redis or Valkey (like Spring Session or Redisson's Tomcat manager), for
// fleets that outgrow in-memory replication: autoscaling, many nodes,
// non-sticky balancers, deploys that replace every node at once. The app
// keeps the same session API, cookies and routes; only <Manager> changes.
//
// Client: github.com/redis/go-redis/v9, the Redis project's own client. It
// speaks to standalone servers, Sentinel (following failovers) and Cluster
// through one UniversalClient, retries with back-off, reconnects and
// resubscribes pub/sub by itself, and works with Valkey unchanged.
// valkey-go's strength, server-assisted client-side caching, is not needed:
// the near-cache below is validated by a version field in the same round
// trip as the TTL touch.
//
// Storage (one hash per session, Spring Session's field names):
//
//	<prefix>:sessions:<id>  creationTime lastAccessedTime (unix ms)
//	                        maxInactiveInterval (s) version principal authType
//	                        sessionAttr:<name> = the attribute's CBOR bytes
//
// The key's TTL is maxInactive × (1+TouchFraction); a read refreshes it
// (and lastAccessedTime) only when the last refresh is older than
// TouchFraction × maxInactive. A write is one Lua script per request: the
// changed fields (or, WriteWhole, the whole session), version+1, the TTL
// and an invalidation published on <prefix>:invalidations, all or nothing,
// and never onto a session deleted meanwhile (no resurrection). RenewID is
// RENAMENX (on a Redis Cluster DUMP, RESTORE and DEL: the two ids are in
// different slots), invalidate is DEL. Put stores a whole record from another
// manager (the migration bridge from DeltaManager) through the same script.
//
// Reads: every node keeps the sessions it served in a near-cache. Without
// Sticky each request validates its cached copy in one round trip (a
// script returns just the version when it is unchanged, else the hash), so
// a request on any node never sees stale data. With Sticky the cached copy
// is trusted within the touch window (0 round trips) and dropped when
// another node's invalidation or a keyspace event arrives.
//
// Events: the manager subscribes to its invalidation channel and to the
// keyspace events of its keys (enabling notify-keyspace-events Kgxe with
// CONFIG SET unless NoConfigure): del, expired, evicted and rename_from end
// the cached session here and fire Destroyed. A Redis Cluster publishes a
// key's events only on its master, so there shardWatch keeps one
// subscription (and the CONFIG SET) per master, listing them again every
// two seconds (a failover's promoted replica is subscribed then); the
// invalidation channel is cluster-wide.
//
// Failures: every operation is bounded by Timeout; Load fails with
// ErrUnavailable (session.Loader: the middleware answers 503), a failed
// write is a 503 too (runtime/host holds the response until the write
// returned) and leaves nothing in Redis. Failures are counted (Stats) and
// logged with hashed ids. Start does not fail on an unreachable server
// (requests answer 503 until it answers), only on one that refuses the
// client (password, ACL).
//
// Goroutines: Start runs the event subscriber and the near-cache sweeper
// (on a cluster also shardWatch, which owns one subscriber per master);
// Stop closes the subscription, stops both and waits, then closes the
// client. Lock order: meta.mu (one write per session at a time on this
// node) → session.Store → Session; nothing is held across a listener
// except meta.mu in FlushImmediate's attribute hooks.
package redismgr
