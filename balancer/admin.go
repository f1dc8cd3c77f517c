package balancer

import (
	"encoding/json"
	"io"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// StatusReport is the JSON body of /status and /members.
type StatusReport struct {
	Ready bool         `json:"ready"`
	Live  int          `json:"live"`
	Nodes []NodeStatus `json:"nodes"`
}

// AdminHandler serves /livez (200 while running), /readyz (200 once a node
// is live, else 503), /status and /members (StatusReport as JSON; an HTML
// page for a browser, i.e. an Accept naming text/html, or ?format=html;
// ?format=json forces JSON) and /metrics (Prometheus, see Collector).
func (b *Balancer) AdminHandler() http.Handler {
	mux := http.NewServeMux()
	reg := prometheus.NewRegistry()
	reg.MustRegister(b.Collector(), collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{Namespace: "gomcat_balancer"}))
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError}))
	mux.HandleFunc("GET /livez", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if !b.Ready() {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = io.WriteString(w, "no live node\n")
			return
		}
		_, _ = io.WriteString(w, "ok\n")
	})
	status := func(w http.ResponseWriter, r *http.Request) {
		if wantsHTML(r) {
			b.serveStatusPage(w)
			return
		}
		rep := StatusReport{Ready: b.Ready(), Nodes: b.Nodes()}
		for _, n := range rep.Nodes {
			if n.State == StateLive {
				rep.Live++
			}
		}
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(rep)
	}
	mux.HandleFunc("GET /status", status)
	mux.HandleFunc("GET /members", status)
	return mux
}
