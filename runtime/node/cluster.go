package node

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"github.com/gomcat/gomcat/backupmgr"
	"github.com/gomcat/gomcat/conf"
	"github.com/gomcat/gomcat/deltamgr"
	"github.com/gomcat/gomcat/farmdeploy"
	"github.com/gomcat/gomcat/internal/seal"
	"github.com/gomcat/gomcat/runtime/cluster"
	"github.com/gomcat/gomcat/runtime/host"
	"github.com/gomcat/gomcat/runtime/lifecycle"
	"github.com/gomcat/gomcat/runtime/session"
	"github.com/gomcat/gomcat/transport"
)

// The cluster's ports satisfy the interfaces the consumers declare.
var (
	_ deltamgr.Cluster     = (*cluster.Port)(nil)
	_ farmdeploy.Cluster   = (*cluster.Port)(nil)
	_ farmdeploy.Installer = (*host.Host)(nil)
)

// clusterPart is a <Cluster> at run time: the SimpleTcpCluster, the node's
// one deltamgr.Router (channel 1), its one backupmgr.Router (channel 4)
// and, with a <Deployer>, the farm deployer (channel 2). The cluster and the deployer are built by their Start (the
// advertised addresses are resolved then, not in New).
type clusterPart struct {
	srv    *conf.Server
	conf   *conf.Cluster
	host   *conf.Host // the Host the cluster serves; nil = every Host (Engine-level)
	log    zerolog.Logger
	router *deltamgr.Router
	maps   *backupmgr.Router // BackupManager's map messages
	abs    func(string) string

	farmHost    *host.Host // the Installer of the farm deployer; set by New
	farmAppBase string     // its appBase (absolute)

	ack        ackObserver    // times waited-for session sends; nil without admin (admin.go)
	keys       *seal.Ring     // the cluster keys (nil: none); a keyFile reloads into it
	stopKeys   func()         // stops the key file watcher; nil if none
	keyWatcher sync.WaitGroup // the key file watcher

	mu   sync.Mutex // guards cl
	cl   *cluster.Cluster
	farm atomic.Pointer[farmdeploy.Deployer]
}

func newClusterPart(s *conf.Server, h *conf.Host, abs func(string) string, log zerolog.Logger) (*clusterPart, error) {
	c := &clusterPart{srv: s, conf: s.Cluster(), host: h, log: log, abs: abs, router: deltamgr.NewRouter(log), maps: backupmgr.NewRouter(log)}
	// Check what can be checked without I/O; addresses resolve at Start.
	cfg, err := clusterConfig(context.Background(), s, false, log)
	if err == nil {
		err = cfg.Validate()
	}
	if err != nil {
		return nil, fmt.Errorf("node: Cluster: %w", err)
	}
	if err := CheckClusterKey(s); err != nil {
		return nil, err
	}
	if c.keys, err = clusterKeys(c.conf, abs); err != nil {
		return nil, err
	}
	return c, nil
}

// covers reports whether the cluster serves h's distributable contexts.
// An Engine-level Cluster covers every Host.
func (c *clusterPart) covers(h *conf.Host) bool {
	return c.host == nil || c.host == h
}

// Start builds the cluster from the model, registers the session router
// and the farm deployer's inbound side, and starts it: "Cluster is about to
// start", the receiver, the membership, the establish wait.
func (c *clusterPart) Start(ctx context.Context) error {
	cfg, err := clusterConfig(ctx, c.srv, true, c.log)
	if err != nil {
		return err
	}
	// The first heartbeats carry no HTTP URL: a balancer routes to a member
	// only once it advertises one, which advertiseConnector does when the
	// connector serves (after the state transfer).
	cfg.HTTPURL = ""
	cfg.Keys = c.keys
	if c.conf.Insecure && c.keys == nil {
		if exp := clusterExposure(c.conf); len(exp) > 0 {
			c.log.Warn().Strs("exposed", exp).Msg("the cluster runs WITHOUT a key by explicit opt-in (insecure): " +
				"anyone on its network can join it, read and forge sessions and deploy bundles; make a key with gomcat keygen")
		}
	}
	if c.keys != nil && c.conf.KeyFile != "" {
		w := newKeyWatcher(c.abs(c.conf.KeyFile), c.keys, c.log)
		kctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		c.stopKeys = cancel
		c.keyWatcher.Go(func() { w.run(kctx) })
	}
	cl, err := cluster.New(cfg)
	if err != nil {
		return err
	}
	cl.Handle(transport.ChannelSessions, c.router.Deliver)
	cl.Handle(transport.ChannelFarm, c.deliverFarm)
	cl.Handle(transport.ChannelBackup, c.maps.Deliver)
	c.router.Bind(cl.Port(transport.ChannelSessions))
	c.maps.Bind(cl.Port(transport.ChannelBackup))
	c.mu.Lock()
	c.cl = cl
	c.mu.Unlock()
	if err := cl.Start(ctx); err != nil {
		_ = cl.Stop(context.WithoutCancel(ctx))
		if errors.Is(err, syscall.EADDRINUSE) { // bound before the membership starts
			return fmt.Errorf("Receiver: %w", err)
		}
		return err
	}
	return nil
}

