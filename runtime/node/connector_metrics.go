package node

import (
	"net"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// httpConnectorCollector exports the HTTP connectors' refusals
// (host.Connector.Stats) on the admin listener's /metrics, one series
// per connector (label port) and reason.
type httpConnectorCollector struct {
	n       *Node
	refused *prometheus.Desc
}

func (n *Node) httpConnectorCollector() prometheus.Collector {
	return &httpConnectorCollector{n: n, refused: prometheus.NewDesc("gomcat_http_connector_refused_total",
		"HTTP requests a connector refused, by reason: slow_body (body slower than minUploadRate: 408), too_many_headers (over maxHeaderCount: 400).",
		[]string{"port", "reason"}, nil)}
}

func (h *httpConnectorCollector) Describe(ch chan<- *prometheus.Desc) { ch <- h.refused }

func (h *httpConnectorCollector) Collect(ch chan<- prometheus.Metric) {
	for _, c := range h.n.conns {
		addr, ok := c.Addr().(*net.TCPAddr)
		if !ok {
			continue // not started
		}
		port := strconv.Itoa(addr.Port)
		st := c.Stats()
		ch <- prometheus.MustNewConstMetric(h.refused, prometheus.CounterValue, float64(st.SlowBodies), port, "slow_body")
		ch <- prometheus.MustNewConstMetric(h.refused, prometheus.CounterValue, float64(st.TooManyHeads), port, "too_many_headers")
	}
}
