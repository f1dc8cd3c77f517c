package mcast

import "sync/atomic"

// Stats are counters since New. Every field only grows except the member counts.
type Stats struct {
	Sent           uint64 // datagrams sent
	Received       uint64 // datagrams read from the group socket (incl. our own)
	DecodeErrors   uint64 // malformed heartbeats or Gomcat payloads
	Rejected       uint64 // sealing: unsealed, wrong key, stale, replayed or old format
	OldFormat      uint64 // of which: sealed in format 1 (a gomcat before key ids)
	Foreign        uint64 // heartbeats from foreign (Tomcat) members
	OtherDomain    uint64 // heartbeats of another domain, ignored
	Misdirected    uint64 // datagrams for another group or interface, ignored
	Conflicts      uint64 // our name/address used by another, or a superseded incarnation
	SendErrors     uint64
	ReceiveErrors  uint64
	Recoveries     uint64 // socket restarts after RecoveryCounter consecutive errors
	GaveUp         bool   // RecoveryDisabled: the socket failed and multicasting stopped
	EventsDropped  uint64 // oldest events discarded because Events() was not drained
	Members        int    // live Gomcat members, excluding self
	ForeignMembers int    // live foreign members
	Probes         uint64 // Static only: TCP probes made
	ProbeFailures  uint64 // Static only: probes that failed
	Capped         uint64 // heartbeats of new members ignored: MaxMembers reached
	// TakeoversRefused counts probes that found alive the member whose
	// name a newer incarnation at another address claimed.
	TakeoversRefused uint64
	// Solicits counts solicits heard from starting members; Answers the
	// heartbeats sent in answer (solicits heard within solicitGap of an
	// answer share the next one, so Answers ≤ Solicits).
	Solicits, Answers uint64
	// Discoveries counts Static's Discover calls, DiscoveryFailures those
	// that failed (the member list was kept).
	Discoveries, DiscoveryFailures uint64
}

type counters struct {
	sent, received, decodeErrors, rejected, foreign, otherDomain, misdirected,
	conflicts, sendErrors, receiveErrors, recoveries, probes, probeFailures, oldFormat atomic.Uint64
	capped, takeoversRefused       atomic.Uint64
	solicits, answers              atomic.Uint64
	discoveries, discoveryFailures atomic.Uint64
	gaveUp                         atomic.Bool
}

func (c *counters) snapshot() Stats {
	return Stats{
		Sent: c.sent.Load(), Received: c.received.Load(), DecodeErrors: c.decodeErrors.Load(),
		Rejected: c.rejected.Load(), OldFormat: c.oldFormat.Load(), Foreign: c.foreign.Load(), OtherDomain: c.otherDomain.Load(),
		Misdirected: c.misdirected.Load(), Conflicts: c.conflicts.Load(), SendErrors: c.sendErrors.Load(),
		ReceiveErrors: c.receiveErrors.Load(), Recoveries: c.recoveries.Load(),
		Probes: c.probes.Load(), ProbeFailures: c.probeFailures.Load(), GaveUp: c.gaveUp.Load(),
		Capped: c.capped.Load(), TakeoversRefused: c.takeoversRefused.Load(),
		Solicits: c.solicits.Load(), Answers: c.answers.Load(),
		Discoveries: c.discoveries.Load(), DiscoveryFailures: c.discoveryFailures.Load(),
	}
}
