package admin

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"time"
)

//go:embed status.html
var statusHTML string

var statusTemplate = template.Must(template.New("status").Funcs(template.FuncMap{
	"age":  humanAge,
	"rate": func(f float64) string { return fmt.Sprintf("%.1f/s", f) },
	"ms":   func(d time.Duration) string { return fmt.Sprintf("%d ms", d.Milliseconds()) },
}).Parse(statusHTML))

// pageData is what the template sees.
type pageData struct {
	Status
	Now     time.Time
	Refresh int // seconds; 0 = no reload
	Live    int // members live (self included)
	Total   int // sessions over every context
}

// Snapshot returns the status with the rates since the previous call.
func (s *Server) Snapshot() Status {
	st := s.cfg.Source.Status()
	var sent, recv uint64
	for _, c := range st.Contexts {
		sent += c.Sent
		recv += c.Received
	}
	s.rmu.Lock()
	st.Rates = s.rates.update(s.cfg.Now(), sent, recv)
	s.rmu.Unlock()
	return st
}

func (s *Server) serveStatus(w http.ResponseWriter, r *http.Request) {
	st := s.Snapshot()
	if wantsJSON(r) {
		writeJSON(w, http.StatusOK, st)
		return
	}
	d := pageData{Status: st, Now: s.cfg.Now(), Refresh: int(s.cfg.Refresh / time.Second)}
	for _, m := range st.Members {
		if m.State == "live" || m.State == "self" {
			d.Live++
		}
	}
	for _, c := range st.Contexts {
		d.Total += c.Sessions
	}
	var b bytes.Buffer
	if err := statusTemplate.Execute(&b, d); err != nil {
		s.log.Error().Err(err).Msg("render status page")
		text(w, http.StatusInternalServerError, "status page: "+err.Error()+"\n")
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	_, _ = w.Write(b.Bytes())
}

// wantsJSON: ?format=json, or an Accept header preferring JSON over HTML.
func wantsJSON(r *http.Request) bool {
	switch r.URL.Query().Get("format") {
	case "json":
		return true
	case "html", "text":
		return false
	}
	a := r.Header.Get("Accept")
	return strings.Contains(a, "application/json") && !strings.Contains(a, "text/html")
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// humanAge renders a duration as an operator reads it: 42s, 5m07s, 3h12m, 2d04h.
func humanAge(d time.Duration) string {
	switch {
	case d < 0:
		return "0s"
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%dd%02dh", int(d.Hours())/24, int(d.Hours())%24)
}
