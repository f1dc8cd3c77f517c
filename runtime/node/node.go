package node

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/gomcat/gomcat/conf"
	"github.com/gomcat/gomcat/farmdeploy"
	"github.com/gomcat/gomcat/runtime/cluster"
	"github.com/gomcat/gomcat/runtime/host"
	"github.com/gomcat/gomcat/runtime/lifecycle"
)

// Node is one Gomcat server: the Engine's hosts and their contexts, the
// HTTP connectors and the shutdown port, built from a conf.Server.
type Node struct {
	cfg    Config
	log    zerolog.Logger
	engine *host.Engine
	hosts  []*host.Host
	conns  []*host.Connector
	ajps   []*host.AJPConnector
	sd     *shutdownPort // nil when the port is -1
	clus   *clusterPart  // nil without a <Cluster>
	admin  *adminPart    // nil without an admin <Listener> (admin.go)
	pid    *pidFile

	mu       sync.Mutex
	group    *lifecycle.Group
	started  bool
	stopped  bool
	stopErr  error
	stopDone chan struct{}
	shutdown chan struct{} // closed by a valid shutdown command
	shutOnce sync.Once
	waiters  []net.Conn // shutdown-port connections told "stopped" at the end of Stop
}

// New builds every part from cfg.Server. It validates and allocates only:
// no sockets, no goroutines.
func New(cfg Config) (*Node, error) {
	cfg.fill()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	n := &Node{cfg: cfg, stopDone: make(chan struct{}), shutdown: make(chan struct{})}
	n.log = cfg.Logger
	s := cfg.Server
	eng := s.Engine()
	if s.Cluster() != nil {
		var only *conf.Host // a Host-level Cluster serves that Host only
		if eng.Cluster == nil {
			only = s.ClusterHost()
		}
		cp, err := newClusterPart(s, only, n.abs, n.log)
		if err != nil {
			return nil, err
		}
		n.clus = cp
	}
	for _, ch := range eng.Hosts {
		hc, err := n.hostConfig(eng, ch)
		if err != nil {
			return nil, err
		}
		h, err := host.New(hc)
		if err != nil {
			return nil, fmt.Errorf("node: Host %s: %w", ch.Name, err)
		}
		n.hosts = append(n.hosts, h)
		if n.clus != nil && ch == s.ClusterHost() {
			n.clus.farmHost, n.clus.farmAppBase = h, hc.AppBase
		}
	}
	e, err := host.NewEngine(eng.DefaultHost, n.hosts...)
	if err != nil {
		return nil, err
	}
	n.engine = e
	n.admin = n.newAdminPart()
	if n.admin != nil && n.clus != nil {
		n.clus.ack = n.admin.ack
	}
	var handler http.Handler = e
	if n.admin != nil {
		handler = n.admin.http.Wrap(e)
	}
	for _, cc := range s.Service().Connectors {
		c, err := host.NewConnector(host.ConnectorConfig{
			Address: cc.Address, Port: cc.Port,
			ConnectionTimeout: cc.ConnectionTimeout, KeepAliveTimeout: cc.KeepAliveTimeout,
			MaxThreads: cc.MaxThreads, MaxHeaderBytes: cc.MaxHTTPHeaderSize,
			MaxConnections: cc.MaxConnections, MaxHeaderCount: cc.MaxHeaderCount,
			UploadTimeout: uploadTimeout(cc), MinUploadRate: minUploadRate(cc),
			CertFile: n.abs(cc.CertificateFile), KeyFile: n.abs(cc.CertificateKeyFile),
			ShutdownGrace: cfg.ShutdownGrace, Handler: handler, Logger: n.log,
		})
		if err != nil {
			return nil, err
		}
		n.conns = append(n.conns, c)
	}
	if n.ajps, err = n.newAJPConnectors(s.Service(), e); err != nil {
		return nil, err
	}
	if s.Port != -1 {
		addr, err := loopbackAddr(s.Address)
		if err != nil {
			return nil, err
		}
		n.sd = &shutdownPort{addr: addr, port: s.Port, command: s.Shutdown, timeout: cfg.ShutdownReadTimeout,
			log: n.log.With().Str("component", "server").Logger(), fire: n.shutdownCommand}
	}
	n.pid = &pidFile{path: filepath.Join(cfg.Home, "logs", PIDFile), home: cfg.Home, log: n.log, ports: n.heldPorts}
	n.group = n.buildGroup()
	return n, nil
}

// abs resolves p against the home ("" stays "").
func (n *Node) abs(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(n.cfg.Home, p)
}

