// Package mcast is Gomcat's cluster membership, after Tomcat's McastService:
// each node multicasts a heartbeat every Frequency; a member silent for
// DropTime is Disappeared, one that announces its stop (command BABY-ALEX)
// Left at once, and a restart (same Name or receiver host:port, new
// UniqueID) Replaced at once. Identity = host + port + UniqueID.
//
// Types: Service (member: sends and listens), Observer (listens only; for
// `gomcat members` and the balancer; also lists foreign members), Static
// (fixed list, TCP probe liveness); all implement Membership. Probe is the
// TCP check runtime/cluster uses to confirm suspects (TcpFailureDetector).
//
// Wire (wire.go, payload.go): Tribes' packet, TRIBES-B … TRIBES-E, big-endian,
// byte for byte (77 bytes for IPv4 with empty command/domain/payload), so a
// Tomcat on the same group parses us and we parse it. Gomcat's fields travel
// in the payload as "GOMCAT" + format byte + CBOR map (integer keys, append
// only). A heartbeat without that payload is a foreign member: logged once,
// listed by Observer.Members and Service.Foreign, never an event. With
// a key the datagram is "GMSEAL\x02" ‖ sender unique id ‖ seal output (AD:
// those 23 bytes; the id must match the heartbeat's); all else is dropped and
// counted (Stats.Rejected, OldFormat). Addresses come from the heartbeat.
//
// Fast join (join.go): a Service's first heartbeat carries FlagSolicit;
// every member that accepts it answers at once (FlagAnswer, with the count
// of members it knows; at most one answer per solicitGap, solicits heard
// meanwhile share it; Stats.Solicits, Answers), and Joined is closed when
// this node knows as many members as the largest answer, after JoinQuiet
// with no answer, or at JoinTimeout. Foreign (Tomcat) members ignore the
// flags: the solicit is an ordinary heartbeat to them.
//
// Goroutines (Service/Observer): a receive loop (Frequency read deadline;
// after RecoveryCounter consecutive errors it closes, sleeps RecoverySleep
// and reopens, or with RecoveryDisabled logs an error and ends) and a tick
// loop (heartbeat every Frequency, on Update and in answer to solicits;
// expiry), and while joining the join loop (resends the solicit, ends the
// join at JoinQuiet or JoinTimeout). Static: one probe
// loop. Start starts them; Stop cancels, closes the socket, waits, then
// closes Events. Locks: Service.mu (or Static.mu) before emitter.mu;
// Service.connMu is never held with mu.
//
// Events never block: the channel holds EventBuffer events and drops the
// oldest when full (Stats.EventsDropped); a lagging consumer reconciles with
// Members(). runtime/cluster must treat Added of a known member as a no-op
// (after a Disappeared it may have kept as a suspect).
//
// Logging: membership changes at DEBUG only ("member added"); runtime/cluster
// logs Tomcat's INFO lines ("Replication member added: …") after its failure
// detector. mcast logs at INFO its start/stop, foreign members (once per id)
// and Tomcat's "Sleeping for N milliseconds to establish cluster
// membership"; at ERROR a socket given up on (RecoveryDisabled).
package mcast
