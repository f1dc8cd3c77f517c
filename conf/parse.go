package conf

import (
	"errors"
	"fmt"
	"path"
	"strings"
)

// Parse reads a server.xml document; name is used in messages. It fills
// every default and returns warnings for what Gomcat ignores. Problems that
// prevent reading a value (a port that is not a number, an unsupported
// className, …) are returned together as an errors.Join of *Error; the
// returned Server is then partial (values that failed keep their defaults),
// and nil only when the XML itself is unreadable.
//
// Parse does not run Validate, so that overrides can be applied first.
func Parse(name string, data []byte) (*Server, []Warning, error) {
	root, err := parseTree(name, data)
	if err != nil {
		return nil, nil, err
	}
	p := &parser{}
	if root.name != "Server" {
		return nil, nil, errors.Join(fmt.Errorf("%w", ErrNoServer),
			&Error{File: name, Line: root.pos.Line, Element: root.name, Msg: "the root element must be <Server>"})
	}
	s := p.server(root)
	s.finish(p)
	return s, p.warns, errors.Join(p.errs...)
}

func (p *parser) server(e *elem) *Server {
	s := newServer()
	s.Pos = e.pos
	p.standardClass(e, "org.apache.catalina.core.StandardServer")
	p.attrs(e, &s.Node, serverSpec.fields(s), serverSpec.inert)
	for _, k := range e.kids {
		switch k.name {
		case "Service":
			s.Services = append(s.Services, p.service(k))
		case "Listener":
			if a := p.adminListener(k); a != nil {
				s.Admin = a
			}
		default:
			p.ignore(k)
		}
	}
	return s
}

func (p *parser) service(e *elem) *Service {
	svc := newService()
	svc.Pos = e.pos
	p.standardClass(e, "org.apache.catalina.core.StandardService")
	p.attrs(e, &svc.Node, serviceSpec.fields(svc), serviceSpec.inert)
	for _, k := range e.kids {
		switch k.name {
		case "Connector":
			if a, ok := k.attr("protocol"); ok && isAJPProtocol(strings.TrimSpace(a.value)) {
				svc.AJPConnectors = append(svc.AJPConnectors, p.ajpConnector(k))
			} else if c := p.connector(k); c != nil {
				svc.Connectors = append(svc.Connectors, c)
			}
		case "Engine":
			if svc.Engine != nil {
				p.errorf(k.pos, k.name, "", "a <Service> holds one <Engine> (the first is at line %d)", svc.Engine.Line)
				continue
			}
			svc.Engine = p.engine(k)
		default:
			p.ignore(k)
		}
	}
	return svc
}

// httpProtocols are the protocol values Gomcat serves itself.
var httpProtocols = map[string]bool{
	"":         true,
	"HTTP/1.1": true,
	"org.apache.coyote.http11.Http11NioProtocol":  true,
	"org.apache.coyote.http11.Http11Nio2Protocol": true,
	"org.apache.coyote.http11.Http11AprProtocol":  true,
	"org.apache.coyote.http11.Http11Protocol":     true,
}

// connector returns nil for a connector Gomcat does not serve (AJP goes
// to ajpConnector before).
func (p *parser) connector(e *elem) *Connector {
	if a, ok := e.attr("protocol"); ok && !httpProtocols[strings.TrimSpace(a.value)] {
		v := strings.TrimSpace(a.value)
		p.warnf(e.pos, e.name, "protocol", "connector with protocol %q ignored: Gomcat serves HTTP/1.1 (and HTTP/2 over TLS) and AJP/1.3 only", v)
		return nil
	}
	c := newConnector()
	c.Pos = e.pos
	p.attrs(e, &c.Node, connectorSpec.fields(c), connectorSpec.inert)
	for _, k := range e.kids {
		switch k.name {
		case "SSLHostConfig":
			p.sslHostConfig(k, c)
		default:
			p.ignore(k)
		}
	}
	if !c.Has("keepAliveTimeout") {
		c.KeepAliveTimeout = c.ConnectionTimeout
	}
	if c.SSLEnabled && !c.Has("scheme") {
		c.Scheme = "https"
	}
	if c.SSLEnabled && !c.Has("secure") {
		c.Secure = true
	}
	return c
}

func (p *parser) sslHostConfig(e *elem, c *Connector) {
	p.attrs(e, &Node{}, fields{}, sslHostConfigSpec.inert)
	for _, k := range e.kids {
		if k.name != "Certificate" {
			p.ignore(k)
			continue
		}
		var n Node
		p.attrs(k, &n, certificateSpec.fields(c), certificateSpec.inert)
		for name, m := range n.attrs {
			c.mark(name, m.Pos, m.as)
		}
	}
}

func (p *parser) engine(e *elem) *Engine {
	eng := newEngine()
	eng.Pos = e.pos
	p.standardClass(e, "org.apache.catalina.core.StandardEngine")
	p.attrs(e, &eng.Node, engineSpec.fields(eng), engineSpec.inert)
	for _, k := range e.kids {
		switch k.name {
		case "Host":
			eng.Hosts = append(eng.Hosts, p.host(k))
		case "Cluster":
			if eng.Cluster != nil {
				p.errorf(k.pos, k.name, "", "only one <Cluster> per <Engine> (the first is at line %d)", eng.Cluster.Line)
				continue
			}
			eng.Cluster = p.cluster(k)
		default:
			p.ignore(k)
		}
	}
	return eng
}

