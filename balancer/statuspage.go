package balancer

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"time"
)

//go:embed statuspage.html
var statusPageHTML string

var statusPage = template.Must(template.New("status").Funcs(template.FuncMap{
	"class": func(code int) string { return fmt.Sprintf("%dxx", code/100) },
	"mean": func(l Latency) string {
		if l.Count == 0 {
			return "–"
		}
		return fmt.Sprintf("%.1f ms", 1000*l.Sum/float64(l.Count))
	},
}).Parse(statusPageHTML))

// pageNode is a node row: its detail with response codes grouped by class.
type pageNode struct {
	nodeDetail
	Classes [6]uint64 // index: code/100
}

type pageData struct {
	Ready      bool
	Live       int
	Nodes      []pageNode
	Stats      Stats
	Failovers  uint64
	Requests   uint64
	Now        time.Time
	RefreshSec int
}

// wantsHTML: a browser (Accept names text/html) that did not ask for JSON.
// curl and scripts (Accept */* or JSON) keep getting the JSON report.
func wantsHTML(r *http.Request) bool {
	switch r.URL.Query().Get("format") {
	case "json":
		return false
	case "html":
		return true
	}
	return strings.Contains(r.Header.Get("Accept"), "text/html")
}

func (b *Balancer) serveStatusPage(w http.ResponseWriter) {
	d := pageData{Ready: b.Ready(), Stats: b.Stats(), Now: time.Now(), RefreshSec: 5}
	for _, n := range b.details() {
		pn := pageNode{nodeDetail: n}
		for code, v := range n.Codes {
			if c := code / 100; c >= 1 && c <= 5 {
				pn.Classes[c] += v
			}
		}
		if n.State == StateLive {
			d.Live++
		}
		d.Failovers += n.Failovers
		d.Requests += n.Requests
		d.Nodes = append(d.Nodes, pn)
	}
	var buf bytes.Buffer
	if err := statusPage.Execute(&buf, d); err != nil {
		http.Error(w, "status page: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	_, _ = w.Write(buf.Bytes())
}
