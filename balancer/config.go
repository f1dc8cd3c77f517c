package balancer

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/gomcat/gomcat/internal/bodylimit"
	"github.com/rs/zerolog"
)

// Backend is one statically configured node: its jvmRoute and its HTTP base URL.
type Backend struct {
	Name string // jvmRoute of the node, e.g. "node1": [A-Za-z0-9._-]+.
	URL  string // http://host:port of the node's HTTP connector.
}

// HealthConfig tunes the active health checks (static backends) and the
// recovery probes that bring a node back after a passive failure.
type HealthConfig struct {
	// Path is requested with GET; any status below 500 counts as healthy. Default: "/".
	Path string
	// Interval between two checks of one node. Default: 1s.
	Interval time.Duration
	// Timeout of one check (connect + response headers). Default: 1s.
	Timeout time.Duration
	// Fall is the number of consecutive failed checks that take a node down. Default: 2.
	Fall int
	// Rise is the number of consecutive good checks that bring a node back. Default: 2.
	// A static node's very first good check makes it live at once.
	Rise int
}

// Config configures a Balancer. It is passed by value to New and cannot change afterwards.
type Config struct {
	// Listen is the client-facing address. Empty: Start opens no listener and
	// the caller serves Handler() itself. Default: "127.0.0.1:8080".
	Listen string
	// AdminListen is the address of /livez, /readyz, /status and /members.
	// Empty: no admin listener (AdminHandler() still works). Default: "127.0.0.1:8081".
	AdminListen string

	// Backends are static nodes, health-checked actively. Ignored when Discovery is set.
	Backends []Backend
	// Discovery supplies the nodes. Default: Static(Backends).
	Discovery Discovery
	// Health configures health checks and recovery probes.
	Health HealthConfig
	// TrustDiscovery routes to a node as soon as Discovery reports it: set it
	// when the heartbeats are sealed with the cluster key. Default false: a
	// discovered node is routed only after a health check of its advertised
	// URL passes, and a live node's move to another URL waits until the old
	// URL fails Health.Fall checks (a heartbeat is only a claim).
	TrustDiscovery bool

	// CookieName is the session cookie that carries "<id>.<route>". Default: "JSESSIONID".
	CookieName string
	// PathParam is the path parameter that carries the session id (";jsessionid=…"). Default: "jsessionid".
	PathParam string
	// NonSticky ignores session routes: every request goes to the live node
	// with the fewest requests in flight (round robin among ties). Only for
	// nodes that share their sessions through an external store
	// (RedisManager); an in-memory cluster wants sticky routing. Default: false.
	NonSticky bool
	// LearnRoutes maps the jvmRoute in a node's Set-Cookie session ids to
	// that node, for nodes discovered by address (Addresses) whose names
	// are not their routes. Default: false.
	LearnRoutes bool

	// ConnectTimeout bounds a TCP connect to a node. Default: 2s.
	ConnectTimeout time.Duration
	// ResponseHeaderTimeout bounds the wait for a node's response headers after
	// the request was written. 0 disables it. Default: 60s.
	ResponseHeaderTimeout time.Duration
	// IdleConnTimeout closes idle keep-alive connections to nodes. Default: 90s.
	IdleConnTimeout time.Duration
	// MaxConnsPerNode caps the requests in flight to one node (each holds one
	// node connection; extra requests wait up to QueueTimeout). Idle
	// connections pinned to client connections are not counted: a node has
	// at most one per open client connection (MaxConnections). 0 means no
	// cap. Default: 256.
	MaxConnsPerNode int
	// MaxIdleConnsPerNode is the keep-alive pool size per node. Default: 64.
	MaxIdleConnsPerNode int
	// QueueTimeout bounds the wait for one of a node's MaxConnsPerNode slots;
	// a request still waiting then is answered 503 and counted (NodeStatus.Busy),
	// like HAProxy's "timeout queue". Default: 5s.
	QueueTimeout time.Duration
	// MaxResponseHeaderBytes caps a node's response head (status line and
	// headers); a larger one is answered 502. Default: 64 KiB.
	MaxResponseHeaderBytes int

	// ReadHeaderTimeout bounds reading a client's request headers. Default: 10s.
	ReadHeaderTimeout time.Duration
	// ClientIdleTimeout closes idle client keep-alive connections. Default: 120s.
	ClientIdleTimeout time.Duration
	// MaxConnections caps open client connections; more wait in the listen
	// backlog (Tomcat's maxConnections). 0: no cap. Default: 8192.
	MaxConnections int
	// MaxHeaderBytes caps a client's request head. Default: 64 KiB.
	MaxHeaderBytes int
	// Body bounds reading client request bodies: a per-read timeout, a
	// minimum rate, and a buffer that takes small bodies in full before a
	// node is chosen, so that slow clients hold no node connection.
	Body bodylimit.Config

	// TrustForwarded keeps X-Forwarded-For/Forwarded headers that clients send and
	// appends to them (set it only behind another trusted proxy). Default: false,
	// they are replaced.
	TrustForwarded bool
	// AccessLog logs one line per request at info level. Default: false.
	AccessLog bool
	// Logger receives membership changes, failovers and (with AccessLog) requests.
	// Default: zerolog.Nop().
	Logger zerolog.Logger
}

