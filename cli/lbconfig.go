package cli

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	ucli "github.com/urfave/cli/v2"

	"github.com/gomcat/gomcat/balancer"
	"github.com/gomcat/gomcat/conf"
	"github.com/gomcat/gomcat/mcast"
	"github.com/gomcat/gomcat/runtime/node"
)

func lbconfigCommand() *ucli.Command {
	flags := []ucli.Flag{
		&ucli.StringSliceFlag{Name: "home", Usage: "a node's home `DIR` (repeatable)"},
		&ucli.StringSliceFlag{Name: "node", Usage: "a node as `name=http://host:port` (repeatable)"},
		&ucli.BoolFlag{Name: "from-membership", Usage: "take the nodes from the cluster's heartbeats"},
		&ucli.DurationFlag{Name: "wait", Value: 3 * time.Second, Usage: "with --from-membership: how long to listen"},
		&ucli.StringFlag{Name: "mcast-address", Usage: "multicast group of the cluster membership"},
		&ucli.IntFlag{Name: "mcast-port", Usage: "multicast port of the cluster membership"},
		&ucli.StringFlag{Name: "mcast-bind", Usage: "address of the interface to listen on"},
		&ucli.StringFlag{Name: "domain", Usage: "membership domain (members of other domains are ignored)"},
		&ucli.StringFlag{Name: "cluster-key", Usage: "hex cluster key, when the cluster is sealed"},
		&ucli.StringFlag{Name: "listen", Value: "127.0.0.1:8080", Usage: "the front end's address (keepalived: the virtual server)"},
		&ucli.IntFlag{Name: "admin-port", Usage: "status page port on the listen host (0: none; not keepalived)"},
		&ucli.StringFlag{Name: "health-path", Value: "/", Usage: "path checked with GET on every node"},
		&ucli.StringFlag{Name: "pid-file", Usage: "the front end's pid file (default /run/gomcat-KIND.pid)"},
		&ucli.StringFlag{Name: "error-log", Usage: "error log of nginx/httpd (default /var/log/gomcat-KIND-error.log)"},
		&ucli.StringFlag{Name: "access-log", Usage: "access log of nginx/httpd (default: none)"},
		&ucli.StringFlag{Name: "tmp-dir", Usage: "runtime/temp directory (default /tmp/gomcat-KIND)"},
		&ucli.StringFlag{Name: "user", Usage: "user the nginx/httpd workers run as when started by root"},
		&ucli.StringFlag{Name: "group", Usage: "group the nginx/httpd workers run as when started by root"},
		&ucli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write the config to `FILE` instead of stdout"},
	}
	flags = append(flags, ajpLBFlags...) // lbconfig_ajp.go
	kinds := []struct{ name, alias, usage, check string }{
		{"haproxy", "", "HAProxy: use-server on the cookie's route, health checks, redispatch", "haproxy -c -f FILE"},
		{"nginx", "", "nginx: a map on the cookie's route to per-node upstreams, each with the others as backup", "nginx -t -c FILE"},
		{"httpd", "apache", "Apache httpd mod_proxy_balancer: route= and stickysession=JSESSIONID|jsessionid", "apache2 -t -f FILE"},
		{"keepalived", "lvs", "keepalived/LVS virtual_server: layer 4, persistence by client IP (no cookies)", "keepalived -t -f FILE"},
		{"modjk", "", "Apache httpd mod_jk: workers.properties (lb worker, one ajp13 worker per jvmRoute) and httpd.conf", "apache2 -t -f FILE"},
	}
	var subs []*ucli.Command
	for _, k := range kinds {
		sub := &ucli.Command{
			Name:      k.name,
			Usage:     k.usage,
			ArgsUsage: " ",
			Description: "Check the result with: " + k.check + "\n" +
				"(gomcat lbconfig --help says where the nodes come from.)",
			Flags:  flags,
			Action: func(c *ucli.Context) error { return runLBConfig(c, k.name) },
		}
		if k.alias != "" {
			sub.Aliases = []string{k.alias}
		}
		subs = append(subs, sub)
	}
	return &ucli.Command{
		Name:      "lbconfig",
		Usage:     "write an HAProxy, nginx, Apache httpd (mod_proxy or mod_jk) or keepalived config for the cluster's nodes",
		ArgsUsage: "haproxy|nginx|httpd|keepalived|modjk [flags]",
		Description: "gomcat lbconfig KIND [--home DIR ...] [--node name=http://host:port ...] [-o FILE]\n\n" +
			"Nodes come from the nodes' homes (--home, repeatable: the name is the Engine's jvmRoute, the\n" +
			"URL the first Connector's address and port; an empty or 0.0.0.0 address becomes the\n" +
			"cluster's receiver or multicast bind address when it names one, else 127.0.0.1;\n" +
			"GOMCAT_* variables are not applied), from --node name=http://host:port (repeatable), or\n" +
			"with --from-membership from the heartbeats heard during --wait (group from one --home's\n" +
			"server.xml or the flags, else what gomcat init writes). The config routes a session whose\n" +
			"id ends in \".<jvmRoute>\" to that node while it is up and fails over otherwise; keepalived\n" +
			"(LVS) works at layer 4 and keeps a client on one node by its IP address only.",
		Subcommands: subs,
		Action: func(c *ucli.Context) error {
			if c.NArg() > 0 {
				return fmt.Errorf("lbconfig: unknown kind %q: want one of %s", c.Args().First(), strings.Join(balancer.Kinds, ", "))
			}
			return fmt.Errorf("lbconfig needs a kind: %s (gomcat lbconfig --help)", strings.Join(balancer.Kinds, ", "))
		},
	}
}

