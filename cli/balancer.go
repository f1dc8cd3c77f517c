package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"time"

	ucli "github.com/urfave/cli/v2"

	"github.com/gomcat/gomcat/balancer"
	"github.com/gomcat/gomcat/mcast"
	"github.com/gomcat/gomcat/runtime/node"
)

// balancerStopGrace bounds the graceful stop after SIGINT/SIGTERM: requests
// in flight may finish within it, then their connections are closed.
const balancerStopGrace = 30 * time.Second

func balancerCommand() *ucli.Command {
	def := balancer.DefaultConfig()
	return &ucli.Command{
		Name:      "balancer",
		Usage:     "run the sticky (or, --non-sticky, least-busy) front-end load balancer in the foreground",
		ArgsUsage: " ",
		Description: "Routes a request whose JSESSIONID (cookie or ;jsessionid=) ends in \".<jvmRoute>\" to that node\n" +
			"while it lives, anything else to the live node with the fewest requests in flight, and\n" +
			"fails over to another node when one dies (the node's JvmRouteBinderValve rebinds the session).\n" +
			"Nodes: --backend name=http://host:port (repeatable; health-checked with GET --health-path),\n" +
			"or --membership dns:NAME|kubernetes with --http-port (addresses from DNS or the pod list,\n" +
			"health-checked, each node's jvmRoute learned from the session cookies of its responses),\n" +
			"or else the cluster's heartbeats, heard by a silent observer: the group comes from --home's\n" +
			"server.xml (GOMCAT_* and the flags applied), else from what gomcat init writes\n" +
			"(228.0.0.4:45564 on 127.0.0.1). --admin serves /livez, /readyz, /metrics, /status and /members\n" +
			"(--admin '' turns it off). SIGINT/SIGTERM stop it gracefully.",
		Flags: append([]ucli.Flag{
			&ucli.StringFlag{Name: "listen", Value: def.Listen, Usage: "client-facing address"},
			&ucli.StringFlag{Name: "admin", Value: def.AdminListen, Usage: "admin address (/livez, /readyz, /status, /members); empty: none"},
			&ucli.StringSliceFlag{Name: "backend", Usage: "static node `name=http://host:port` (repeatable); without it nodes come from the membership"},
			&ucli.StringFlag{Name: "membership", Usage: "take node addresses from a provider: `dns:NAME`, dns:NAME@IP:PORT (that DNS server), dns ($DNS_MEMBERSHIP_SERVICE_NAME) or kubernetes"},
			&ucli.IntFlag{Name: "http-port", Usage: "with --membership: the nodes' HTTP connector port (an SRV record's port is the receiver's and is not used)"},
			&ucli.DurationFlag{Name: "refresh", Value: time.Second, Usage: "with --membership: how often the provider is asked"},
			homeFlag(),
			&ucli.StringFlag{Name: "mcast-address", Usage: "multicast group of the cluster membership"},
			&ucli.IntFlag{Name: "mcast-port", Usage: "multicast port of the cluster membership"},
			&ucli.StringFlag{Name: "mcast-bind", Usage: "address of the interface to listen on"},
			&ucli.IntFlag{Name: "mcast-ttl", Usage: "multicast TTL (the observer never sends; accepted for symmetry with start)"},
			&ucli.StringFlag{Name: "domain", Usage: "membership domain (members of other domains are ignored)"},
			&ucli.StringFlag{Name: "cluster-key", Usage: "hex cluster key, when the cluster is sealed"},
			&ucli.StringFlag{Name: "cluster-key-file", Usage: "cluster key file (gomcat keygen), when the cluster is sealed"},
			&ucli.BoolFlag{Name: "insecure-cluster", Usage: "listen to unsealed heartbeats off loopback (trusted networks only)"},
			&ucli.StringFlag{Name: "health-path", Value: def.Health.Path, Usage: "path checked with GET on every node (a status below 500 is healthy)"},
			&ucli.DurationFlag{Name: "health-interval", Value: def.Health.Interval, Usage: "time between two checks of one node"},
			&ucli.DurationFlag{Name: "connect-timeout", Value: def.ConnectTimeout, Usage: "TCP connect to a node"},
			&ucli.DurationFlag{Name: "response-timeout", Value: def.ResponseHeaderTimeout, Usage: "wait for a node's response headers (0: none)"},
			&ucli.IntFlag{Name: "max-conns-per-node", Value: def.MaxConnsPerNode, Usage: "concurrent connections to one node (0: no cap)"},
			&ucli.DurationFlag{Name: "queue-timeout", Value: def.QueueTimeout, Usage: "wait for a free connection to the node, then 503"},
			&ucli.IntFlag{Name: "max-connections", Value: def.MaxConnections, Usage: "open client connections (0: no cap); more wait in the backlog"},
			&ucli.BoolFlag{Name: "non-sticky", Usage: "ignore session routes: least requests in flight, round robin among ties (nodes sharing sessions in Redis)"},
			&ucli.BoolFlag{Name: "trust-forwarded", Usage: "keep clients' X-Forwarded-For/Forwarded and append (only behind a trusted proxy)"},
			&ucli.BoolFlag{Name: "access-log", Usage: "log one line per request"},
		}, logFlags()...),
		Action: runBalancer,
	}
}

