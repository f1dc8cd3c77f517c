package host

import (
	"fmt"
	"net"
	"net/http"
	"strings"
)

// Engine routes requests to a Host by the request's Host header (name or
// alias, case-insensitive), falling back to the default host (Tomcat
// <Engine defaultHost>). It is an http.Handler and starts nothing.
type Engine struct {
	byName map[string]*Host
	def    *Host
}

// NewEngine returns an Engine over hosts; defaultHost must name one.
func NewEngine(defaultHost string, hosts ...*Host) (*Engine, error) {
	e := &Engine{byName: map[string]*Host{}}
	for _, h := range hosts {
		names := append([]string{h.cfg.Name}, h.cfg.Aliases...)
		for _, n := range names {
			e.byName[strings.ToLower(n)] = h
		}
	}
	e.def = e.byName[strings.ToLower(defaultHost)]
	if e.def == nil {
		return nil, fmt.Errorf("host: Engine defaultHost %q names no Host", defaultHost)
	}
	return e, nil
}

func (e *Engine) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name := r.Host
	if h, _, err := net.SplitHostPort(name); err == nil {
		name = h
	}
	h := e.byName[strings.ToLower(name)]
	if h == nil {
		h = e.def
	}
	h.ServeHTTP(w, r)
}