func runLBConfig(c *ucli.Context, kind string) error {
	if c.NArg() > 0 {
		return fmt.Errorf("lbconfig %s takes no arguments (got %q): nodes are given with --home or --node", kind, c.Args().First())
	}
	if kind == "modjk" || c.Bool("ajp") {
		return runLBConfigAJP(c, kind)
	}
	homes, specs := c.StringSlice("home"), c.StringSlice("node")
	var nodes []balancer.NodeInfo
	if c.Bool("from-membership") {
		if len(specs) > 0 || len(homes) > 1 {
			return errors.New("--from-membership takes the nodes from the heartbeats: no --node, and at most one --home (for the group)")
		}
		ns, err := membershipNodes(c, homes)
		if err != nil {
			return err
		}
		nodes = ns
	} else {
		if len(homes) == 0 && len(specs) == 0 {
			return errors.New("no nodes: pass --home DIR (repeatable), --node name=http://host:port, or --from-membership")
		}
		for _, h := range homes {
			n, err := homeNode(h)
			if err != nil {
				return err
			}
			nodes = append(nodes, n)
		}
		for _, s := range specs {
			be, err := balancer.ParseBackend(s)
			if err != nil {
				return fmt.Errorf("--node: %w", err)
			}
			nodes = append(nodes, balancer.NodeInfo{Name: be.Name, HTTPURL: be.URL})
		}
	}
	opts, err := lbGenOptions(c)
	if err != nil {
		return err
	}
	out, err := balancer.Generate(kind, nodes, opts)
	if err != nil {
		return err
	}
	file := c.String("output")
	if file == "" {
		_, err := c.App.Writer.Write(out)
		return err
	}
	if err := os.WriteFile(file, out, 0o644); err != nil {
		return err
	}
	var list []string
	for _, n := range nodes {
		list = append(list, n.Name+"="+n.HTTPURL)
	}
	fmt.Fprintf(c.App.ErrWriter, "wrote %s (%s) for %s\n", file, kind, strings.Join(list, ", "))
	return nil
}

// lbGenOptions reads the front end's settings from the flags (paths made
// absolute).
func lbGenOptions(c *ucli.Context) (balancer.GenOptions, error) {
	opts := balancer.GenOptions{
		Listen:     c.String("listen"),
		AdminPort:  c.Int("admin-port"),
		HealthPath: c.String("health-path"),
		PidFile:    c.String("pid-file"),
		ErrorLog:   c.String("error-log"),
		AccessLog:  c.String("access-log"),
		TmpDir:     c.String("tmp-dir"),
		User:       c.String("user"),
		Group:      c.String("group"),
	}
	for _, p := range []*string{&opts.PidFile, &opts.ErrorLog, &opts.AccessLog, &opts.TmpDir} {
		if *p != "" {
			abs, err := filepath.Abs(*p)
			if err != nil {
				return opts, err
			}
			*p = abs
		}
	}
	return opts, nil
}

