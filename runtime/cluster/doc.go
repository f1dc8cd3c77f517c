// Package cluster is Gomcat's SimpleTcpCluster: it composes a membership
// (mcast.Service, or mcast.Static) with the transport's Receiver and Sender,
// confirms membership changes with TCP probes (Tomcat's TcpFailureDetector),
// and gives consumers one Port per channel (transport.ChannelSessions for
// deltamgr, ChannelFarm for farmdeploy) that satisfies the Cluster interfaces
// those packages declare. Inbound messages are routed by the envelope's
// channel to the DeliverFunc registered with Handle.
//
// Types: Cluster (New, Handle, Start, Port, Members, Subscribe, Stats,
// SetHTTPURL, Stop), Port (Self, Members, Seniors, Subscribe, Send,
// Broadcast), MemberEvent (joined, left, replaced: what the detector
// confirmed; events.go states the callback contract), Config,
// MembershipConfig (Multicast, Static). Start order is Tomcat's:
// receiver, sender, membership, then EstablishWait (Tomcat's sleep) or, by
// default, the fast join (awaitJoin: the membership's Joined — Service's
// solicit answered, Static's first discovery and probe round — then every
// member heard probed and, static, named); Stop says goodbye, then runs it
// backwards.
//
// Failure detector (detector.go; a probe is up to 3 TCP connects of
// ConnectTimeout, a refusal ends it): Added → probe the receiver → member
// ("Replication member added: …"), or not added and re-probed every
// RecheckInterval while heartbeats continue; Disappeared → "Will verify." →
// probe: answers → suspect (kept, re-probed, removed after SuspectTimeout
// unless heartbeats resume), silent → removed ("Replication member
// disappeared: …", and its sender connection closed); Left → removed at once;
// Replaced → old removed and new added at once. Each name gets a new
// generation whenever it becomes a member, so a send in flight to a member
// that left fails with ErrNoSuchMember.
// Static membership learns peers' names and start times from the cluster's
// announce message on ChannelProbe (announce.go), and hears a stopping
// member's goodbye there (mcast.Static.Leave → Left). A discovered static
// membership (mcast.StaticConfig.Discover: DNS, Kubernetes) needs a
// cluster key: it probes with transport.Greet, so only receivers proving
// the key are members.
//
// Goroutines: the event loop (owns the member table; consumes membership
// events, probe results, send-failure nudges and a RecheckInterval ticker;
// publishes an immutable view that Ports read lock-free, then calls the
// subscribers) and one short-lived goroutine per probe or keep-alive ping,
// all owned by a lifecycle.Runner: Start starts them; Stop cancels them and
// waits. The membership and transport run their own; Stop stops them.
//
// Locks: Cluster.mu (Start, Stop, Local, Stats) is never taken by the event
// loop or the Ports; subscribers.mu (held publishing a view and calling
// the subscribers) and idMu (static peers' announced ids) are leaves. No
// lock is held while calling a DeliverFunc or a Send.
package cluster
