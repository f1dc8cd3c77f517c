// Package deltamgr is Gomcat's DeltaManager: a session.Manager for a
// distributable context that replicates every session to every member of
// the cluster, as Tomcat's org.apache.catalina.ha.session.DeltaManager does.
//
// Main types: Manager (one per distributable context, named
// "<host>#<path>", ROOT "localhost#") and Router (one per node; its Deliver
// on channel 1 hands each message to its context's Manager). The cluster
// is seen only through the Cluster interface here (builtin types only).
//
// Wire: a Message is a CBOR map with integer keys, versioned (Version);
// kinds keep Tomcat's SessionMessage names and codes (append only). A
// request's changes travel as ONE message at the end of the request: a new
// session is announced by that same message (CREATED, or DELTA with New),
// never by two messages that could be reordered, and a DELTA for an unknown
// session creates it. A request that changed nothing sends nothing, except
// ACCESSED when the last request was served elsewhere or when the replicas
// would otherwise expire (at most once per MaxInactive/2): outbound().
//
// State transfer: Start asks the oldest Seniors() member for all sessions;
// fetch.go is the asking side as a pure state machine (next senior, stale
// replies, per-senior StateTransferSeniorTimeout within the total
// StateTransferTimeout; table-tested), transferState its shell; a target
// leaving is learnt from Cluster.Subscribe, not polled. The responder's
// serve.go (pure: window of three sync-acked chunks, overdue acks, then
// TRANSFERCOMPLETE or abort) is driven by sendAllSessions. Messages
// arriving meanwhile are queued.
// Sender rules (guard.go): GET_ALL only for a younger member, no principal
// unless ReplicatePrincipal, ids checked, MaxInactive capped; refusals are
// counted (Stats.Refused) and logged rate-limited.
//
// Goroutines (owned by a lifecycle.Runner): the idle sweeper; per GET_ALL
// answered, one running serve plus one per chunk in flight. Stop cancels
// and waits for them within its ctx. Deliver runs on the transport's
// goroutine, the Subscribe callback on the cluster's (it never blocks).
//
// Locks: Manager.mu guards the bookkeeping (primary flags, aliases, the
// queues, fetch); a per-session send mutex keeps one session's messages
// (RequestCompleted, ChangeID, Expire) in order. Order: send mutex,
// Manager.mu, session.Store's, the session's. Listeners run unlocked.
package deltamgr
