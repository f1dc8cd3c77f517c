// Package session is Gomcat's HTTP session layer: Session (attributes stored
// as CBOR), ids with a jvmRoute suffix, the Manager interface with the
// single-node LocalManager (Tomcat StandardManager), the change log a
// replicated manager sends (Changes, Tomcat DeltaRequest), full-state
// Records for state transfer, and the net/http Middleware that finds the
// session from the JSESSIONID cookie or ";jsessionid=" and sets the cookie.
//
// Handlers use From(r) (existing session or nil) and Ensure(r) (create);
// values go in with Set and come out with Get or GetAs[T]. Values are
// encoded at Set, so an unencodable value fails there, and every node decodes
// the same bytes: what works on the node that wrote it works after failover.
// Unexported struct fields are not stored; pointers come back as values; ints
// come back from Get as int64, maps as map[string]any.
//
// Goroutines: LocalManager.Start starts one idle sweeper; LocalManager.Stop
// stops it and waits. Nothing else in the package starts goroutines;
// listeners run on the caller's goroutine.
//
// Concurrency contract: every Session method is safe for concurrent use
// under a per-session mutex held for one call only, so inside one node
// concurrent requests of a session interleave per call (no request-long
// lock). Across nodes the last writer wins per attribute: replication sends
// attribute-level changes, never whole sessions, except for state transfer.
//
// Lock order: Store (manager map) → Session → nothing. The middleware's
// per-request handle lock may be held while taking a Session lock or calling
// Manager.Create. No lock is held while listeners run.
//
// Logs never contain attribute values; session ids are logged as LogID
// hashes.
package session
