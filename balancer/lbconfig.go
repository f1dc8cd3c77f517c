package balancer

import (
	"bytes"
	"embed"
	"fmt"
	"net"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"text/template"
	"time"
)

// NodeInfo is one node for Generate: its jvmRoute and HTTP connector address.
type NodeInfo struct {
	Name    string // jvmRoute, [A-Za-z0-9._-]+
	HTTPURL string // "host:port" or "http://host:port"
}

// GenOptions tunes a generated config. Zero fields take the documented defaults.
type GenOptions struct {
	// Listen is the front end's address. Default: "127.0.0.1:8080".
	Listen string
	// AdminPort serves the front end's own status on Listen's host (HAProxy
	// stats + /livez, nginx stub_status + /livez, httpd balancer-manager).
	// 0: none. Ignored by keepalived.
	AdminPort int
	// HealthPath is checked with GET on every node. Default: "/".
	HealthPath string
	// PidFile of the front end. Default: "/run/gomcat-<kind>.pid".
	PidFile string
	// ErrorLog file (nginx, httpd). Default: "/var/log/gomcat-<kind>-error.log".
	ErrorLog string
	// AccessLog file (nginx, httpd); "" logs no requests. Default: "".
	AccessLog string
	// TmpDir holds nginx temp files, httpd's runtime dir (mutexes, shared
	// memory, ServerRoot) and HAProxy's stats socket. Default: "/tmp/gomcat-<kind>".
	TmpDir string
	// ModulesDir is where httpd's modules live. Default: "/usr/lib/apache2/modules" (Debian).
	ModulesDir string
	// User and Group run nginx/httpd workers when started as root. Default: none
	// (the server's compiled-in default).
	User, Group string
	// Name prefixes backends, upstreams and balancers. Default: "gomcat".
	Name string
	// CookieName and PathParam carry the session id. Defaults: "JSESSIONID", "jsessionid".
	CookieName, PathParam string
	// ConnectTimeout to a node. Default: 2s.
	ConnectTimeout time.Duration
	// Timeout for client and server inactivity. Default: 60s.
	Timeout time.Duration
	// Persistence is keepalived's persistence_timeout (client IP stickiness).
	// Default: 30m, Tomcat's session timeout.
	Persistence time.Duration
	// WorkersFile is where mod_jk's workers.properties goes (modjk).
	// Default: TmpDir/workers.properties.
	WorkersFile string
	// JkLogFile is mod_jk's log (modjk). Default: gomcat-modjk-jk.log beside ErrorLog.
	JkLogFile string
}

// Kinds lists what Generate writes.
var Kinds = []string{"haproxy", "nginx", "httpd", "keepalived"}

// Generate writes a ready-to-run config of kind "haproxy", "nginx", "httpd"
// (alias "apache") or "keepalived" (alias "lvs") for nodes. Every config
// routes a session whose id ends in ".<jvmRoute>" to that node while it is
// up and fails over to another node otherwise (keepalived: by client IP).
func Generate(kind string, nodes []NodeInfo, opts GenOptions) ([]byte, error) {
	switch kind {
	case "apache":
		kind = "httpd"
	case "lvs":
		kind = "keepalived"
	}
	file, ok := map[string]string{
		"haproxy":    "haproxy.cfg.tmpl",
		"nginx":      "nginx.conf.tmpl",
		"httpd":      "httpd.conf.tmpl",
		"keepalived": "keepalived.conf.tmpl",
	}[kind]
	if !ok {
		return nil, fmt.Errorf("%w %q (want one of %s)", ErrUnknownKind, kind, strings.Join(Kinds, ", "))
	}
	gn, err := checkNodes(nodes)
	if err != nil {
		return nil, err
	}
	opts = opts.withDefaults(kind)
	if err := opts.validate(); err != nil {
		return nil, err
	}
	names := make([]string, len(gn))
	for i, n := range gn {
		names[i] = n.Name
	}
	d := newLBData(opts)
	d.Nodes, d.NodeList = gn, strings.Join(names, ", ")
	return render(file, d)
}

// genNode is a validated node: host and port split.
type genNode struct {
	Name, Host, Port string
}

func checkNodes(nodes []NodeInfo) ([]genNode, error) {
	if len(nodes) == 0 {
		return nil, fmt.Errorf("%w: no nodes", ErrInvalidConfig)
	}
	seen := map[string]bool{}
	out := make([]genNode, 0, len(nodes))
	for _, n := range nodes {
		if !ValidRoute(n.Name) {
			return nil, fmt.Errorf("%w: node name %q: want [A-Za-z0-9._-]+", ErrInvalidConfig, n.Name)
		}
		if seen[n.Name] {
			return nil, fmt.Errorf("%w: node %q listed twice", ErrInvalidConfig, n.Name)
		}
		seen[n.Name] = true
		u, err := ParseNodeURL(n.HTTPURL)
		if err != nil {
			return nil, fmt.Errorf("node %s: %w", n.Name, err)
		}
		out = append(out, genNode{Name: n.Name, Host: u.Hostname(), Port: u.Port()})
	}
	return out, nil
}

