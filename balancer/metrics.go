package balancer

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// nodeDetail is a node's status with its response counters.
type nodeDetail struct {
	NodeStatus
	Codes   NodeCodes
	Latency Latency
}

func (b *Balancer) details() []nodeDetail {
	all := b.pool.all()
	out := make([]nodeDetail, len(all))
	for i, n := range all {
		out[i].NodeStatus = n.status()
		out[i].Codes, out[i].Latency = n.st.snapshot()
	}
	return out
}

// Collector exports the balancer's counters in Prometheus form, read at
// scrape time: requests by node and status code, failovers, retries,
// upstream latency, node states. Register it in any registry; the admin
// listener's /metrics serves one.
func (b *Balancer) Collector() prometheus.Collector { return balancerCollector{b} }

var (
	descResponses = prometheus.NewDesc("gomcat_balancer_responses_total",
		"Responses from each node, by status code (answers the balancer made itself are in gomcat_balancer_errors_total).", []string{"node", "code"}, nil)
	descRequests = prometheus.NewDesc("gomcat_balancer_requests_total",
		"Attempts sent to each node (a retried request counts on both nodes).", []string{"node"}, nil)
	descFailures = prometheus.NewDesc("gomcat_balancer_upstream_failures_total",
		"Attempts to a node that failed before a response (connect errors, resets, timeouts).", []string{"node"}, nil)
	descFailovers = prometheus.NewDesc("gomcat_balancer_failovers_total",
		"Requests for this node's route (session) served by another node.", []string{"node"}, nil)
	descRetries = prometheus.NewDesc("gomcat_balancer_retries_total",
		"Requests sent to a second node after the first attempt failed.", nil, nil)
	descNoLive = prometheus.NewDesc("gomcat_balancer_errors_total",
		"Requests the balancer answered itself, by reason: no_live_node (503), slow_body (client body too slow: 408).", []string{"reason"}, nil)
	descMovesHeld = prometheus.NewDesc("gomcat_balancer_moves_held_total",
		"Unverified claims that a live node moved to another URL, held while the node still answered.", nil, nil)
	descLatency = prometheus.NewDesc("gomcat_balancer_upstream_duration_seconds",
		"Time from sending an attempt to a node to its response headers.", []string{"node"}, nil)
	descState = prometheus.NewDesc("gomcat_balancer_node_state",
		"1 for each node's current state (live, down, draining, left).", []string{"node", "state"}, nil)
	descOutstanding = prometheus.NewDesc("gomcat_balancer_outstanding_requests",
		"Requests in flight to each node.", []string{"node"}, nil)
	descLive = prometheus.NewDesc("gomcat_balancer_nodes_live", "Nodes taking new requests.", nil, nil)
	descBusy = prometheus.NewDesc("gomcat_balancer_busy_total",
		"Requests answered 503 because the node had no connection slot within the queue timeout.", []string{"node"}, nil)
	descDesync = prometheus.NewDesc("gomcat_balancer_desyncs_total",
		"Connections to a node closed because it sent bytes outside a response.", []string{"node"}, nil)
)

type balancerCollector struct{ b *Balancer }

func (c balancerCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descResponses, descRequests, descFailures, descFailovers, descRetries, descNoLive, descLatency, descState, descOutstanding, descLive, descBusy, descDesync, descMovesHeld} {
		ch <- d
	}
}

func (c balancerCollector) Collect(ch chan<- prometheus.Metric) {
	counter := func(d *prometheus.Desc, v uint64, l ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), l...)
	}
	gauge := func(d *prometheus.Desc, v float64, l ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, l...)
	}
	live := 0
	for _, n := range c.b.details() {
		for code, v := range n.Codes {
			counter(descResponses, v, n.Name, strconv.Itoa(code))
		}
		counter(descRequests, n.Requests, n.Name)
		counter(descFailures, n.Failures, n.Name)
		counter(descFailovers, n.Failovers, n.Name)
		counter(descBusy, n.Busy, n.Name)
		counter(descDesync, n.Desyncs, n.Name)
		gauge(descOutstanding, float64(n.Outstanding), n.Name)
		for _, s := range []State{StateLive, StateDown, StateDraining, StateLeft} {
			v := 0.0
			if n.State == s {
				v = 1
			}
			gauge(descState, v, n.Name, string(s))
		}
		if n.State == StateLive {
			live++
		}
		buckets := make(map[float64]uint64, len(n.Latency.Bounds))
		for i, ub := range n.Latency.Bounds {
			buckets[ub] = n.Latency.Counts[i]
		}
		ch <- prometheus.MustNewConstHistogram(descLatency, n.Latency.Count, n.Latency.Sum, buckets, n.Name)
	}
	st := c.b.Stats()
	counter(descRetries, st.Retries)
	counter(descNoLive, st.NoLiveNode, "no_live_node")
	counter(descNoLive, c.b.SlowBodies(), "slow_body")
	counter(descMovesHeld, c.b.MovesHeld())
	gauge(descLive, float64(live))
}
