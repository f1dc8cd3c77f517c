package conf

import (
	"fmt"
	"net"
	"strconv"
	"strings"
)

// AdminListener is the className of the node's admin listener element:
// <Listener className="org.gomcat.AdminListener" address="127.0.0.1"
// port="9080" tokenFile="conf/admin.token"/> under <Server> (Tomcat's
// lifecycle-listener place, like JmxRemoteLifecycleListener's ports).
const AdminListener = "org.gomcat.AdminListener"

// Admin is the node's admin listener: /metrics, /livez, /readyz, the
// status page and the session manager (/manager/text/…).
type Admin struct {
	Node
	// Address is where it listens. Default: "127.0.0.1" (loopback only).
	Address string
	// Port; -1 disables the listener, 0 picks a free port. Default: -1
	// without the element (gomcat init writes one).
	Port int
	// TokenFile holds the bearer token (or Basic password) every request
	// but /livez and /readyz must present. Required when Address is not a
	// loopback address. Default: "" (no authentication on loopback).
	TokenFile string
}

// newAdmin is the listener an --admin override creates: disabled until set.
func newAdmin() *Admin {
	a := &Admin{Node: Node{Element: "Listener"}}
	adminSpec.fill(a)
	a.Port = -1
	return a
}

// adminListener parses a <Listener> under <Server>: the admin listener, or
// nil (another Tomcat listener, ignored with a warning).
func (p *parser) adminListener(e *elem) *Admin {
	cn, _, ok := e.className()
	if !ok || (cn != AdminListener && cn != "AdminListener") {
		p.ignore(e)
		return nil
	}
	a := &Admin{Node: Node{Pos: e.pos, Element: "Listener"}}
	adminSpec.fill(a)
	p.attrs(e, &a.Node, adminSpec.fields(a), adminSpec.inert)
	return a
}

// validate checks the admin listener: port, address, and a token off loopback.
func (v *validator) admin(a *Admin) {
	if a == nil {
		return
	}
	adminSpec.check(v, &a.Node, a)
	v.address(&a.Node, "address", a.Address)
	if a.Port != -1 && a.TokenFile == "" && !IsLoopback(a.Address) {
		v.bad(&a.Node, "address", "%q is not a loopback address: the admin listener (metrics, sessions, expire) then needs tokenFile", a.Address)
	}
}

// IsLoopback reports whether a listen address only accepts local
// connections: a loopback IP or "localhost". "" (all interfaces) is not.
func IsLoopback(addr string) bool {
	if strings.EqualFold(addr, "localhost") {
		return true
	}
	ip := net.ParseIP(addr)
	return ip != nil && ip.IsLoopback()
}

// ParseAdmin reads an --admin / GOMCAT_ADMIN value: "HOST:PORT", ":PORT"
// (loopback), or "" / "off" (disabled, port -1).
func ParseAdmin(v string) (addr string, port int, err error) {
	v = strings.TrimSpace(v)
	if v == "" || v == "off" {
		return "127.0.0.1", -1, nil
	}
	h, ps, err := net.SplitHostPort(v)
	if err != nil {
		return "", 0, fmt.Errorf("%q is not HOST:PORT (or \"off\")", v)
	}
	port, err = strconv.Atoi(ps)
	if err != nil || port < 0 || port > 65535 {
		return "", 0, fmt.Errorf("%q: %q is not a port (0..65535)", v, ps)
	}
	if h == "" {
		h = "127.0.0.1"
	}
	return h, port, nil
}

// applyAdmin sets the admin listener from an --admin value (already
// checked by ParseAdmin), creating the element if server.xml has none.
func (s *Server) applyAdmin(v string, at Pos) {
	addr, port, err := ParseAdmin(v)
	if err != nil {
		return
	}
	if s.Admin == nil {
		s.Admin = newAdmin()
		s.Admin.Pos = at
	}
	s.Admin.Address, s.Admin.Port = addr, port
	s.Admin.mark("address", at, "address")
	s.Admin.mark("port", at, "port")
}
