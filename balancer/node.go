package balancer

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"
)

// State is a node's state as the balancer sees it.
type State string

// Node states, as shown by /status.
const (
	StateLive     State = "live"     // takes new requests
	StateDown     State = "down"     // gone from discovery, failing checks, or failing connections
	StateDraining State = "draining" // said goodbye; in-flight requests finish, no new ones
	StateLeft     State = "left"     // said goodbye and has nothing in flight
)

// node is one backend incarnation. Its URL and transport never change; a
// member that comes back at another address gets a new node.
type node struct {
	name      string
	url       *url.URL
	transport *http.Transport // the pool: upgrades, requests without pins; guardConns
	pinned    *http.Transport // makes pinned connections (see pins): MaxConnsPerHost 0
	slots     chan struct{}   // MaxConnsPerNode requests in flight (nil: no cap)
	checked   bool            // active health checks decide "healthy" (static backends)

	outstanding atomic.Int64
	requests    atomic.Uint64
	failures    atomic.Uint64 // failed attempts (connect errors, resets, timeouts)
	failovers   atomic.Uint64 // requests for this node's route served elsewhere
	busy        atomic.Uint64 // requests answered 503: no connection slot within QueueTimeout
	desyncs     atomic.Uint64 // connections closed: the node sent bytes outside a response
	st          nodeStats     // responses by code, upstream latency (stats.go)

	mu          sync.Mutex // guards the fields below
	present     bool       // discovery says it is there
	leaving     bool       // discovery says it said goodbye
	healthy     bool       // active checks pass (always true for unchecked nodes)
	passiveDown bool       // a connection failed; a recovery probe must pass Rise times
	unverified  bool       // heard from untrusted discovery: routed after its first good check
	moveTo      *Event     // an unverified claim that the node moved: applied once this URL fails Fall checks
	check       checkState
	live        atomic.Bool // present && !leaving && healthy && !passiveDown; written under mu

	cancel context.CancelFunc // stops this node's checker; set before the node is published
}

func newNode(name string, u *url.URL, checked, unverified bool, c *Config, onDesync func(*node, error)) *node {
	n := &node{
		name:       name,
		url:        u,
		checked:    checked,
		present:    true,
		healthy:    !checked && !unverified,
		unverified: unverified,
	}
	if c.MaxConnsPerNode > 0 {
		n.slots = make(chan struct{}, c.MaxConnsPerNode)
	}
	d := &net.Dialer{Timeout: c.ConnectTimeout, KeepAlive: 30 * time.Second}
	headLimit := c.MaxResponseHeaderBytes + 4<<10 // net/http's own limit answers first
	desync := func(err error) {
		n.desyncs.Add(1)
		if onDesync != nil {
			onDesync(n, err)
		}
	}
	n.transport = &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			nc, err := d.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return newGuardConn(nc, headLimit, desync), nil
		},
		MaxIdleConns:           0,
		MaxIdleConnsPerHost:    c.MaxIdleConnsPerNode,
		MaxConnsPerHost:        c.MaxConnsPerNode,
		IdleConnTimeout:        c.IdleConnTimeout,
		ResponseHeaderTimeout:  c.ResponseHeaderTimeout,
		MaxResponseHeaderBytes: int64(c.MaxResponseHeaderBytes),
		ExpectContinueTimeout:  time.Second,
		DisableCompression:     true, // a proxy passes encodings through untouched
		ForceAttemptHTTP2:      false,
		WriteBufferSize:        8 << 10,
		ReadBufferSize:         8 << 10,
	}
	// Closing a Transport.NewClientConn connection decrements the
	// MaxConnsPerHost count it never incremented (go1.26: "connCount
	// underflow" panic), so pinned connections come from a clone without it.
	n.pinned = n.transport.Clone()
	n.pinned.MaxConnsPerHost = 0
	return n
}

// acquire takes one of the node's connection slots, waiting up to wait.
// It reports false when none came free in time (or ctx ended).
func (n *node) acquire(ctx context.Context, wait time.Duration) bool {
	if n.slots == nil {
		return true
	}
	select {
	case n.slots <- struct{}{}:
		return true
	default:
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case n.slots <- struct{}{}:
		return true
	case <-t.C:
	case <-ctx.Done():
	}
	return false
}

func (n *node) release() {
	if n.slots != nil {
		<-n.slots
	}
}

// closeIdle closes the node's idle keep-alive connections.
func (n *node) closeIdle() { n.transport.CloseIdleConnections() }

// update recomputes live; callers hold n.mu. It reports the old and new state.
func (n *node) update() (was, now bool) {
	was = n.live.Load()
	now = n.present && !n.leaving && n.healthy && !n.passiveDown
	n.live.Store(now)
	return was, now
}

func (n *node) state() State {
	n.mu.Lock()
	defer n.mu.Unlock()
	switch {
	case n.leaving && n.outstanding.Load() > 0:
		return StateDraining
	case n.leaving:
		return StateLeft
	case n.live.Load():
		return StateLive
	}
	return StateDown
}

// reason says why a node is not live, for logs and /status.
func (n *node) reason() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	switch {
	case !n.present:
		return "gone from membership"
	case n.leaving:
		return "left the cluster"
	case n.unverified:
		return "not verified yet: waiting for a health check of its advertised URL"
	case !n.healthy:
		return "failing health checks"
	case n.passiveDown:
		return "connection failures"
	}
	return ""
}

// NodeStatus is one node in /status.
type NodeStatus struct {
	Name        string `json:"name"`
	URL         string `json:"url"`
	State       State  `json:"state"`
	Reason      string `json:"reason,omitempty"`
	Outstanding int64  `json:"outstanding"`
	Requests    uint64 `json:"requests"`
	Failures    uint64 `json:"failures"`
	Failovers   uint64 `json:"failovers"`
	Busy        uint64 `json:"busy"`    // 503s: no connection slot within QueueTimeout
	Desyncs     uint64 `json:"desyncs"` // connections closed for bytes outside a response
}

func (n *node) status() NodeStatus {
	return NodeStatus{
		Name:        n.name,
		URL:         n.url.String(),
		State:       n.state(),
		Reason:      n.reason(),
		Outstanding: n.outstanding.Load(),
		Requests:    n.requests.Load(),
		Failures:    n.failures.Load(),
		Failovers:   n.failovers.Load(),
		Busy:        n.busy.Load(),
		Desyncs:     n.desyncs.Load(),
	}
}