// buildGroup lists the parts in start order: work dirs, the pid file
// (refusing a home a live process holds), every listening socket bound
// but not yet serving (connectors, shutdown port), the cluster (receiver
// bound, then membership: the node announces itself only now, so a port
// in use fails before any peer or balancer sees it), the hosts (contexts
// and session managers: a DeltaManager's state transfer blocks here), the
// farm deployer, the connectors serving, the first connector's address
// handed to the cluster (SetHTTPURL: balancers route to a member only once
// it advertises a URL, i.e. once its connector is open), then the shutdown
// port accepting. Stop runs it backwards.
//
// The farm deployer starts after the hosts, not before them as in Tomcat:
// unlike Tomcat's, it installs at start (bundles members pushed while this
// node was down), and installing needs a running Host.
func (n *Node) buildGroup() *lifecycle.Group {
	steps := []lifecycle.Step{
		{Name: "directories", Component: lifecycle.Funcs{OnStart: n.makeDirs}},
		{Name: "pid file", Component: lifecycle.Funcs{OnStart: n.pid.write, OnStop: n.pid.remove}},
	}
	if n.admin != nil {
		steps = append(steps, n.adminStep())
	}
	for i, c := range n.conns {
		steps = append(steps, lifecycle.Step{Name: fmt.Sprintf("bind Connector %d", i), Component: lifecycle.Funcs{OnStart: c.Listen, OnStop: c.Stop}})
	}
	for i, c := range n.ajps {
		steps = append(steps, lifecycle.Step{Name: fmt.Sprintf("bind AJP Connector %d", i), Component: lifecycle.Funcs{OnStart: c.Listen, OnStop: c.Stop}})
	}
	if n.sd != nil {
		steps = append(steps, lifecycle.Step{Name: "bind shutdown port", Component: lifecycle.Funcs{
			OnStart: n.sd.listen,
			OnStop:  func(context.Context) error { n.sd.stop(); return nil },
		}})
	}
	if n.clus != nil {
		steps = append(steps, lifecycle.Step{Name: "cluster", Component: n.clus})
	}
	for _, h := range n.hosts {
		steps = append(steps, lifecycle.Step{Name: "Host " + h.Name(), Component: h})
	}
	if n.clus != nil && n.clus.conf.Deployer != nil {
		steps = append(steps, lifecycle.Step{Name: "farm deployer", Component: n.clus.farmStep()})
	}
	for i, c := range n.conns {
		steps = append(steps, lifecycle.Step{Name: fmt.Sprintf("Connector %d", i), Component: c})
	}
	for i, c := range n.ajps {
		steps = append(steps, lifecycle.Step{Name: fmt.Sprintf("AJP Connector %d", i), Component: c})
	}
	if n.clus != nil && len(n.conns) > 0 {
		steps = append(steps, lifecycle.Step{Name: "cluster HTTP URL", Component: lifecycle.Funcs{
			OnStart: func(context.Context) error { return n.clus.advertiseConnector(n.conns[0]) },
		}})
	}
	if n.sd != nil {
		steps = append(steps, lifecycle.Step{Name: "shutdown port", Component: lifecycle.Funcs{
			OnStart: n.sd.serve,
			OnStop:  func(context.Context) error { n.sd.stop(); return nil },
		}})
	}
	if n.admin != nil {
		steps = append(steps, n.readyStep())
	}
	return lifecycle.NewGroup(steps...)
}

// makeDirs creates the home's logs, work and temp directories and the farm
// deployer's (its deployDir is the cluster host's appBase, which the host
// reads before the deployer starts).
func (n *Node) makeDirs(context.Context) error {
	dirs := []string{"logs", "work", "temp"}
	if n.clus != nil && n.clus.conf.Deployer != nil {
		d := n.clus.conf.Deployer
		dirs = append(dirs, d.TempDir, d.DeployDir, d.WatchDir)
	}
	for _, d := range dirs {
		if d == "" {
			continue
		}
		if err := os.MkdirAll(n.abs(d), 0o755); err != nil {
			return err
		}
	}
	return nil
}

// Start starts every part in order and logs "Server startup in N ms". On
// failure the parts already started are stopped and the error names the
// part ("Connector port 8091 on 127.0.0.1: address already in use").
func (n *Node) Start(ctx context.Context) error {
	n.mu.Lock()
	if n.stopped {
		n.mu.Unlock()
		return ErrStopped
	}
	if n.started {
		n.mu.Unlock()
		return nil
	}
	n.started = true
	n.mu.Unlock()
	began := time.Now()
	eng := n.cfg.Server.Engine()
	n.log.Info().Str("home", n.cfg.Home).Str("jvm_route", eng.JvmRoute).Int("pid", os.Getpid()).Msgf("Starting service [%s]", n.cfg.Server.Service().Name)
	if err := n.group.Start(ctx); err != nil {
		return unwrapStep(err)
	}
	n.writeRunInfo()
	n.log.Info().Strs("urls", n.URLs()).Msgf("Server startup in %d ms", time.Since(began).Milliseconds())
	return nil
}