// DefaultConfig returns the defaults documented on Config.
func DefaultConfig() Config {
	return Config{
		Listen:      "127.0.0.1:8080",
		AdminListen: "127.0.0.1:8081",
		Health: HealthConfig{
			Path:     "/",
			Interval: time.Second,
			Timeout:  time.Second,
			Fall:     2,
			Rise:     2,
		},
		CookieName:             "JSESSIONID",
		PathParam:              "jsessionid",
		ConnectTimeout:         2 * time.Second,
		ResponseHeaderTimeout:  60 * time.Second,
		IdleConnTimeout:        90 * time.Second,
		MaxConnsPerNode:        256,
		MaxIdleConnsPerNode:    64,
		QueueTimeout:           5 * time.Second,
		MaxResponseHeaderBytes: 64 << 10,
		MaxConnections:         8192,
		MaxHeaderBytes:         64 << 10,
		Body:                   bodylimit.DefaultConfig(),
		ReadHeaderTimeout:      10 * time.Second,
		ClientIdleTimeout:      120 * time.Second,
		Logger:                 zerolog.Nop(),
	}
}

// Validate reports every problem of c at once (errors.Join), each wrapping ErrInvalidConfig.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, a ...any) {
		errs = append(errs, fmt.Errorf("%w: %s", ErrInvalidConfig, fmt.Sprintf(format, a...)))
	}
	for _, a := range []struct{ name, addr string }{{"listen", c.Listen}, {"admin listen", c.AdminListen}} {
		if a.addr == "" {
			continue
		}
		if _, _, err := net.SplitHostPort(a.addr); err != nil {
			bad("%s address %q: %v", a.name, a.addr, err)
		}
	}
	if c.Discovery == nil {
		if len(c.Backends) == 0 {
			bad("no backends and no discovery")
		}
		seen := map[string]bool{}
		for _, be := range c.Backends {
			if !ValidRoute(be.Name) {
				bad("backend name %q: want [A-Za-z0-9._-]+ (the node's jvmRoute)", be.Name)
			}
			if seen[be.Name] {
				bad("backend %q listed twice", be.Name)
			}
			seen[be.Name] = true
			if _, err := ParseNodeURL(be.URL); err != nil {
				bad("backend %s: %v", be.Name, err)
			}
		}
	}
	h := c.Health
	if !strings.HasPrefix(h.Path, "/") {
		bad("health path %q must start with /", h.Path)
	}
	if h.Interval <= 0 || h.Timeout <= 0 {
		bad("health interval and timeout must be > 0")
	}
	if h.Fall < 1 || h.Rise < 1 {
		bad("health fall and rise must be >= 1")
	}
	if c.CookieName == "" || strings.ContainsAny(c.CookieName, "=;, \t") {
		bad("cookie name %q", c.CookieName)
	}
	if c.PathParam == "" || strings.ContainsAny(c.PathParam, "=;/?# ") {
		bad("path parameter %q", c.PathParam)
	}
	if c.ConnectTimeout <= 0 {
		bad("connect timeout must be > 0")
	}
	if c.ResponseHeaderTimeout < 0 || c.IdleConnTimeout < 0 || c.ReadHeaderTimeout < 0 || c.ClientIdleTimeout < 0 {
		bad("timeouts must not be negative")
	}
	if c.MaxConnsPerNode < 0 || c.MaxIdleConnsPerNode < 0 || c.MaxConnections < 0 {
		bad("connection limits must not be negative")
	}
	if c.QueueTimeout <= 0 {
		bad("queue timeout must be > 0")
	}
	if c.MaxResponseHeaderBytes <= 0 || c.MaxHeaderBytes <= 0 {
		bad("header limits must be > 0")
	}
	if err := c.Body.Validate(); err != nil {
		bad("body: %v", err)
	}
	return errors.Join(errs...)
}

// ValidRoute reports whether name can be a jvmRoute the balancer routes on:
// [A-Za-z0-9._-]+ as mcast accepts. Dots work (the route is everything after
// the id's first dot) but mod_jk reads them as domains: avoid them.
func ValidRoute(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// ParseNodeURL accepts "http://host:port" (an optional trailing "/" only) or a
// bare "host:port" and returns the http URL of the node.
func ParseNodeURL(s string) (*url.URL, error) {
	if s == "" {
		return nil, fmt.Errorf("%w: empty node URL", ErrInvalidConfig)
	}
	if !strings.Contains(s, "://") {
		s = "http://" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("%w: node URL %q: %v", ErrInvalidConfig, s, err)
	}
	if u.Scheme != "http" {
		return nil, fmt.Errorf("%w: node URL %q: only http is supported", ErrInvalidConfig, s)
	}
	if u.Host == "" || u.Port() == "" {
		return nil, fmt.Errorf("%w: node URL %q: want host:port", ErrInvalidConfig, s)
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil || u.Fragment != "" {
		return nil, fmt.Errorf("%w: node URL %q: want only scheme://host:port", ErrInvalidConfig, s)
	}
	return &url.URL{Scheme: "http", Host: u.Host}, nil
}

// ParseBackend reads a "name=http://host:port" flag value (the URL may be a bare host:port).
func ParseBackend(s string) (Backend, error) {
	name, u, ok := strings.Cut(s, "=")
	if !ok || !ValidRoute(name) {
		return Backend{}, fmt.Errorf("%w: backend %q: want name=http://host:port", ErrInvalidConfig, s)
	}
	pu, err := ParseNodeURL(u)
	if err != nil {
		return Backend{}, fmt.Errorf("backend %s: %w", name, err)
	}
	return Backend{Name: name, URL: pu.String()}, nil
}
