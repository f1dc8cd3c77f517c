package conf

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"regexp"
	"strings"
	"time"
)

// routePattern is what a jvmRoute may hold (it ends every session id and
// cookie, and the balancer routes by it).
var routePattern = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// ValidRoute reports whether r is a usable jvmRoute: [A-Za-z0-9_-]+.
func ValidRoute(r string) bool { return routePattern.MatchString(r) }

type validator struct{ errs []error }

// bad records a problem with attribute canon of n (or with n itself when
// canon is "").
func (v *validator) bad(n *Node, canon, f string, args ...any) {
	pos, name := n.Pos, ""
	if canon != "" {
		pos, name = n.AttrPos(canon), n.attrName(canon)
	}
	v.errs = append(v.errs, &Error{File: pos.File, Line: pos.Line, Element: n.Element, Attr: name, Msg: fmt.Sprintf(f, args...)})
}

// address checks a listen/bind address: an IP address or a host name.
func (v *validator) address(n *Node, canon, a string) {
	if a == "" || net.ParseIP(a) != nil || validHostname(a) {
		return
	}
	v.bad(n, canon, "%q is not an IP address or host name", a)
}

// advertise checks an advertise attribute: an IP (not unspecified) or
// IP:PORT.
func (v *validator) advertise(n *Node, a string) {
	if a != "" {
		if err := CheckAdvertise(a); err != nil {
			v.bad(n, "advertise", "%v", err)
		}
	}
}

// CheckAdvertise checks an advertised address: an IP literal peers can
// reach (not 0.0.0.0 or ::), optionally with a port ("IP:PORT",
// "[IPv6]:PORT").
func CheckAdvertise(a string) error {
	_, _, err := SplitAdvertise(a)
	return err
}

// SplitAdvertise splits an advertised address into its IP and its port
// (0 when it names none: the listener's own).
func SplitAdvertise(a string) (netip.Addr, int, error) {
	ip, err := netip.ParseAddr(a)
	port := 0
	if err != nil {
		ap, perr := netip.ParseAddrPort(a)
		if perr != nil || ap.Port() == 0 {
			return netip.Addr{}, 0, fmt.Errorf("%q is not an IP address or IP:PORT", a)
		}
		ip, port = ap.Addr(), int(ap.Port())
	}
	if ip.IsUnspecified() {
		return netip.Addr{}, 0, fmt.Errorf("%q is unspecified (advertise an address others can reach)", a)
	}
	return ip.Unmap(), port, nil
}

func validHostname(h string) bool {
	if len(h) > 253 {
		return false
	}
	for label := range strings.SplitSeq(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r == '-' || r == '_' || '0' <= r && r <= '9' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z') {
				return false
			}
		}
	}
	return true
}

// Validate checks the whole model and returns every problem as an
// errors.Join of *Error, each naming file, line, element and attribute:
// ports, addresses, jvmRoute (required with a cluster), multicast group,
// cluster key, durations and sizes, duplicate context paths and ports used
// twice. nil means the node can start with this configuration.
func (s *Server) Validate() error {
	v := &validator{}
	serverSpec.check(v, &s.Node, s)
	v.address(&s.Node, "address", s.Address)
	if s.Port != -1 && s.Shutdown == "" {
		v.bad(&s.Node, "shutdown", "empty (a command word, or port=\"-1\" to disable the shutdown port)")
	}
	switch len(s.Services) {
	case 0:
		v.bad(&s.Node, "", "no <Service> (Gomcat needs one Service with a Connector and an Engine)")
	case 1:
	default:
		v.bad(&s.Services[1].Node, "", "a second <Service> (Gomcat runs one Service per server)")
	}
	for _, svc := range s.Services {
		v.service(svc)
	}
	v.oneCluster(s)
	v.admin(s.Admin)
	v.ports(s)
	return errors.Join(v.errs...)
}