// unwrapStep drops the lifecycle "start X: " prefix when the cause already
// names its element (a *host.ListenError, a *HomeInUseError).
func unwrapStep(err error) error {
	var le *host.ListenError
	if errors.As(err, &le) {
		return le
	}
	var he *HomeInUseError
	if errors.As(err, &he) {
		return he
	}
	return err
}

// Stop stops the parts in reverse order: the shutdown port, the connectors
// (in-flight requests drain for up to ShutdownGrace), the hosts (contexts
// in reverse deployment order), the cluster. Idempotent; concurrent calls
// wait for the first.
func (n *Node) Stop(ctx context.Context) error {
	n.mu.Lock()
	if n.stopped {
		n.mu.Unlock()
		<-n.stopDone
		return n.stopErr
	}
	n.stopped = true
	n.mu.Unlock()
	began := time.Now()
	n.log.Info().Msgf("Stopping service [%s]", n.cfg.Server.Service().Name)
	n.removeRunInfo()
	err := n.group.Stop(ctx)
	n.stopErr = err
	n.log.Info().Msgf("Server stopped in %d ms", time.Since(began).Milliseconds())
	close(n.stopDone)
	n.releaseWaiters()
	return err
}

// shutdownCommand is the shutdown port's fire: c sent the valid command and
// waits to hear that the node stopped.
func (n *Node) shutdownCommand(c net.Conn) {
	n.mu.Lock()
	done := n.isStopDone()
	if !done {
		n.waiters = append(n.waiters, c)
	}
	n.mu.Unlock()
	if done {
		tellStopped(c)
	}
	n.requestShutdown()
}

func (n *Node) isStopDone() bool {
	select {
	case <-n.stopDone:
		return true
	default:
		return false
	}
}

// releaseWaiters answers the `gomcat stop` clients waiting on the shutdown
// port: "stopped", then close. With Config.OwnsProcess the connections are
// left to the process exit, which closes them: the client then knows the
// process is gone, not only the node.
func (n *Node) releaseWaiters() {
	n.mu.Lock()
	ws := n.waiters
	n.waiters = nil
	n.mu.Unlock()
	if n.cfg.OwnsProcess {
		return
	}
	for _, c := range ws {
		tellStopped(c)
	}
}

// StoppedReply is what the shutdown port answers, once the node has
// stopped, on the connection that sent the valid command (unless the node
// owns its process: then the exit closes the connection).
const StoppedReply = "stopped"

func tellStopped(c net.Conn) {
	_ = c.SetWriteDeadline(time.Now().Add(time.Second))
	_, _ = c.Write([]byte(StoppedReply + "\n"))
	_ = c.Close()
}

// Run starts the node, waits until ctx ends or a valid command arrives on
// the shutdown port, and stops it (bounded by ShutdownGrace plus the
// contexts' drain). The caller turns signals into ctx cancellation.
func (n *Node) Run(ctx context.Context) error {
	if err := n.Start(ctx); err != nil {
		return err
	}
	select {
	case <-ctx.Done():
		n.log.Info().Msg("stop requested by signal")
	case <-n.shutdown:
	}
	return n.Stop(context.WithoutCancel(ctx))
}

// Shutdown is closed when a valid shutdown command has been received.
func (n *Node) Shutdown() <-chan struct{} { return n.shutdown }

func (n *Node) requestShutdown() { n.shutOnce.Do(func() { close(n.shutdown) }) }

// URLs are the base URLs of the started connectors.
func (n *Node) URLs() []string {
	var out []string
	for _, c := range n.conns {
		if u := c.URL(); u != "" {
			out = append(out, u)
		}
	}
	return out
}

// ShutdownAddr is the bound shutdown port, or nil (disabled / not started).
func (n *Node) ShutdownAddr() net.Addr { return n.sd.Addr() }

// Hosts returns the node's hosts (for status pages and the farm deployer).
func (n *Node) Hosts() []*host.Host { return n.hosts }

// Handler is the Engine: every host, routed by the Host header.
func (n *Node) Handler() *host.Engine { return n.engine }

// Cluster is the running SimpleTcpCluster (members, stats), or nil: the
// node has no <Cluster>, or it has not started yet.
func (n *Node) Cluster() *cluster.Cluster {
	if n.clus == nil {
		return nil
	}
	return n.clus.cluster()
}

// Farm is the running farm deployer, or nil (no <Deployer>, not started).
func (n *Node) Farm() *farmdeploy.Deployer {
	if n.clus == nil {
		return nil
	}
	return n.clus.farm.Load()
}

// PIDFile is the path of the node's pid file (home/logs/gomcat.pid).
func (n *Node) PIDFile() string { return n.pid.path }