// Stop stops the cluster: the goodbye heartbeat first, then the transport.
func (c *clusterPart) Stop(ctx context.Context) error {
	if c.stopKeys != nil {
		c.stopKeys()
		c.keyWatcher.Wait()
	}
	cl := c.cluster()
	if cl == nil {
		return nil
	}
	return cl.Stop(ctx)
}

// cluster is the running cluster (nil before Start).
func (c *clusterPart) cluster() *cluster.Cluster {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cl
}

// deliverFarm hands farm messages to the deployer once it exists; before
// that the sender is told the deployer is closed (the farm catches up when
// it starts: it asks every member for its manifest).
func (c *clusterPart) deliverFarm(ctx context.Context, from string, msg []byte) error {
	d := c.farm.Load()
	if d == nil {
		return farmdeploy.ErrClosed
	}
	return d.Deliver(ctx, from, msg)
}

// farmStep is the farm deployer's lifecycle step.
func (c *clusterPart) farmStep() lifecycle.Funcs {
	return lifecycle.Funcs{
		OnStart: func(ctx context.Context) error {
			cl := c.cluster()
			if cl == nil || c.farmHost == nil {
				return errors.New("node: farm deployer: no cluster host")
			}
			fc := farmConfig(c.conf, c.farmAppBase, c.abs, c.log)
			d, err := farmdeploy.New(fc, cl.Port(transport.ChannelFarm), c.farmHost)
			if err != nil {
				return err
			}
			if err := d.Start(ctx); err != nil {
				return err
			}
			c.farm.Store(d)
			return nil
		},
		OnStop: func(ctx context.Context) error {
			if d := c.farm.Load(); d != nil {
				return d.Stop(ctx)
			}
			return nil
		},
	}
}

// manager is the model of a distributable context's manager: the
// context's own <Manager> (own, when not nil; as in Tomcat it replaces the
// template) or the cluster's template.
func (c *clusterPart) manager(own *conf.Manager) *conf.Manager {
	if own != nil {
		return own
	}
	return &c.conf.Manager
}

// newManager builds the manager of a distributable context of the Host
// named hostName, as m says (a DeltaManager on channel 1 or a
// BackupManager on channel 4; m from clusterPart.manager), and registers
// it with its router (Manager.Stop unregisters it). Called by the Host
// while the cluster runs.
func (c *clusterPart) newManager(hostName string, spec host.ContextSpec, route string, m *conf.Manager) (session.Manager, error) {
	if m.ClassName != conf.BackupManager {
		return c.newDeltaManager(hostName, spec, route, m, nil)
	}
	cl := c.cluster()
	if cl == nil {
		return nil, errors.New("node: the cluster is not running")
	}
	name := managerName(hostName, spec.Path)
	log := c.log.With().Str("context", spec.Path).Logger()
	cfg := backupConfig(m, name, route, maxInactive(spec), spec.MaxActiveSessions, log)
	bm, err := backupmgr.New(cfg, c.timed(cl.Port(transport.ChannelBackup)))
	if err != nil {
		return nil, err
	}
	if err := c.maps.Add(bm); err != nil {
		return nil, fmt.Errorf("manager %s: %w", name, err)
	}
	return bm, nil
}

// newDeltaManager builds and registers a context's DeltaManager from the
// model m with its config adjusted by mod (nil: as the model says); the
// migration bridge uses it whatever the cluster's <Manager>.
func (c *clusterPart) newDeltaManager(hostName string, spec host.ContextSpec, route string, m *conf.Manager, mod func(*deltamgr.Config)) (*deltamgr.Manager, error) {
	cl := c.cluster()
	if cl == nil {
		return nil, errors.New("node: the cluster is not running")
	}
	name := managerName(hostName, spec.Path)
	cfg := deltaConfig(c.conf, m, name, route, maxInactive(spec), spec.MaxActiveSessions, c.log.With().Str("context", spec.Path).Logger())
	if mod != nil {
		mod(&cfg)
	}
	dm, err := deltamgr.New(cfg, c.timed(cl.Port(transport.ChannelSessions)))
	if err != nil {
		return nil, err
	}
	if err := c.router.Add(dm); err != nil {
		return nil, fmt.Errorf("manager %s: %w", name, err)
	}
	return dm, nil
}

// maxInactive is a context's session timeout, 0 meaning the default.
func maxInactive(spec host.ContextSpec) time.Duration {
	if spec.SessionTimeout == 0 {
		return session.DefaultMaxInactive
	}
	return spec.SessionTimeout
}

// advertiseConnector tells the cluster the primary connector's address once
// it serves: until then the node advertises no URL, so balancers do not
// route to it while it receives the session state (and a connector on port
// 0 is advertised with the port it bound).
func (c *clusterPart) advertiseConnector(conn *host.Connector) error {
	cl := c.cluster()
	cc := c.srv.Connector()
	a, ok := conn.Addr().(*net.TCPAddr)
	if cl == nil || cc == nil || !ok {
		return nil
	}
	u := connectorURL(cc, cl.Local().Host, a.Port)
	if u == "" || u == cl.HTTPURL() {
		return nil
	}
	if err := cl.SetHTTPURL(u); err != nil {
		return fmt.Errorf("node: advertise %s: %w", u, err)
	}
	c.log.Info().Str("url", u).Msg("connector open: advertising it to the cluster")
	return nil
}