func runBalancer(c *ucli.Context) error {
	if c.NArg() > 0 {
		return fmt.Errorf("balancer takes no arguments (got %q): nodes are given with --backend", c.Args().First())
	}
	log, err := newLogger(c, c.App.ErrWriter)
	if err != nil {
		return err
	}
	cfg := balancer.DefaultConfig()
	cfg.Listen, cfg.AdminListen = c.String("listen"), c.String("admin")
	cfg.Health.Path, cfg.Health.Interval = c.String("health-path"), c.Duration("health-interval")
	cfg.ConnectTimeout, cfg.ResponseHeaderTimeout = c.Duration("connect-timeout"), c.Duration("response-timeout")
	cfg.MaxConnsPerNode = c.Int("max-conns-per-node")
	cfg.QueueTimeout, cfg.MaxConnections = c.Duration("queue-timeout"), c.Int("max-connections")
	cfg.TrustForwarded, cfg.AccessLog = c.Bool("trust-forwarded"), c.Bool("access-log")
	cfg.NonSticky = c.Bool("non-sticky")
	cfg.Logger = log

	var obs *mcast.Observer
	if c.IsSet("membership") {
		if err := providerDiscovery(c, &cfg); err != nil {
			return err
		}
	} else if specs := c.StringSlice("backend"); len(specs) > 0 {
		for _, f := range []string{"home", "mcast-address", "mcast-port", "mcast-bind", "mcast-ttl", "domain", "cluster-key", "cluster-key-file", "insecure-cluster"} {
			// GOMCAT_HOME alone does not conflict: the static list wins.
			if c.IsSet(f) && !(f == "home" && os.Getenv("GOMCAT_HOME") != "") {
				return fmt.Errorf("--backend and --%s exclude each other: nodes are either static or heard from the membership", f)
			}
		}
		for _, s := range specs {
			be, err := balancer.ParseBackend(s)
			if err != nil {
				return fmt.Errorf("--backend: %w", err)
			}
			cfg.Backends = append(cfg.Backends, be)
		}
	} else {
		mc, err := observerConfig(c)
		if err != nil {
			return err
		}
		if err := observerKeyCheck(c, mc, log); err != nil {
			return err
		}
		if path := observerKeyFile(c); path != "" && mc.Keys != nil {
			// The nodes reload their key file; so does the balancer, or a
			// rotation would leave it unable to open their heartbeats.
			kctx, cancel := context.WithCancel(c.Context)
			done := make(chan struct{})
			go func() { defer close(done); node.WatchKeyFile(kctx, path, mc.Keys, log) }()
			defer func() { cancel(); <-done }()
		}
		mc.Logger = log
		obs, err = mcast.NewObserver(mc)
		if err != nil {
			return err
		}
		// Started here, not by discovery, so that a group the balancer
		// cannot join fails the command instead of leaving it without nodes.
		if err := obs.Start(c.Context); err != nil {
			return fmt.Errorf("cannot listen on %s (bind %q): %w", net.JoinHostPort(mc.Address, strconv.Itoa(mc.Port)), mc.Bind, err)
		}
		defer obs.Stop(context.WithoutCancel(c.Context))
		cfg.Discovery = balancer.Observe(started{obs})
		// Sealed heartbeats are facts; clear ones only claims, checked first.
		cfg.TrustDiscovery = len(mc.Key) > 0 || mc.Keys != nil
		log.Info().Str("group", net.JoinHostPort(mc.Address, strconv.Itoa(mc.Port))).Str("bind", mc.Bind).
			Str("domain", mc.Domain).Bool("sealed", len(mc.Key) > 0 || mc.Keys != nil).Msg("discovering nodes by their heartbeats")
	}

	b, err := balancer.New(cfg)
	if err != nil {
		return err
	}
	if err := b.Start(c.Context); err != nil {
		return fmt.Errorf("balancer: %w", err)
	}
	<-c.Context.Done()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.Context), balancerStopGrace)
	defer cancel()
	if err := b.Stop(ctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("balancer stop: %w", err)
	}
	return nil
}

// started is an Observer that the command has already started: discovery
// must not start it again (it still stops it).
type started struct{ *mcast.Observer }

func (started) Start(context.Context) error { return nil }

// providerDiscovery sets cfg up for `balancer --membership SPEC`: nodes
// at the provider's addresses on --http-port, routes learned from their
// responses.
func providerDiscovery(c *ucli.Context, cfg *balancer.Config) error {
	for _, f := range []string{"backend", "home", "mcast-address", "mcast-port", "mcast-bind", "mcast-ttl", "domain", "cluster-key", "cluster-key-file", "insecure-cluster"} {
		if c.IsSet(f) {
			return fmt.Errorf("--membership and --%s exclude each other: nodes come from the provider", f)
		}
	}
	port := c.Int("http-port")
	if port < 1 || port > 65535 {
		return errors.New("--membership needs --http-port: the nodes' HTTP connector port (DNS and the pod list give only addresses)")
	}
	if c.Duration("refresh") <= 0 {
		return errors.New("--refresh must be > 0")
	}
	p, err := membershipProvider(c.String("membership"), os.Getenv)
	if err != nil {
		return err
	}
	cfg.Discovery = balancer.Addresses(func(ctx context.Context) ([]string, error) {
		ts, err := p.Targets(ctx)
		if err != nil {
			return nil, err
		}
		out := make([]string, 0, len(ts))
		for _, t := range ts {
			out = append(out, net.JoinHostPort(t.Addr.String(), strconv.Itoa(port)))
		}
		return out, nil
	}, c.Duration("refresh"))
	cfg.LearnRoutes = true
	cfg.Logger.Info().Str("membership", p.String()).Int("http_port", port).Msg("discovering nodes through the membership provider")
	return nil
}
