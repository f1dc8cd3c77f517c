package node

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/rs/zerolog"

	"github.com/gomcat/gomcat/backupmgr"
	"github.com/gomcat/gomcat/conf"
	"github.com/gomcat/gomcat/deltamgr"
	"github.com/gomcat/gomcat/runtime/admin"
	"github.com/gomcat/gomcat/runtime/cluster"
	"github.com/gomcat/gomcat/runtime/lifecycle"
	"github.com/gomcat/gomcat/runtime/session"
)

// Readiness phases of a node (/readyz).
const (
	phaseStarting int32 = iota
	phaseReady
	phaseDraining
)

// adminPart is the node's admin listener (<Listener className="org.gomcat.AdminListener">):
// the metrics registry, the HTTP and ack-round-trip histograms, and the
// admin.Server built by its Start (the token file is read then).
type adminPart struct {
	conf  *conf.Admin
	reg   *prometheus.Registry
	http  *admin.HTTPMetrics
	ack   *admin.AckTimer
	srv   atomic.Pointer[admin.Server]
	phase atomic.Int32
	began time.Time
	log   zerolog.Logger
}

// newAdminPart returns nil when the admin listener is disabled.
func (n *Node) newAdminPart() *adminPart {
	a := n.cfg.Server.Admin
	if a == nil || a.Port == -1 {
		return nil
	}
	p := &adminPart{conf: a, reg: prometheus.NewRegistry(), ack: admin.NewAckTimer(), log: n.log}
	p.http = admin.NewHTTPMetrics(n.contextPaths)
	p.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{Namespace: "gomcat"}),
		collectors.NewBuildInfoCollector(),
		admin.ClusterCollector(func() admin.ClusterView {
			if c := n.Cluster(); c != nil {
				return c
			}
			return nil
		}),
		admin.SessionsCollector(n.adminContexts),
		admin.FarmCollector(func() admin.FarmView {
			if f := n.Farm(); f != nil {
				return f
			}
			return nil
		}),
		p.ack.Collector(),
		n.ajpCollector(), // ajp.go
		n.httpConnectorCollector(),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "gomcat_node_ready", Help: "1 while /readyz answers 200."},
			func() float64 {
				if n.Ready() == nil {
					return 1
				}
				return 0
			}),
	)
	p.reg.MustRegister(p.http.Collectors()...)
	return p
}

// adminStep binds the admin listener; it comes before the cluster, so
// /livez answers (and /readyz says "starting") while the node joins.
func (n *Node) adminStep() lifecycle.Step {
	p := n.admin
	return lifecycle.Step{Name: "admin listener", Component: lifecycle.Funcs{
		OnStart: func(ctx context.Context) error {
			p.began = time.Now()
			cfg := admin.DefaultConfig()
			cfg.Addr = net.JoinHostPort(p.conf.Address, strconv.Itoa(p.conf.Port))
			cfg.Source, cfg.Gatherer, cfg.Logger = nodeSource{n}, p.reg, n.log
			if f := p.conf.TokenFile; f != "" {
				b, err := os.ReadFile(n.abs(f))
				if err != nil {
					return fmt.Errorf("admin <Listener> tokenFile: %w", err)
				}
				if cfg.Token = strings.TrimSpace(string(b)); cfg.Token == "" {
					return fmt.Errorf("admin <Listener> tokenFile %s is empty", n.abs(f))
				}
			}
			s, err := admin.New(cfg)
			if err != nil {
				return err
			}
			if err := s.Start(ctx); err != nil {
				return &portError{what: "admin <Listener>", addr: cfg.Addr, err: err}
			}
			p.srv.Store(s)
			return nil
		},
		OnStop: func(ctx context.Context) error {
			if s := p.srv.Load(); s != nil {
				return s.Stop(ctx)
			}
			return nil
		},
	}}
}

// portError names the element whose port could not be bound.
type portError struct {
	what, addr string
	err        error
}

func (e *portError) Error() string { return fmt.Sprintf("%s %s: %v", e.what, e.addr, e.err) }
func (e *portError) Unwrap() error { return e.err }

// readyStep is the last step: the node is ready once every part started,
// and draining as soon as Stop begins.
func (n *Node) readyStep() lifecycle.Step {
	return lifecycle.Step{Name: "ready", Component: lifecycle.Funcs{
		OnStart: func(context.Context) error { n.admin.phase.Store(phaseReady); return nil },
		OnStop:  func(context.Context) error { n.admin.phase.Store(phaseDraining); return nil },
	}}
}

// Ready returns nil when the node serves traffic: every part started
// (connectors open, state transfer done) and Stop not begun.
func (n *Node) Ready() error {
	if n.admin == nil {
		return errors.New("no admin listener")
	}
	switch n.admin.phase.Load() {
	case phaseStarting:
		return errors.New("starting (membership, state transfer or connectors not done)")
	case phaseDraining:
		return errors.New("draining (stopping)")
	}
	return nil
}

// AdminURL is the admin listener's "http://HOST:PORT", or "" (disabled,
// not started).
func (n *Node) AdminURL() string {
	if n.admin == nil {
		return ""
	}
	if s := n.admin.srv.Load(); s != nil {
		return s.URL()
	}
	return ""
}

// contextPaths lists the deployed context paths of every host.
func (n *Node) contextPaths() []string {
	var out []string
	for _, h := range n.hosts {
		for _, c := range h.Contexts() {
			out = append(out, c.Path)
		}
	}
	return out
}

func (n *Node) adminContexts() []admin.Context {
	var out []admin.Context
	for _, h := range n.hosts {
		for _, c := range h.Contexts() {
			out = append(out, admin.Context{Host: h.Name(), Path: c.Path, Distributable: c.Distributable, Manager: h.Manager(c.Path)})
		}
	}
	return out
}

