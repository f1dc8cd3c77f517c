// Package deltamgr is Gomcat's DeltaManager: a session.Manager for a
// distributable context that replicates every session to every member of
// the cluster, as Tomcat's org.apache.catalina.ha.session.DeltaManager does.
//
// Main types: Manager (one per distributable context, named
// "<host>#<path>", ROOT "localhost#") and Router (one per node; its Deliver
// is registered with the cluster on channel 1 and hands each inbound message
// to the Manager of the message's context). The cluster is seen only through
// the Cluster interface declared here (builtin types only).
//
// Wire: a Message is a CBOR map with integer keys, versioned (Version);
// kinds keep Tomcat's SessionMessage names and codes (append only). A
// request's changes travel as ONE message at the end of the request: a new
// session is announced by that same message (CREATED, or DELTA with New),
// never by two messages that could be reordered, and a DELTA for an unknown
// session creates it. A request that changed nothing sends nothing, except
// ACCESSED when the last request was served elsewhere or when the replicas
// would otherwise expire (at most once per MaxInactive/2).
//
// State transfer: Start asks the oldest Seniors() member (members that
// started before this one, so two nodes started together never wait on each
// other) for all sessions; the responder streams chunks of
// SendAllSessionsSize sessions (and at most SendAllSessionsBytes) with sync
// acks, three in flight, no pause, then TRANSFERCOMPLETE with the count once
// all were acked. Messages arriving meanwhile are queued and applied afterwards.
//
// Goroutines: Start starts the idle sweeper; each GET_ALL_SESSIONS answered
// runs on its own goroutine (plus an encoder and one per chunk in flight).
// Stop cancels and waits for all of them.
// Deliver runs on the caller's goroutine (the transport's).
//
// Locks: Manager.mu guards the bookkeeping (primary flags, aliases, the
// transfer queue); a per-session send mutex serialises one session's
// messages (RequestCompleted, ChangeID, Expire) so they leave in order.
// Order: send mutex, Manager.mu, session.Store's lock, the session's lock.
// Listeners run with no manager lock held.
package deltamgr
