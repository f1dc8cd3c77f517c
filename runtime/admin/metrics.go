package admin

import (
	"strings"

	"github.com/prometheus/client_golang/prometheus"
)

// Metric names follow Prometheus' rules: a gomcat_ namespace, base units
// (seconds, bytes), _total on counters, snake_case labels of bounded
// cardinality (members, peers, contexts, kinds, codes; never session ids).
const ns = "gomcat"

// metricSet is a list of descriptors and the function that reads their
// values at scrape time: a prometheus.Collector over counters kept
// elsewhere (the hot paths pay nothing for metrics).
type metricSet struct {
	descs   []*prometheus.Desc
	collect func(emit emitter)
}

func (m *metricSet) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range m.descs {
		ch <- d
	}
}

func (m *metricSet) Collect(ch chan<- prometheus.Metric) { m.collect(emitter{ch}) }

func (m *metricSet) desc(name, help string, labels ...string) *prometheus.Desc {
	d := prometheus.NewDesc(name, help, labels, nil)
	m.descs = append(m.descs, d)
	return d
}

type emitter struct{ ch chan<- prometheus.Metric }

func (e emitter) counter(d *prometheus.Desc, v uint64, labels ...string) {
	e.ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
}

func (e emitter) gauge(d *prometheus.Desc, v float64, labels ...string) {
	e.ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
}

// kindLabel turns a Tomcat message kind name into a label value:
// "SESSION-DELTA" → "session_delta".
func kindLabel(k string) string { return strings.ToLower(strings.ReplaceAll(k, "-", "_")) }