func (o GenOptions) withDefaults(kind string) GenOptions {
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	def(&o.Listen, "127.0.0.1:8080")
	def(&o.HealthPath, "/")
	def(&o.PidFile, "/run/gomcat-"+kind+".pid")
	def(&o.ErrorLog, "/var/log/gomcat-"+kind+"-error.log")
	def(&o.TmpDir, "/tmp/gomcat-"+kind)
	def(&o.ModulesDir, "/usr/lib/apache2/modules")
	def(&o.Name, "gomcat")
	def(&o.CookieName, "JSESSIONID")
	def(&o.PathParam, "jsessionid")
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = 2 * time.Second
	}
	if o.Timeout <= 0 {
		o.Timeout = 60 * time.Second
	}
	if o.Persistence <= 0 {
		o.Persistence = 30 * time.Minute
	}
	return o
}

var safeWord = regexp.MustCompile(`^[A-Za-z0-9._/+:@%=-]+$`)

func (o GenOptions) validate() error {
	var bad []string
	if _, _, err := net.SplitHostPort(o.Listen); err != nil {
		bad = append(bad, fmt.Sprintf("listen %q: %v", o.Listen, err))
	}
	if o.AdminPort < 0 || o.AdminPort > 65535 {
		bad = append(bad, fmt.Sprintf("admin port %d", o.AdminPort))
	}
	if !strings.HasPrefix(o.HealthPath, "/") || !safeWord.MatchString(o.HealthPath) {
		bad = append(bad, fmt.Sprintf("health path %q", o.HealthPath))
	}
	for _, p := range []struct{ what, path string }{{"pid file", o.PidFile}, {"error log", o.ErrorLog}, {"tmp dir", o.TmpDir}, {"modules dir", o.ModulesDir}, {"access log", o.AccessLog}} {
		if p.path == "" && p.what == "access log" {
			continue
		}
		if !filepath.IsAbs(p.path) || !safeWord.MatchString(p.path) {
			bad = append(bad, fmt.Sprintf("%s %q: want an absolute path without spaces or quotes", p.what, p.path))
		}
	}
	for _, w := range []string{o.Name, o.User, o.Group} {
		if w != "" && !ValidRoute(w) {
			bad = append(bad, fmt.Sprintf("name %q", w))
		}
	}
	if !ValidRoute(o.CookieName) || !ValidRoute(o.PathParam) {
		bad = append(bad, "cookie name and path parameter must be [A-Za-z0-9._-]+")
	}
	if len(bad) > 0 {
		return fmt.Errorf("%w: %s", ErrInvalidConfig, strings.Join(bad, "; "))
	}
	return nil
}

// The generated configs are the templates in lbconfig/, parsed once here.
// Each renders an lbData; everything is validated before rendering, so a
// template only lays out values that are already safe in its file.
var (
	//go:embed lbconfig/*.tmpl
	lbFiles     embed.FS
	lbTemplates = template.Must(template.New("lbconfig").Funcs(template.FuncMap{
		"secs":       secs,
		"routeRegex": routeRegex,
		"paramRegex": paramRegex,
		"acl":        aclName,
		"upstream":   func(name, node string) string { return name + "_" + aclName(node) },
		"hostport":   net.JoinHostPort,
		"quote":      strconv.Quote,
		"dir":        filepath.Dir,
		"path":       func(dir, file string) string { return filepath.Join(dir, file) },
		"module":     func(dir, file string) string { return strconv.Quote(dir + "/" + file) },
	}).ParseFS(lbFiles, "lbconfig/*.tmpl"))
)

// lbData is what a template in lbconfig/ renders: the options with their
// defaults, the validated nodes, and what is derived from both.
type lbData struct {
	GenOptions
	Nodes    []genNode    // Generate's kinds
	AJPNodes []genAJPNode // mod_jk and mod_proxy_ajp
	NodeList string       // the node names in the header comment
	// ListenHost and ListenPort are Listen split (keepalived); AdminAddr
	// is ListenHost:AdminPort.
	ListenHost, ListenPort, AdminAddr string
	// ServerName is httpd's: Listen's host, or "localhost" for an IPv6
	// literal, which httpd takes nowhere there (bare it reads host:port,
	// bracketed it sees a wildcard). The name only labels self-made URLs
	// (the proxy preserves the client's Host), so any name does.
	ServerName string
}

func newLBData(o GenOptions) lbData {
	host, port, _ := net.SplitHostPort(o.Listen) // validated
	d := lbData{GenOptions: o, ListenHost: host, ListenPort: port, ServerName: host,
		AdminAddr: net.JoinHostPort(host, strconv.Itoa(o.AdminPort))}
	if strings.Contains(host, ":") {
		d.ServerName = "localhost"
	}
	return d
}

func render(file string, d lbData) ([]byte, error) {
	var b bytes.Buffer
	if err := lbTemplates.ExecuteTemplate(&b, file, d); err != nil {
		return nil, fmt.Errorf("balancer: lbconfig %s: %w", file, err)
	}
	return b.Bytes(), nil
}

// secs renders d in whole seconds (at least 1).
func secs(d time.Duration) int {
	s := int((d + time.Second - 1) / time.Second)
	return max(s, 1)
}

// routeRegex matches a session id whose route (text after its first dot) is name.
func routeRegex(name string) string { return `^[^.]*\.` + regexp.QuoteMeta(name) + `$` }

// paramRegex matches a ";<param>=<id>.<name>" path parameter.
func paramRegex(param, name string) string {
	return ";" + regexp.QuoteMeta(param) + `=[^.;/?]*\.` + regexp.QuoteMeta(name) + `([;/?]|$)`
}

// aclName makes a node name usable inside an ACL or upstream name (dots are
// fine in server names but read better replaced here).
func aclName(name string) string { return strings.ReplaceAll(name, ".", "_") }
