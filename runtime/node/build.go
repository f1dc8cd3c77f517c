package node

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/gomcat/gomcat/conf"
	"github.com/gomcat/gomcat/runtime/host"
	"github.com/gomcat/gomcat/runtime/session"
)

// hostConfig maps a conf Host onto host.Config: directories under the home,
// the contexts of server.xml and conf/<Engine>/<Host>/*.xml, the session
// managers and, when a Cluster covers the host, its valves.
func (n *Node) hostConfig(eng *conf.Engine, ch *conf.Host) (host.Config, error) {
	hc := n.hostBase(eng, ch)
	if n.clus != nil && n.clus.covers(ch) {
		c := n.clus.conf
		if v := c.ReplicationValve; v != nil {
			hc.Valves.Replication = true
			hc.Valves.Filter = v.Filter
			hc.Valves.Sync = c.ChannelSendOptions&conf.SendAsync == 0
		}
		if v := c.JvmRouteBinderValve; v != nil && v.Enabled {
			hc.Valves.JvmRouteBinder = true
		}
	}
	hc.Managers = n.managers(ch)
	for _, cc := range ch.Contexts {
		spec, err := n.contextSpec(hc, cc)
		if err != nil {
			return hc, err
		}
		hc.Contexts = append(hc.Contexts, spec)
	}
	return hc, nil
}

// hostBase is a Host's config without valves, managers and contexts.
func (n *Node) hostBase(eng *conf.Engine, ch *conf.Host) host.Config {
	hc := host.DefaultConfig()
	hc.Name = ch.Name
	hc.JvmRoute = eng.JvmRoute
	hc.AutoDeploy = ch.AutoDeploy
	hc.Logger = n.log
	hc.WorkDir = filepath.Join(n.cfg.Home, "work", eng.Name, ch.Name)
	if ch.AppBase != "" {
		hc.AppBase = n.abs(ch.AppBase)
	}
	return hc
}

// contextSpec maps a conf Context. docBase resolves against appBase; an app
// whose docBase directory does not exist runs without static files.
func (n *Node) contextSpec(hc host.Config, cc *conf.Context) (host.ContextSpec, error) {
	spec := host.ContextSpec{
		Path: cc.Path, App: cc.App, Distributable: cc.Distributable, Source: cc.File,
		SessionTimeout: cc.SessionTimeout,
	}
	if cc.SessionTimeout <= 0 {
		spec.SessionTimeout = -1 // conf: <= 0 never expires
	}
	if spec.Source == "" {
		spec.Source = "server.xml"
	}
	if cc.DocBase != "" {
		d := cc.DocBase
		if !filepath.IsAbs(d) {
			base := hc.AppBase
			if base == "" {
				base = n.cfg.Home
			}
			d = filepath.Join(base, d)
		}
		if strings.HasSuffix(d, host.BundleExt) {
			return spec, fmt.Errorf("node: %s: Context %s: docBase %s is a bundle; put bundles in appBase instead", spec.Source, cc.Path, d)
		}
		if fi, err := os.Stat(d); err == nil && fi.IsDir() {
			spec.DocBase = d
		} else if cc.App == "" {
			spec.DocBase = d // deploying fails with a clear error naming it
		}
	}
	return spec, nil
}

// managers returns the session manager factory of a host: a
// redismgr.Manager for a context with <Manager className="gomcat.RedisManager">; a
// deltamgr.Manager (registered with the node's router, its Start running
// the state transfer) or a backupmgr.Manager, as the context's own
// <Manager> or else the cluster's template says, for the distributable
// contexts of a host the cluster covers; a LocalManager for every other
// context.
func (n *Node) managers(ch *conf.Host) host.ManagerFactory {
	route := n.cfg.Server.Engine().JvmRoute
	clustered := n.clus != nil && n.clus.covers(ch)
	return func(spec host.ContextSpec) (session.Manager, error) {
		if rc := redisConf(ch, spec.Path); rc != nil {
			return n.redisManager(ch.Name, spec, route, rc)
		}
		if clustered && spec.Distributable {
			return n.clus.newManager(ch.Name, spec, route, n.clus.manager(ownManager(ch, spec.Path)))
		}
		sc := session.Config{
			Route:             route,
			MaxInactive:       spec.SessionTimeout,
			MaxActiveSessions: spec.MaxActiveSessions,
			Logger:            n.log.With().Str("context", spec.Path).Logger(),
		}
		if sc.MaxInactive == 0 {
			sc.MaxInactive = session.DefaultMaxInactive
		}
		return session.NewLocal(sc)
	}
}
