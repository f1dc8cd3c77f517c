package admin

import (
	"time"

	"github.com/gomcat/gomcat/runtime/session"
)

// Source is what the server shows. runtime/node implements it. Every
// method must be safe for concurrent use and must not block on I/O.
type Source interface {
	// Ready returns nil when the node serves traffic (connectors open,
	// state transfer done, not draining), else why not.
	Ready() error
	// Status returns the status page's content (without Rates, which the
	// server computes).
	Status() Status
	// Contexts returns the deployed contexts with their session managers.
	Contexts() []Context
}

// Context is a deployed context and its session manager.
type Context struct {
	Host          string
	Path          string
	Distributable bool
	Manager       session.Manager // nil: not started
}

// Status is the content of the status page (and of /status?format=json).
type Status struct {
	Node     string    `json:"node"` // jvmRoute
	Version  string    `json:"version,omitempty"`
	Started  time.Time `json:"started"`
	Ready    bool      `json:"ready"`
	NotReady string    `json:"notReady,omitempty"` // why not ready
	URLs     []string  `json:"urls,omitempty"`     // connectors
	// Members are the cluster's members as this node sees them, itself
	// first; nil without a cluster.
	Members  []Member        `json:"members"`
	Contexts []ContextStatus `json:"contexts"`
	// Transfer is the last completed state transfer (this node asking),
	// nil if none.
	Transfer *Transfer `json:"lastStateTransfer,omitempty"`
	// Farm is the rollout of the bundles this node farms out; nil without
	// a watching farm deployer.
	Farm []Bundle `json:"farm,omitempty"`
	// Rates are per-second replication rates since the previous Status
	// (computed by the server).
	Rates Rates `json:"rates"`
}

// Member is one cluster member.
type Member struct {
	Name    string        `json:"name"`
	Addr    string        `json:"addr"`
	HTTPURL string        `json:"httpURL,omitempty"`
	State   string        `json:"state"` // "self", "live", "suspect"
	Age     time.Duration `json:"age"`   // time since the member started
}

// ContextStatus is one context's sessions and replication counters.
type ContextStatus struct {
	Host          string `json:"host"`
	Path          string `json:"path"`
	Distributable bool   `json:"distributable"`
	Sessions      int    `json:"sessions"`
	Created       uint64 `json:"created"`
	Expired       uint64 `json:"expired"`
	Rejected      uint64 `json:"rejected"`
	Sent          uint64 `json:"messagesSent"`     // replication messages sent
	Received      uint64 `json:"messagesReceived"` // replication messages received
	SendFailures  uint64 `json:"sendFailures"`
	// BackupManager only: sessions this node is primary for, and sessions
	// lost because their primary and every backup died.
	Primaries int    `json:"primaries,omitempty"`
	Lost      uint64 `json:"lost,omitempty"`
}

// Transfer is a completed state transfer.
type Transfer struct {
	Context   string        `json:"context"`
	Sessions  uint64        `json:"sessions"`
	Duration  time.Duration `json:"duration"`
	Completed uint64        `json:"completed"` // transfers completed by the context
	Failed    uint64        `json:"failed"`
}

// Bundle is one farmed bundle and its state on each member.
type Bundle struct {
	Name    string         `json:"name"`
	Size    int64          `json:"size"`
	Members []BundleMember `json:"members"`
}

// BundleMember is a bundle's state on one member.
type BundleMember struct {
	Name  string `json:"name"`
	State string `json:"state"`
	Error string `json:"error,omitempty"`
}

// Rates are replication messages per second, summed over contexts.
type Rates struct {
	Sent     float64 `json:"sentPerSecond"`
	Received float64 `json:"receivedPerSecond"`
	Window   float64 `json:"windowSeconds"` // 0: no previous sample yet
}

// rateTracker turns the counters of successive Status calls into rates.
type rateTracker struct {
	at             time.Time
	sent, received uint64
	last           Rates
}

// update records the totals at now and returns the rates since the
// previous sample. Samples closer than a second reuse the last rates.
// Callers serialize calls.
func (r *rateTracker) update(now time.Time, sent, received uint64) Rates {
	if r.at.IsZero() {
		r.at, r.sent, r.received = now, sent, received
		return r.last
	}
	dt := now.Sub(r.at).Seconds()
	if dt < 1 {
		return r.last
	}
	r.last = Rates{Window: dt}
	if sent >= r.sent {
		r.last.Sent = float64(sent-r.sent) / dt
	}
	if received >= r.received {
		r.last.Received = float64(received-r.received) / dt
	}
	r.at, r.sent, r.received = now, sent, received
	return r.last
}