func (p *parser) host(e *elem) *Host {
	h := newHost()
	h.Pos = e.pos
	p.standardClass(e, "org.apache.catalina.core.StandardHost")
	p.attrs(e, &h.Node, hostSpec.fields(h), hostSpec.inert)
	for _, k := range e.kids {
		switch k.name {
		case "Context":
			if c := p.context(k, ""); c != nil {
				h.Contexts = append(h.Contexts, c)
			}
		case "Cluster":
			if h.Cluster != nil {
				p.errorf(k.pos, k.name, "", "only one <Cluster> per <Host> (the first is at line %d)", h.Cluster.Line)
				continue
			}
			h.Cluster = p.cluster(k)
		default:
			p.ignore(k)
		}
	}
	return h
}

// redisManager reads <Manager className="gomcat.RedisManager"> inside a
// <Context>.
func (p *parser) redisManager(e *elem) *RedisManager {
	m := newRedisManager()
	m.Pos = e.pos
	p.attrs(e, &m.Node, redisManagerSpec.fields(m), redisManagerSpec.inert)
	for _, k := range e.kids {
		p.ignore(k)
	}
	return m
}

// context reads a <Context>. fromFile is the descriptor's base name
// without ".xml" ("ROOT", "foo#bar") or "" inside server.xml.
func (p *parser) context(e *elem, fromFile string) *Context {
	c := newContext()
	c.Pos = e.pos
	p.standardClass(e, "org.apache.catalina.core.StandardContext")
	p.attrs(e, &c.Node, contextSpec.fields(c), contextSpec.inert)
	written := c.Path
	var first *elem // the context's <Manager>
	for _, k := range e.kids {
		cn, _, _ := k.className()
		_, cluster := resolve(managerClasses, cn)
		if k.name != "Manager" || (cn != RedisManagerClass && !cluster) {
			p.ignore(k)
			continue
		}
		if first != nil {
			p.errorf(k.pos, k.name, "", "only one <Manager> per <Context> (the first is at line %d)", first.pos.Line)
			continue
		}
		first = k
		if cluster {
			c.ClusterManager = newManager()
			p.manager(k, c.ClusterManager)
		} else {
			c.Manager = p.redisManager(k)
		}
	}
	if fromFile != "" {
		c.Path = pathFromFile(fromFile)
		if c.Has("path") {
			if normalizePath(written) != c.Path {
				p.warnf(c.AttrPos("path"), e.name, "path", "ignored: a context descriptor's path comes from its file name (%s)", c.Path)
			}
			delete(c.attrs, "path")
		}
		if !c.Has("docBase") {
			c.DocBase = fromFile
		}
		return c
	}
	if !c.Has("path") {
		p.errorf(e.pos, e.name, "path", "required in server.xml (\"\" or \"/\" for ROOT, \"/name\" otherwise)")
		return nil
	}
	c.Path = normalizePath(written)
	if !c.Has("docBase") {
		c.DocBase = docBaseFromPath(c.Path)
	}
	return c
}

// pathFromFile maps a descriptor name to a context path: ROOT → "/",
// foo → "/foo", foo#bar → "/foo/bar".
func pathFromFile(base string) string {
	if base == "ROOT" {
		return "/"
	}
	return "/" + strings.ReplaceAll(base, "#", "/")
}

func docBaseFromPath(p string) string {
	if p == "/" {
		return "ROOT"
	}
	return strings.ReplaceAll(strings.TrimPrefix(p, "/"), "/", "#")
}

// normalizePath turns "" into "/" and keeps everything else as written, so
// that Validate can report a path that is malformed.
func normalizePath(p string) string {
	if p == "" {
		return "/"
	}
	return p
}

// validContextPath reports whether p is "/" or "/seg[/seg…]" with clean
// segments.
func validContextPath(p string) bool {
	if p == "/" {
		return true
	}
	return strings.HasPrefix(p, "/") && !strings.HasSuffix(p, "/") && path.Clean(p) == p &&
		!strings.ContainsAny(p, "#?;\\ ") && !strings.Contains(p, "/../") && !strings.HasSuffix(p, "/..")
}

// finish resolves what depends on more than one element.
func (s *Server) finish(p *parser) {
	for _, svc := range s.Services {
		if svc.Engine == nil {
			continue
		}
		eng := svc.Engine
		if eng.Cluster != nil {
			eng.Cluster.finishDeployer(p, eng.Host(eng.DefaultHost))
		}
		for _, h := range eng.Hosts {
			if h.Cluster != nil {
				h.Cluster.finishDeployer(p, h)
			}
		}
	}
}

// finishDeployer defaults deployDir to the served Host's appBase. A
// Cluster in an Engine serves the Engine's defaultHost (Tomcat's deployer
// only works in a Host; Gomcat makes the Engine case useful instead).
func (c *Cluster) finishDeployer(p *parser, h *Host) {
	d := c.Deployer
	if d == nil {
		return
	}
	if !d.Has("deployDir") {
		d.DeployDir = DefaultAppBase
		if h != nil {
			d.DeployDir = h.AppBase
		}
	}
	if h != nil && path.Clean(d.DeployDir) != path.Clean(h.AppBase) {
		p.warnf(d.AttrPos("deployDir"), "Deployer", "deployDir",
			"%q is not Host %q's appBase %q: bundles land there but the host deploys from its appBase", d.DeployDir, h.Name, h.AppBase)
	}
}