// nodeSource is the admin.Source of a node.
type nodeSource struct{ n *Node }

func (s nodeSource) Ready() error              { return s.n.Ready() }
func (s nodeSource) Contexts() []admin.Context { return s.n.adminContexts() }

func (s nodeSource) Status() admin.Status {
	n := s.n
	st := admin.Status{Node: n.cfg.Server.Engine().JvmRoute, Version: buildVersion(), Started: n.admin.began, URLs: n.URLs()}
	if err := n.Ready(); err != nil {
		st.NotReady = err.Error()
	} else {
		st.Ready = true
	}
	if cl := n.Cluster(); cl != nil {
		self := cl.Local()
		st.Members = append(st.Members, admin.Member{Name: self.Name, Addr: net.JoinHostPort(ipString(self.Host), strconv.Itoa(self.Port)),
			HTTPURL: self.HTTPURL, State: "self", Age: sinceMillis(self.StartedAt)})
		for _, m := range cl.Members() {
			st.Members = append(st.Members, admin.Member{Name: m.Name, Addr: m.Addr, HTTPURL: m.HTTPURL, State: m.State, Age: m.Alive})
		}
	}
	for _, c := range n.adminContexts() {
		cs := admin.ContextStatus{Host: c.Host, Path: c.Path, Distributable: c.Distributable}
		if c.Manager != nil {
			cs.Sessions = c.Manager.Count()
		}
		if dm, ok := c.Manager.(*deltamgr.Manager); ok {
			ds := dm.Stats()
			cs.Created, cs.Expired, cs.Rejected, cs.SendFailures = ds.Created, ds.Expired, ds.Rejected, ds.SendFailures
			for _, v := range ds.Sent {
				cs.Sent += v
			}
			for _, v := range ds.Received {
				cs.Received += v
			}
			if ds.TransfersCompleted+ds.TransfersFailed > 0 && st.Transfer == nil {
				st.Transfer = &admin.Transfer{Context: c.Path, Sessions: ds.TransferSessions, Duration: ds.TransferDuration,
					Completed: ds.TransfersCompleted, Failed: ds.TransfersFailed}
			}
		} else if bm, ok := c.Manager.(*backupmgr.Manager); ok {
			bs := bm.Stats()
			cs.Created, cs.Expired, cs.Rejected, cs.SendFailures = bs.Created, bs.Expired, bs.Rejected, bs.SendFailures
			cs.Primaries, cs.Lost = bs.Primaries, bs.Lost
			for _, v := range bs.Sent {
				cs.Sent += v
			}
			for _, v := range bs.Received {
				cs.Received += v
			}
		} else if lm, ok := c.Manager.(*session.LocalManager); ok {
			ls := lm.Stats()
			cs.Created, cs.Expired, cs.Rejected = uint64(ls.Created), uint64(ls.Expired), uint64(ls.Rejected)
		}
		st.Contexts = append(st.Contexts, cs)
	}
	if f := n.Farm(); f != nil {
		for _, b := range f.Status().Bundles {
			ab := admin.Bundle{Name: b.Name, Size: b.Size}
			for name, ms := range b.Members {
				ab.Members = append(ab.Members, admin.BundleMember{Name: name, State: ms.State, Error: ms.Error})
			}
			sortBundleMembers(ab.Members)
			st.Farm = append(st.Farm, ab)
		}
	}
	return st
}

func sortBundleMembers(ms []admin.BundleMember) {
	slices.SortFunc(ms, func(a, b admin.BundleMember) int { return strings.Compare(a.Name, b.Name) })
}

func ipString(ip net.IP) string {
	if ip == nil {
		return "?"
	}
	return ip.String()
}

func sinceMillis(ms int64) time.Duration {
	if ms == 0 {
		return 0
	}
	return time.Since(time.UnixMilli(ms)).Round(time.Second)
}

// buildVersion is the main module's version and VCS revision.
func buildVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	v := bi.Main.Version
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			v += " " + s.Value[:12]
		}
	}
	return v
}

// ackObserver records the round trip of a waited-for send.
type ackObserver interface {
	Observe(mode, op string, d time.Duration)
}

// timed wraps the sessions port so that sends waiting for members (ack
// or sync channelSendOptions) feed the round-trip histogram; async sends
// are passed through untimed. It embeds *cluster.Port, so every other
// method of the port (and any optional interface deltamgr looks for)
// stays visible.
func (c *clusterPart) timed(p *cluster.Port) deltamgr.Cluster {
	if c.ack == nil {
		return p
	}
	return timedPort{Port: p, ack: c.ack}
}

type timedPort struct {
	*cluster.Port
	ack ackObserver
}

func ackMode(opts int) string {
	switch {
	case opts&deltamgr.SendSyncAck != 0:
		return "sync"
	case opts&deltamgr.SendUseAck != 0:
		return "ack"
	}
	return ""
}

func (t timedPort) Send(ctx context.Context, to string, msg []byte, opts int) error {
	mode := ackMode(opts)
	if mode == "" {
		return t.Port.Send(ctx, to, msg, opts)
	}
	start := time.Now()
	err := t.Port.Send(ctx, to, msg, opts)
	if err == nil {
		t.ack.Observe(mode, "send", time.Since(start))
	}
	return err
}

func (t timedPort) Broadcast(ctx context.Context, msg []byte, opts int) error {
	mode := ackMode(opts)
	if mode == "" || len(t.Members()) == 0 {
		return t.Port.Broadcast(ctx, msg, opts)
	}
	start := time.Now()
	err := t.Port.Broadcast(ctx, msg, opts)
	if err == nil {
		t.ack.Observe(mode, "broadcast", time.Since(start))
	}
	return err
}
