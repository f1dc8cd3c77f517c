package admin

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// AckTimer is the histogram of replication sends that wait for the
// members (channelSendOptions with use_ack or sync): the round trip from
// the send to the last member's acknowledgement. Safe for concurrent use.
type AckTimer struct{ h *prometheus.HistogramVec }

// NewAckTimer returns an empty histogram.
func NewAckTimer() *AckTimer {
	return &AckTimer{h: prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: ns, Subsystem: "replication", Name: "ack_round_trip_seconds",
		Help:    "Round trip of replication sends that wait for members (mode ack: received; sync: applied), by mode and operation (send, broadcast).",
		Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 5},
	}, []string{"mode", "op"})}
}

// Collector is the collector to register.
func (t *AckTimer) Collector() prometheus.Collector { return t.h }

// Observe records one waited-for send that took d.
func (t *AckTimer) Observe(mode, op string, d time.Duration) {
	t.h.WithLabelValues(mode, op).Observe(d.Seconds())
}
