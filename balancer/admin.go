package balancer

import (
	"encoding/json"
	"io"
	"net/http"
)

// StatusReport is the JSON body of /status and /members.
type StatusReport struct {
	Ready bool         `json:"ready"`
	Live  int          `json:"live"`
	Nodes []NodeStatus `json:"nodes"`
}

// AdminHandler serves /livez (200 while running), /readyz (200 once a node
// is live, else 503) and /status, /members (StatusReport as JSON).
func (b *Balancer) AdminHandler() http.Handler {
	mux := http.NewServeMux()
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
	status := func(w http.ResponseWriter, _ *http.Request) {
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