func (v *validator) service(svc *Service) {
	if len(svc.Connectors) == 0 && len(svc.AJPConnectors) == 0 {
		v.bad(&svc.Node, "", "no <Connector> (add <Connector port=\"8080\" protocol=\"HTTP/1.1\"/>)")
	}
	for _, c := range svc.Connectors {
		v.connector(c)
	}
	for _, c := range svc.AJPConnectors {
		v.ajpConnector(c)
	}
	if svc.Engine == nil {
		v.bad(&svc.Node, "", "no <Engine> (add <Engine name=\"Catalina\" defaultHost=\"localhost\">)")
		return
	}
	v.engine(svc.Engine)
}

func (v *validator) connector(c *Connector) {
	connectorSpec.check(v, &c.Node, c)
	v.address(&c.Node, "address", c.Address)
	v.advertise(&c.Node, c.Advertise)
	if c.Scheme != "http" && c.Scheme != "https" {
		v.bad(&c.Node, "scheme", "%q is not allowed (http or https)", c.Scheme)
	}
	if c.SSLEnabled {
		if c.CertificateFile == "" {
			v.bad(&c.Node, "certificateFile", "required with SSLEnabled=\"true\" (a PEM certificate chain)")
		}
		if c.CertificateKeyFile == "" {
			v.bad(&c.Node, "certificateKeyFile", "required with SSLEnabled=\"true\" (a PEM private key)")
		}
	}
}

