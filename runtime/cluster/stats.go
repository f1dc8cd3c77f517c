package cluster

import (
	"encoding/hex"
	"sync/atomic"
	"time"

	"github.com/gomcat/gomcat/transport"
)

// MemberInfo describes one member for status pages and the CLI.
type MemberInfo struct {
	Name      string
	Addr      string // receiver "host:port"
	HTTPURL   string
	Domain    string
	UniqueID  string // 32 hex digits
	StartedAt time.Time
	Alive     time.Duration // as last heard, plus the time since
	State     string        // "live" or "suspect" (heartbeats lost, receiver answers)
}

// Members returns the members, oldest first.
func (c *Cluster) Members() []MemberInfo {
	v := c.view.Load()
	out := make([]MemberInfo, len(v.members))
	for i, r := range v.members {
		alive := r.m.Alive
		if !r.m.LastHeard.IsZero() {
			alive += time.Since(r.m.LastHeard)
		}
		st := "live"
		if r.suspect {
			st = "suspect"
		}
		out[i] = MemberInfo{
			Name: r.m.Name, Addr: r.addr, HTTPURL: r.m.HTTPURL, Domain: r.m.Domain,
			UniqueID: hex.EncodeToString(r.m.UniqueID[:]), StartedAt: time.UnixMilli(r.m.StartedAt),
			Alive: alive.Round(time.Millisecond), State: st,
		}
	}
	return out
}

// Stats are the cluster's counters since New; Members and Suspects are
// current values.
type Stats struct {
	// Membership events received.
	Added, Disappeared, Left, Replaced, Updated uint64
	Probes                                      uint64 // failure-detector probes made (each up to 3 TCP connects)
	ProbeFailures                               uint64
	NotAdded                                    uint64 // probes of heard members whose receiver did not answer
	Suspected                                   uint64 // verifications that found a silent member's receiver alive
	Removed                                     uint64 // members removed (any reason)
	Members                                     int    // current members, suspects included
	Suspects                                    int    // current suspects
	// UnknownChannel counts messages on a channel without a handler.
	UnknownChannel uint64
	// BadAnnounces counts malformed announce messages.
	BadAnnounces uint64
	// Unadmitted counts transport connections refused because their hello
	// matched no member within AdmitWait; RefusedMessages session and farm
	// messages refused because their sender was no longer a member.
	Unadmitted, RefusedMessages uint64
	// GoodbyesIgnored counts unsealed goodbyes of members whose receiver
	// kept answering and whose heartbeats went on (forged goodbyes).
	GoodbyesIgnored uint64
	// TakeoversRefused counts newer incarnations of a member's name, at
	// another address, ignored because the member's receiver answered.
	TakeoversRefused uint64
	// Channels lists per-channel counters, for channels with any traffic.
	Channels []ChannelStats
	// Peers are the transport sender's per-peer counters; Receiver its
	// receiver's counters.
	Peers    []transport.PeerStats
	Receiver transport.ReceiverStats
}

// ChannelStats are one channel's counters.
type ChannelStats struct {
	Channel       transport.Channel
	Sent          uint64 // sends that succeeded (queued, acked or processed as opts say)
	SendFailures  uint64 // sends that returned an error
	AsyncFailures uint64 // async messages lost after queueing (transport OnError)
	Received      uint64 // inbound messages
	DeliverErrors uint64 // inbound messages whose DeliverFunc failed
}

type channelCounters struct {
	sent, failures, asyncFailures, received, deliverErrors atomic.Uint64
}

type counters struct {
	added, disappeared, left, replaced, updated        atomic.Uint64
	probes, probeFailures, notAdded, suspects, removed atomic.Uint64
	unknownChannel, badAnnounces                       atomic.Uint64
	unadmitted, refusedMessages, goodbyesIgnored       atomic.Uint64
	takeoversRefused                                   atomic.Uint64
	channels                                           [256]channelCounters
}

// Stats returns the counters.
func (c *Cluster) Stats() Stats {
	s := Stats{
		Added: c.st.added.Load(), Disappeared: c.st.disappeared.Load(), Left: c.st.left.Load(),
		Replaced: c.st.replaced.Load(), Updated: c.st.updated.Load(),
		Probes: c.st.probes.Load(), ProbeFailures: c.st.probeFailures.Load(), NotAdded: c.st.notAdded.Load(),
		Suspected: c.st.suspects.Load(), Removed: c.st.removed.Load(),
		UnknownChannel: c.st.unknownChannel.Load(), BadAnnounces: c.st.badAnnounces.Load(),
		Unadmitted: c.st.unadmitted.Load(), RefusedMessages: c.st.refusedMessages.Load(),
		GoodbyesIgnored: c.st.goodbyesIgnored.Load(), TakeoversRefused: c.st.takeoversRefused.Load(),
	}
	v := c.view.Load()
	s.Members = len(v.members)
	for _, r := range v.members {
		if r.suspect {
			s.Suspects++
		}
	}
	for i := range c.st.channels {
		cc := &c.st.channels[i]
		cs := ChannelStats{Channel: transport.Channel(i), Sent: cc.sent.Load(), SendFailures: cc.failures.Load(),
			AsyncFailures: cc.asyncFailures.Load(), Received: cc.received.Load(), DeliverErrors: cc.deliverErrors.Load()}
		if cs.Sent+cs.SendFailures+cs.AsyncFailures+cs.Received > 0 {
			s.Channels = append(s.Channels, cs)
		}
	}
	c.mu.Lock()
	snd, rcv := c.sender, c.receiver
	c.mu.Unlock()
	if snd != nil {
		s.Peers = snd.Stats()
	}
	if rcv != nil {
		s.Receiver = rcv.Stats()
	}
	return s
}