// homeNode reads a node's name and HTTP address from its home's files.
func homeNode(dir string) (balancer.NodeInfo, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return balancer.NodeInfo{}, err
	}
	s, _, err := conf.Load(dir)
	if err == nil {
		err = s.Validate()
	}
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) && s == nil {
			return balancer.NodeInfo{}, fmt.Errorf("%s has no conf/server.xml (create a home with: gomcat init --home %s)", dir, dir)
		}
		return balancer.NodeInfo{}, fmt.Errorf("%s: %s (gomcat configtest --home %s shows every problem)", dir, strings.Join(problems(err), "; "), dir)
	}
	e, conn := s.Engine(), s.Connector()
	if e == nil || e.JvmRoute == "" {
		return balancer.NodeInfo{}, fmt.Errorf("%s: the Engine has no jvmRoute, so its session ids carry no route to stick to", dir)
	}
	if conn == nil {
		return balancer.NodeInfo{}, fmt.Errorf("%s: no HTTP Connector", dir)
	}
	if conn.SSLEnabled {
		return balancer.NodeInfo{}, fmt.Errorf("%s: the first Connector speaks TLS; the generated configs reach nodes over plain HTTP", dir)
	}
	port := conn.Port
	if port == 0 { // chosen at start: only the running node knows it
		ri, err := node.ReadRunInfo(dir)
		if err != nil || len(ri.URLs) == 0 {
			return balancer.NodeInfo{}, fmt.Errorf("%s: the Connector's port is 0 (picked at start) and the node is not running: pass --node %s=http://HOST:PORT", dir, e.JvmRoute)
		}
		u, err := url.Parse(ri.URLs[0])
		if err != nil || u.Port() == "" {
			return balancer.NodeInfo{}, fmt.Errorf("%s: run info URL %q: want http://host:port", dir, ri.URLs[0])
		}
		port, _ = strconv.Atoi(u.Port())
	}
	host := reachableHost(s)
	if ip, p, err := conf.SplitAdvertise(conn.Advertise); err == nil { // what the node tells balancers
		host, port = ip.String(), cmp.Or(p, port)
	}
	return balancer.NodeInfo{
		Name:    e.JvmRoute,
		HTTPURL: "http://" + net.JoinHostPort(host, strconv.Itoa(port)),
	}, nil
}

// reachableHost is the host a front end reaches s's first Connector at: its
// address when it names one; for a connector on all interfaces, the address
// the cluster's receiver or multicast membership is bound to (what the node
// advertises in its heartbeats), else 127.0.0.1 (the one-machine tour).
func reachableHost(s *conf.Server) string {
	specific := func(a string) bool {
		if a == "" || a == "auto" {
			return false
		}
		ip := net.ParseIP(a)
		return ip == nil || !ip.IsUnspecified() // a host name, or a unicast IP
	}
	if a := s.Connector().Address; specific(a) {
		return a
	}
	if cl := s.Cluster(); cl != nil {
		if a := cl.Receiver.Address; specific(a) {
			return a
		}
		if a := cl.Membership.Bind; cl.Membership.ClassName == conf.McastService && net.ParseIP(a) != nil && specific(a) {
			return a
		}
	}
	return "127.0.0.1"
}

// membershipNodes listens to the cluster's heartbeats for --wait and
// returns the usable members (Gomcat nodes with an HTTP URL), oldest first.
func membershipNodes(c *ucli.Context, homes []string) ([]balancer.NodeInfo, error) {
	// observerConfig reads --home as one directory; here --home is a list.
	fset := flag.NewFlagSet(c.Command.Name, flag.ContinueOnError)
	one := ""
	if len(homes) == 1 {
		one = homes[0]
	}
	fset.String("home", one, "")
	cfg, err := observerConfig(ucli.NewContext(c.App, fset, c))
	if err != nil {
		return nil, err
	}
	obs, err := mcast.NewObserver(cfg)
	if err != nil {
		return nil, err
	}
	if err := obs.Start(c.Context); err != nil {
		return nil, fmt.Errorf("cannot listen on %s (bind %q): %w", net.JoinHostPort(cfg.Address, strconv.Itoa(cfg.Port)), cfg.Bind, err)
	}
	defer obs.Stop(context.WithoutCancel(c.Context))
	if !sleepCtx(c.Context, c.Duration("wait")) {
		return nil, c.Context.Err()
	}
	nodes := balancer.NodesOf(obs.Members())
	if len(nodes) == 0 {
		return nil, fmt.Errorf("no Gomcat node heard on %s (bind %q, domain %q) within %s: check the group, --mcast-bind and --cluster-key (gomcat members shows what is heard)",
			net.JoinHostPort(cfg.Address, strconv.Itoa(cfg.Port)), cfg.Bind, cfg.Domain, c.Duration("wait"))
	}
	return nodes, nil
}
