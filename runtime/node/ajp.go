package node

import (
	"net"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gomcat/gomcat/conf"
	"github.com/gomcat/gomcat/runtime/host"
)

// newAJPConnectors maps the service's <Connector protocol="AJP/1.3">
// elements; they serve the same Engine (apps, sessions, valves) as the
// HTTP connectors.
func (n *Node) newAJPConnectors(svc *conf.Service, h *host.Engine) ([]*host.AJPConnector, error) {
	var out []*host.AJPConnector
	for _, ac := range svc.AJPConnectors {
		c, err := host.NewAJPConnector(host.AJPConfig{
			Address: ac.Address, Port: ac.Port, Secret: ac.Secret, SecretRequired: ac.SecretRequired,
			AllowedRequestAttributes: ac.AllowedRequestAttributesPattern, PacketSize: ac.PacketSize,
			MaxThreads: ac.MaxThreads, MaxConnections: ac.MaxConnections,
			ConnectionTimeout: ac.ConnectionTimeout, KeepAliveTimeout: ac.KeepAliveTimeout,
			ShutdownGrace: n.cfg.ShutdownGrace, Handler: h, Logger: n.log,
		})
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// AJPAddrs are the bound addresses of the started AJP connectors.
func (n *Node) AJPAddrs() []net.Addr {
	var out []net.Addr
	for _, c := range n.ajps {
		if a := c.Addr(); a != nil {
			out = append(out, a)
		}
	}
	return out
}

// AJPConnectors returns the node's AJP connectors (for stats).
func (n *Node) AJPConnectors() []*host.AJPConnector { return n.ajps }

// ajpCollector exports the AJP connectors' counters on the admin
// listener's /metrics, one series per connector (label port).
type ajpCollector struct {
	n                                                      *Node
	conns, open, reqs, cpings, refused, proto, shutdownRef *prometheus.Desc
}

func (n *Node) ajpCollector() prometheus.Collector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("gomcat_ajp_"+name, help, append([]string{"port"}, labels...), nil)
	}
	return &ajpCollector{n: n,
		conns:       d("connections_total", "AJP connections accepted."),
		open:        d("connections_open", "AJP connections open now."),
		reqs:        d("requests_total", "AJP forward requests served, refused ones included."),
		cpings:      d("cpings_total", "AJP CPing probes answered with CPong."),
		refused:     d("refused_total", "AJP requests answered 403, by reason: secret (missing or wrong), attribute (not allowed).", "reason"),
		proto:       d("protocol_errors_total", "AJP connections closed for bad packets (magic, size, truncated, malformed)."),
		shutdownRef: d("shutdown_refused_total", "AJP shutdown packets refused."),
	}
}

func (a *ajpCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{a.conns, a.open, a.reqs, a.cpings, a.refused, a.proto, a.shutdownRef} {
		ch <- d
	}
}

func (a *ajpCollector) Collect(ch chan<- prometheus.Metric) {
	for _, c := range a.n.ajps {
		addr, ok := c.Addr().(*net.TCPAddr)
		if !ok {
			continue // not started
		}
		port := strconv.Itoa(addr.Port)
		st := c.Stats()
		counter := func(d *prometheus.Desc, v uint64, labels ...string) {
			ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), append([]string{port}, labels...)...)
		}
		counter(a.conns, st.Connections)
		ch <- prometheus.MustNewConstMetric(a.open, prometheus.GaugeValue, float64(st.Open), port)
		counter(a.reqs, st.Requests)
		counter(a.cpings, st.CPings)
		counter(a.refused, st.SecretRefused, "secret")
		counter(a.refused, st.AttributeRefused, "attribute")
		counter(a.proto, st.ProtocolErrors)
		counter(a.shutdownRef, st.ShutdownRefused)
	}
}
