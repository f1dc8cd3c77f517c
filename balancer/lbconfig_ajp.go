package balancer

import (
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"strings"
)

// AJPNode is one node for the AJP front ends (mod_jk, mod_proxy_ajp): its
// jvmRoute and AJP/1.3 connector.
type AJPNode struct {
	Name       string // jvmRoute: the mod_jk worker name and route, [A-Za-z0-9_-]+
	Addr       string // the AJP connector, "host:port" (or ajp://host:port)
	Secret     string // the connector's secret; "" = none
	PacketSize int    // the connector's packetSize; 0 = 8192
}

// genAJPNode is a validated AJPNode.
type genAJPNode struct {
	AJPNode
	Host, Port string
}

func checkAJPNodes(nodes []AJPNode, o GenOptions) ([]genAJPNode, error) {
	if len(nodes) == 0 {
		return nil, fmt.Errorf("%w: no nodes", ErrInvalidConfig)
	}
	seen := map[string]bool{o.Name: true, "jkstatus": true}
	var out []genAJPNode
	for _, n := range nodes {
		// mod_jk reads a '.' in a route as a domain separator.
		if !ValidRoute(n.Name) || strings.Contains(n.Name, ".") {
			return nil, fmt.Errorf("%w: node name %q: want [A-Za-z0-9_-]+", ErrInvalidConfig, n.Name)
		}
		if seen[n.Name] {
			return nil, fmt.Errorf("%w: node %q listed twice or clashes with the lb worker names %q, jkstatus", ErrInvalidConfig, n.Name, o.Name)
		}
		seen[n.Name] = true
		host, port, err := net.SplitHostPort(strings.TrimPrefix(n.Addr, "ajp://"))
		if p, perr := strconv.Atoi(port); err != nil || perr != nil || p < 1 || p > 65535 || host == "" {
			return nil, fmt.Errorf("%w: node %s: AJP address %q: want host:port", ErrInvalidConfig, n.Name, n.Addr)
		}
		if n.Secret != "" && !safeWord.MatchString(n.Secret) {
			return nil, fmt.Errorf("%w: node %s: the AJP secret must be [A-Za-z0-9._/+:@%%=-]+ to go into httpd's files unquoted", ErrInvalidConfig, n.Name)
		}
		if n.PacketSize != 0 && (n.PacketSize < 8192 || n.PacketSize > 65536) {
			return nil, fmt.Errorf("%w: node %s: packet size %d: want 8192..65536", ErrInvalidConfig, n.Name, n.PacketSize)
		}
		out = append(out, genAJPNode{AJPNode: n, Host: host, Port: port})
	}
	return out, nil
}

// ajpData is the template data of the AJP front ends.
func ajpData(nodes []genAJPNode, o GenOptions) lbData {
	names := make([]string, len(nodes))
	for i, n := range nodes {
		names[i] = n.Name
	}
	d := newLBData(o)
	d.AJPNodes, d.NodeList = nodes, strings.Join(names, ",")
	return d
}

// GenerateModJK writes the Apache httpd + mod_jk front end for nodes: a
// self-contained httpd.conf (mod_jk loaded, JkWorkersFile, JkShmFile,
// JkLogFile, JkMount /* on the lb worker) and the workers.properties it
// names (opts.WorkersFile): an lb worker (opts.Name) with one ajp13 worker
// per node, named and routed by the node's jvmRoute, sticky on the session
// cookie, with CPing probes (ping_mode=A) and the node's secret.
func GenerateModJK(nodes []AJPNode, opts GenOptions) (httpdConf, workers []byte, err error) {
	opts = opts.withDefaults("modjk")
	if opts.WorkersFile == "" {
		opts.WorkersFile = filepath.Join(opts.TmpDir, "workers.properties")
	}
	if opts.JkLogFile == "" {
		opts.JkLogFile = filepath.Join(filepath.Dir(opts.ErrorLog), "gomcat-modjk-jk.log")
	}
	if err := opts.validate(); err != nil {
		return nil, nil, err
	}
	for _, p := range []string{opts.WorkersFile, opts.JkLogFile} {
		if !filepath.IsAbs(p) || !safeWord.MatchString(p) {
			return nil, nil, fmt.Errorf("%w: %q: want an absolute path without spaces or quotes", ErrInvalidConfig, p)
		}
	}
	gn, err := checkAJPNodes(nodes, opts)
	if err != nil {
		return nil, nil, err
	}
	d := ajpData(gn, opts)
	if httpdConf, err = render("modjk-httpd.conf.tmpl", d); err != nil {
		return nil, nil, err
	}
	if workers, err = render("workers.properties.tmpl", d); err != nil {
		return nil, nil, err
	}
	return httpdConf, workers, nil
}

// GenerateHTTPDAJP writes a self-contained httpd.conf for Apache httpd 2.4
// with mod_proxy_balancer over mod_proxy_ajp (gomcat lbconfig httpd --ajp):
// ajp:// BalancerMembers with route= and secret=, CPing health checks,
// pooled connections kept (AJP's point).
func GenerateHTTPDAJP(nodes []AJPNode, opts GenOptions) ([]byte, error) {
	opts = opts.withDefaults("httpd")
	if err := opts.validate(); err != nil {
		return nil, err
	}
	gn, err := checkAJPNodes(nodes, opts)
	if err != nil {
		return nil, err
	}
	return render("httpd-ajp.conf.tmpl", ajpData(gn, opts))
}