func (v *validator) engine(e *Engine) {
	if e.Name == "" || strings.ContainsAny(e.Name, `/\`) {
		v.bad(&e.Node, "name", "%q is not allowed (a name usable as a directory, e.g. Catalina)", e.Name)
	}
	clustered := e.Cluster != nil
	for _, h := range e.Hosts {
		clustered = clustered || h.Cluster != nil
	}
	switch {
	case e.JvmRoute == "" && clustered:
		v.bad(&e.Node, "jvmRoute", "required with a <Cluster>: it names this member and ends its session ids (unique per node, letters, digits, '_' and '-'; or set GOMCAT_JVM_ROUTE)")
	case e.JvmRoute != "" && !ValidRoute(e.JvmRoute):
		v.bad(&e.Node, "jvmRoute", "%q is not allowed (letters, digits, '_' and '-')", e.JvmRoute)
	}
	if len(e.Hosts) == 0 {
		v.bad(&e.Node, "", "no <Host> (add <Host name=\"localhost\" appBase=\"webapps\">)")
	} else if e.Host(e.DefaultHost) == nil {
		v.bad(&e.Node, "defaultHost", "%q names no <Host> (hosts: %s)", e.DefaultHost, hostNames(e))
	}
	if e.Cluster != nil {
		v.cluster(e.Cluster)
	}
	seen := map[string]*Host{}
	for _, h := range e.Hosts {
		key := strings.ToLower(h.Name)
		if first, dup := seen[key]; dup {
			v.bad(&h.Node, "name", "%q is already used by the <Host> at %s", h.Name, first.Pos)
		}
		seen[key] = h
		v.host(h, e.Cluster != nil || h.Cluster != nil)
	}
}

func hostNames(e *Engine) string {
	var names []string
	for _, h := range e.Hosts {
		names = append(names, h.Name)
	}
	return strings.Join(names, ", ")
}

// host checks h; clustered says a <Cluster> serves its contexts.
func (v *validator) host(h *Host, clustered bool) {
	if h.Name == "" || !validHostname(h.Name) {
		v.bad(&h.Node, "name", "%q is not a host name", h.Name)
	}
	if h.AppBase == "" {
		v.bad(&h.Node, "appBase", "empty (a directory, relative to the home or absolute)")
	}
	seen := map[string]*Context{}
	for _, c := range h.Contexts {
		if !validContextPath(c.Path) {
			v.bad(&c.Node, "path", "%q is not a context path (\"\" or \"/\" for ROOT, else \"/name\" without a trailing slash)", c.Path)
		}
		if first, dup := seen[c.Path]; dup {
			v.bad(&c.Node, "path", "context path %q is already used by the <Context> at %s", c.Path, first.Pos)
		}
		seen[c.Path] = c
		if c.DocBase == "" {
			v.bad(&c.Node, "docBase", "empty (a directory or bundle under the Host's appBase)")
		}
		if c.Manager != nil {
			v.redisManager(c.Manager)
		}
		if m := c.ClusterManager; m != nil {
			v.manager(m)
			switch {
			case !clustered:
				v.bad(&m.Node, "className", "a %s needs a <Cluster> in the Host or the Engine (Tomcat: no cluster associated with the context)", m.ClassName)
			case !c.Distributable:
				v.bad(&m.Node, "className", "a %s replicates only a distributable context: set distributable=\"true\" on the <Context> (or leave out the <Manager>)", m.ClassName)
			}
		}
	}
	if h.Cluster != nil {
		v.cluster(h.Cluster)
	}
}

// redisManager checks the ranges and the rules between attributes;
// redismgr.Config.Validate checks the rest (the URL, host:port) at start.
func (v *validator) redisManager(m *RedisManager) {
	redisManagerSpec.check(v, &m.Node, m)
	n := 0
	for _, set := range []bool{m.Address != "", len(m.Sentinel) > 0, len(m.Cluster) > 0} {
		if set {
			n++
		}
	}
	if n != 1 {
		v.bad(&m.Node, "", "exactly one of address, sentinel and cluster is required (%d given)", n)
	}
	if len(m.Sentinel) > 0 && m.MasterName == "" {
		v.bad(&m.Node, "sentinel", "needs masterName (the master the Sentinels monitor)")
	}
	if len(m.Cluster) > 0 && m.Database > 0 {
		v.bad(&m.Node, "database", "%d: a Redis Cluster has only database 0", m.Database)
	}
}

func (v *validator) oneCluster(s *Server) {
	var first *Cluster
	for _, svc := range s.Services {
		if svc.Engine == nil {
			continue
		}
		all := []*Cluster{svc.Engine.Cluster}
		for _, h := range svc.Engine.Hosts {
			all = append(all, h.Cluster)
		}
		for _, c := range all {
			if c == nil {
				continue
			}
			if first != nil {
				v.bad(&c.Node, "", "a second <Cluster> (the first is at %s; a Gomcat node joins one cluster)", first.Pos)
				continue
			}
			first = c
		}
	}
}

// sendOptions checks send options Gomcat's transport can honour.
func (v *validator) sendOptions(n *Node, attr string, o int) {
	opts := o &^ SendByteMessage
	switch {
	case opts&(SendUDP|SendMulticast|SendSecure) != 0:
		v.bad(n, attr, "%d (%s) is not supported (async=8, use_ack=2, use_ack,sync=6)", o, FormatSendOptions(o))
	case opts&SendSyncAck != 0 && opts&SendUseAck == 0:
		v.bad(n, attr, "%d (%s): sync needs use_ack (use 6 = use_ack,sync)", o, FormatSendOptions(o))
	case opts == 0 || opts&^(SendUseAck|SendSyncAck|SendAsync) != 0:
		v.bad(n, attr, "%d is not supported (async=8, use_ack=2, use_ack,sync=6)", o)
	}
}

// manager checks a <Manager> of the Cluster or of a Context.
func (v *validator) manager(m *Manager) {
	if m.ClassName == BackupManager {
		v.sendOptions(&m.Node, "mapSendOptions", m.MapSendOptions)
	}
	managerSpec.check(v, &m.Node, m)
	if m.MaxActiveSessions == 0 || m.MaxActiveSessions < -1 {
		v.bad(&m.Node, "maxActiveSessions", "%d is not allowed (-1 for no limit, or a positive number)", m.MaxActiveSessions)
	}
}

func (v *validator) cluster(c *Cluster) {
	v.sendOptions(&c.Node, "channelSendOptions", c.ChannelSendOptions)
	clusterSpec.check(v, &c.Node, c)
	if c.Key != nil && !validKeyLen(len(c.Key)) {
		v.bad(&c.Node, "key", "%d bytes (16, 24 or 32 bytes: 32, 48 or 64 hex digits)", len(c.Key))
	}
	if c.Key != nil && c.KeyFile != "" {
		v.bad(&c.Node, "keyFile", "and a key are both set: give the cluster key once (keyFile is the one that can rotate)")
	}

	v.manager(&c.Manager)

	v.membership(&c.Membership)
	if c.Membership.ClassName == CloudMembershipService && len(c.Key) == 0 && c.KeyFile == "" {
		v.bad(&c.Membership.Node, "className", "CloudMembershipService needs a cluster key: the receiver's sealed greeting is what proves a listed address is a node of this cluster (<Cluster key=\"…\"> or keyFile, --cluster-key, GOMCAT_CLUSTER_KEY)")
	}

	r := &c.Receiver
	receiverSpec.check(v, &r.Node, r)
	if r.Port > 0 && r.Port+r.AutoBind-1 > 65535 {
		v.bad(&r.Node, "autoBind", "%d ports from %d run past 65535 (lower port or autoBind)", r.AutoBind, r.Port)
	}
	if r.Address != "auto" {
		v.address(&r.Node, "address", r.Address)
	}
	v.advertise(&r.Node, r.Advertise)

	t := &c.Sender.Transport
	transportSpec.check(v, &t.Node, t)

	if rv := c.ReplicationValve; rv != nil && rv.Filter != "" {
		if _, err := regexp.Compile("^(?:" + rv.Filter + ")$"); err != nil {
			v.bad(&rv.Node, "filter", "%q is not a regular expression Go accepts: %v (RE2 syntax: no look-arounds or back-references)", rv.Filter, err)
		}
	}
	if d := c.Deployer; d != nil {
		if d.TempDir == "" {
			v.bad(&d.Node, "tempDir", "empty (a directory for incoming bundles)")
		}
		if d.DeployDir == "" {
			v.bad(&d.Node, "deployDir", "empty (the Host's appBase)")
		}
		if d.WatchEnabled && d.WatchDir == "" {
			v.bad(&d.Node, "watchDir", "required with watchEnabled=\"true\" (the directory to watch for bundles)")
		}
		deployerSpec.check(v, &d.Node, d)
	}
}

func (v *validator) membership(m *Membership) {
	if m.ClassName == StaticMembershipService {
		if len(m.Members) == 0 {
			v.bad(&m.Node, "", "StaticMembershipService needs at least one nested <Member host=\"…\" port=\"…\"/>")
		}
		for _, sm := range m.Members {
			if sm.Host == "" {
				v.bad(&sm.Node, "host", "required (the member's IP address or host name)")
			} else {
				v.address(&sm.Node, "host", sm.Host)
			}
			staticMemberSpec.check(v, &sm.Node, sm)
		}
		membershipSpec.check(v, &m.Node, m)
		return
	}
	if ip := net.ParseIP(m.Address); ip == nil || ip.To4() == nil || !ip.IsMulticast() {
		v.bad(&m.Node, "address", "%q is not an IPv4 multicast address (224.0.0.0 to 239.255.255.255, e.g. 228.0.0.4)", m.Address)
	}
	if m.DropTime > 0 && m.Frequency > 0 && m.DropTime <= m.Frequency {
		v.bad(&m.Node, "dropTime", "%d ms is not longer than frequency %d ms (members would expire between heartbeats; Tomcat uses 3000 with 500)", m.DropTime/time.Millisecond, m.Frequency/time.Millisecond)
	}
	v.address(&m.Node, "bind", m.Bind)
	membershipSpec.check(v, &m.Node, m)
}

// ports reports a TCP port used twice among the shutdown port, the
// connectors and the cluster receiver (0 and -1 are never clashes).
func (v *validator) ports(s *Server) {
	type use struct {
		n    *Node
		what string
	}
	seen := map[int]use{}
	claim := func(port int, n *Node, what string) {
		if port <= 0 {
			return
		}
		if first, dup := seen[port]; dup {
			v.bad(n, "port", "%d is already used by the %s at %s", port, first.what, first.n.AttrPos("port"))
			return
		}
		seen[port] = use{n, what}
	}
	claim(s.Port, &s.Node, "shutdown port")
	if s.Admin != nil {
		claim(s.Admin.Port, &s.Admin.Node, "admin <Listener>")
	}
	for _, svc := range s.Services {
		for _, c := range svc.Connectors {
			claim(c.Port, &c.Node, "<Connector>")
		}
		for _, c := range svc.AJPConnectors {
			claim(c.Port, &c.Node, "AJP <Connector>")
		}
	}
	if c := s.Cluster(); c != nil {
		claim(c.Receiver.Port, &c.Receiver.Node, "<Receiver>")
	}
}
