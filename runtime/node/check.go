package node

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/rs/zerolog"

	"github.com/gomcat/gomcat/conf"
	"github.com/gomcat/gomcat/runtime/host"
)

// Check reports every problem New or Start would refuse in s (already
// validated by conf), without opening a socket: the cluster's mapping and
// its subsystems' Validate (cluster, transport, membership, failure
// detector, farm deployer, each context's session manager), each Host's
// config, and each context's app (registered with host.Register) and
// docBase (a directory, for a context without an app). home resolves the
// model's relative paths; "" means s.Home. Problems are joined, one per
// finding, each with the file and line of the element it comes from.
// gomcat configtest runs it.
func Check(s *conf.Server, home string) error {
	n := &Node{cfg: Config{Server: s, Home: home}, log: zerolog.Nop()}
	n.cfg.fill()
	if err := n.cfg.Validate(); err != nil {
		return err
	}
	var errs []error
	eng := s.Engine()
	if cl := s.Cluster(); cl != nil {
		var only *conf.Host
		if eng.Cluster == nil {
			only = s.ClusterHost()
		}
		cp, err := newClusterPart(s, only, n.abs, n.log)
		if err != nil {
			errs = append(errs, at(cl.Node, "", err))
		} else {
			n.clus = cp
		}
		if d := cl.Deployer; d != nil {
			appBase := ""
			if h := s.ClusterHost(); h != nil && h.AppBase != "" {
				appBase = n.abs(h.AppBase)
			}
			if err := farmConfig(cl, appBase, n.abs, n.log).Validate(); err != nil {
				errs = append(errs, at(d.Node, "", err))
			}
		}
	}
	for _, ch := range eng.Hosts {
		errs = append(errs, n.checkHost(eng, ch)...)
	}
	return errors.Join(errs...)
}

// checkHost checks one Host and its contexts.
func (n *Node) checkHost(eng *conf.Engine, ch *conf.Host) []error {
	var errs []error
	hc := n.hostBase(eng, ch)
	clustered := n.clus != nil && n.clus.covers(ch)
	for _, cc := range ch.Contexts {
		spec, err := n.contextSpec(hc, cc)
		if err != nil {
			errs = append(errs, at(cc.Node, "docBase", err))
			continue
		}
		if err := spec.Validate(); err != nil {
			errs = append(errs, at(cc.Node, "", err))
		}
		errs = append(errs, checkApp(cc, spec)...)
		if err := n.checkManager(ch, cc, spec, clustered); err != nil {
			el := cc.Node
			if redisConf(ch, spec.Path) == nil {
				el = n.clus.manager(cc.ClusterManager).Node // the context's own <Manager> or the cluster's, shared by its contexts
			}
			errs = append(errs, at(el, "", err))
		}
		hc.Contexts = append(hc.Contexts, spec)
	}
	if err := hc.Validate(); err != nil && len(errs) == 0 {
		errs = append(errs, at(ch.Node, "", err))
	}
	return errs
}

// checkApp: the app a context names is registered; a context without one
// serves its docBase, which must then be a directory.
func checkApp(cc *conf.Context, spec host.ContextSpec) []error {
	if cc.App != "" {
		if !slices.Contains(host.Apps(), cc.App) {
			return []error{at(cc.Node, "app", fmt.Errorf("%w %q in this binary (registered: %s)",
				host.ErrUnknownApp, cc.App, orNone(host.Apps())))}
		}
		return nil
	}
	if spec.DocBase == "" {
		return nil
	}
	if fi, err := os.Stat(spec.DocBase); err != nil || !fi.IsDir() {
		why := "is not a directory"
		if errors.Is(err, os.ErrNotExist) {
			why = "does not exist"
		}
		return []error{at(cc.Node, "docBase", fmt.Errorf("context %s serves static files from %s, which %s (give it an app= or create the directory)", cc.Path, spec.DocBase, why))}
	}
	return nil
}

// checkManager validates the config the context's session manager would
// get, without building it.
func (n *Node) checkManager(ch *conf.Host, cc *conf.Context, spec host.ContextSpec, clustered bool) error {
	route := n.cfg.Server.Engine().JvmRoute
	name := managerName(ch.Name, spec.Path)
	if rc := redisConf(ch, spec.Path); rc != nil {
		cfg, err := redisConfig(n.abs, n.log, ch.Name, spec, route, rc)
		if err != nil {
			return err
		}
		return cfg.Validate()
	}
	if !clustered || !spec.Distributable {
		return nil
	}
	m := n.clus.manager(cc.ClusterManager)
	if m.ClassName == conf.BackupManager {
		return backupConfig(m, name, route, maxInactive(spec), spec.MaxActiveSessions, n.log).Validate()
	}
	return deltaConfig(n.clus.conf, m, name, route, maxInactive(spec), spec.MaxActiveSessions, n.log).Validate()
}

// at places err at the element (attr's line when it was written), unless
// err already is a positioned conf problem.
func at(el conf.Node, attr string, err error) error {
	var ce *conf.Error
	if errors.As(err, &ce) {
		return err
	}
	p := el.Pos
	if attr != "" {
		p = el.AttrPos(attr)
	}
	return &conf.Error{File: p.File, Line: p.Line, Element: el.Element, Attr: attr, Msg: err.Error()}
}

func orNone(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}
