package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"
	ucli "github.com/urfave/cli/v2"

	"github.com/gomcat/gomcat/balancer"
	"github.com/gomcat/gomcat/conf"
	"github.com/gomcat/gomcat/mcast"
	"github.com/gomcat/gomcat/runtime/cluster"
	"github.com/gomcat/gomcat/runtime/node"
)

// The classic walkthrough's ports: node1 and node2.
var demoPorts = [2]struct{ http, receiver, shutdown int }{
	{8091, 4001, 8005},
	{8092, 4002, 8006},
}

func demoCommand() *ucli.Command {
	return &ucli.Command{
		Name:  "demo",
		Usage: "run a throw-away two-node cluster with the example app and a balancer on 127.0.0.1 (Ctrl-C stops it and removes its homes)",
		Description: "node1: HTTP 8091, receiver 4001, shutdown 8005 (its farm directory is watched);\n" +
			"node2: HTTP 8092, receiver 4002, shutdown 8006; the balancer: 8080 (admin 8081).\n" +
			"A port that is taken is replaced by a free one.\n" +
			"Multicast stays on this machine (127.0.0.1, TTL 0) on a random port, so two demos never merge.",
		Flags: append([]ucli.Flag{
			&ucli.IntFlag{Name: "http-port", Value: demoPorts[0].http, Usage: "node1's HTTP port (node2 uses the next one); a free one is used if taken"},
			&ucli.IntFlag{Name: "mcast-port", Usage: "multicast port (default: random)"},
			&ucli.IntFlag{Name: "balancer-port", Value: 8080, Usage: "the balancer's port (its admin endpoints use the next one); a free one is used if taken"},
		}, logFlags()...),
		Action: func(c *ucli.Context) error {
			log, err := newLogger(c, c.App.ErrWriter)
			if err != nil {
				return err
			}
			dir, err := os.MkdirTemp("", "gomcat-demo-")
			if err != nil {
				return err
			}
			defer os.RemoveAll(dir)
			mport := c.Int("mcast-port")
			if mport == 0 {
				mport = 20000 + rand.IntN(40000)
			}
			w := c.App.Writer
			var nodes []*node.Node
			defer func() { // reverse order; each Stop is idempotent
				for i := len(nodes) - 1; i >= 0; i-- {
					_ = nodes[i].Stop(context.WithoutCancel(c.Context))
				}
			}()
			homes := make([]string, 2)
			for i := range 2 {
				want := demoPorts[i]
				want.http = c.Int("http-port") + i
				p := conf.DefaultTemplateParams()
				p.JvmRoute = "node" + strconv.Itoa(i+1)
				p.HTTPPort = pickPort(w, p.JvmRoute, "HTTP", want.http)
				p.ReceiverPort = pickPort(w, p.JvmRoute, "receiver", want.receiver)
				p.ShutdownPort = pickPort(w, p.JvmRoute, "shutdown", want.shutdown)
				p.AdminPort = pickPort(w, p.JvmRoute, "admin", want.http+1000)
				p.McastPort, p.McastBind, p.McastTTL = mport, "127.0.0.1", 0
				p.FarmWatch = i == 0
				homes[i] = filepath.Join(dir, p.JvmRoute)
				n, err := demoNode(c, homes[i], p, log.With().Str("node", p.JvmRoute).Logger())
				if err != nil {
					return err
				}
				if err := n.Start(c.Context); err != nil {
					return fmt.Errorf("%s: %w", p.JvmRoute, err)
				}
				nodes = append(nodes, n)
			}
			if err := waitMutual(c.Context, nodes, 30*time.Second); err != nil {
				return err
			}
			lb, err := demoBalancer(c, homes[0], c.Int("balancer-port"), log.With().Str("node", "balancer").Logger())
			if err != nil {
				return err
			}
			defer lb.Stop(context.WithoutCancel(c.Context))
			if err := waitBalanced(c.Context, lb, len(nodes), 30*time.Second); err != nil {
				return err
			}
			site := filepath.Join(dir, "site")
			if err := writeDemoSite(site); err != nil {
				return err
			}
			printDemo(w, dir, homes, nodes, mport, "http://"+lb.Addr().String(), "http://"+lb.AdminAddr().String())
			// A node told to stop (gomcat stop --home …) stops; the demo
			// keeps the other running until Ctrl-C.
			var wg sync.WaitGroup
			defer wg.Wait()
			wctx, wcancel := context.WithCancel(c.Context)
			defer wcancel()
			for i, n := range nodes {
				wg.Go(func() { watchStop(wctx, w, "node"+strconv.Itoa(i+1), n) })
			}
			<-c.Context.Done()
			return nil
		},
	}
}

// watchStop stops n when its shutdown port received the command, until
// ctx ends.
func watchStop(ctx context.Context, w io.Writer, name string, n *node.Node) {
	select {
	case <-n.Shutdown():
	case <-ctx.Done():
		return
	}
	if err := n.Stop(context.WithoutCancel(ctx)); err != nil {
		fmt.Fprintf(w, "%s stopped (shutdown command): %v\n", name, err)
		return
	}
	fmt.Fprintf(w, "%s stopped (shutdown command); Ctrl-C ends the demo\n", name)
}

// writeDemoSite writes the static site the printed `bundle create` packs.
func writeDemoSite(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	page := "<!doctype html><title>shop</title><p>Farmed to every node by gomcat deploy.</p>\n"
	return os.WriteFile(filepath.Join(dir, "index.html"), []byte(page), 0o644)
}

// selfCommand is how the printed commands invoke gomcat: "go run
// ./cmd/gomcat" under go run (its binary lives in a go-build temporary
// directory), "gomcat" when that is this binary on PATH, else this
// binary's path.
func selfCommand() string {
	exe, err := os.Executable()
	if err != nil {
		return "gomcat"
	}
	if strings.Contains(exe, string(filepath.Separator)+"go-build") {
		return "go run ./cmd/gomcat"
	}
	if p, err := exec.LookPath("gomcat"); err == nil {
		if a, b := evalPath(p), evalPath(exe); a == b {
			return "gomcat"
		}
	}
	if strings.ContainsAny(exe, " '\"$") {
		return strconv.Quote(exe)
	}
	return exe
}

func evalPath(p string) string {
	if r, err := filepath.EvalSymlinks(p); err == nil {
		p = r
	}
	if a, err := filepath.Abs(p); err == nil {
		p = a
	}
	return p
}

// demoNode writes a home for p and builds its node, HTTP on 127.0.0.1.
func demoNode(c *ucli.Context, home string, p conf.TemplateParams, log zerolog.Logger) (*node.Node, error) {
	if err := initHome(home, p, true); err != nil {
		return nil, err
	}
	s, warns, err := conf.Load(home)
	if err == nil {
		loopback := "127.0.0.1"
		warns = append(warns, s.Apply(conf.Overrides{Source: "demo", HTTPAddress: &loopback})...)
		err = s.Validate()
	}
	if err != nil {
		return nil, configError(c, warns, err)
	}
	logWarnings(log, warns)
	cfg := node.DefaultConfig()
	cfg.Server, cfg.Home, cfg.Logger = s, home, log
	return node.New(cfg)
}

// demoBalancer starts a balancer on 127.0.0.1 that finds the nodes by
// listening to their heartbeats, as `gomcat balancer --home` does.
func demoBalancer(c *ucli.Context, home string, port int, log zerolog.Logger) (*balancer.Balancer, error) {
	s, warns, err := conf.Load(home)
	if err != nil {
		return nil, configError(c, warns, err)
	}
	mc, err := node.ObserverConfig(s)
	if err != nil {
		return nil, err
	}
	mc.Logger = log
	obs, err := mcast.NewObserver(mc)
	if err != nil {
		return nil, err
	}
	cfg := balancer.DefaultConfig()
	cfg.Listen = net.JoinHostPort("127.0.0.1", strconv.Itoa(pickPort(c.App.Writer, "balancer", "HTTP", port)))
	cfg.AdminListen = net.JoinHostPort("127.0.0.1", strconv.Itoa(pickPort(c.App.Writer, "balancer", "admin", port+1)))
	cfg.Discovery = balancer.Observe(obs)
	cfg.Logger = log
	lb, err := balancer.New(cfg)
	if err != nil {
		return nil, err
	}
	if err := lb.Start(c.Context); err != nil {
		return nil, fmt.Errorf("balancer: %w", err)
	}
	return lb, nil
}

// waitBalanced waits until the balancer routes to n live nodes.
func waitBalanced(ctx context.Context, lb *balancer.Balancer, n int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		live := 0
		for _, st := range lb.Nodes() {
			if st.State == balancer.StateLive {
				live++
			}
		}
		if live >= n {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the demo balancer found %d of %d nodes within %s", live, n, timeout)
		}
		if !sleepCtx(ctx, 50*time.Millisecond) {
			return ctx.Err()
		}
	}
}

// pickPort returns want, or a free port (saying so) when want is taken.
func pickPort(w io.Writer, name, what string, want int) int {
	got := freePort(want)
	if got != want {
		fmt.Fprintf(w, "%s: %s port %d is taken; using %d\n", name, what, want, got)
	}
	return got
}

// waitMutual waits until every node lists every other one as a member,
// woken by the clusters' membership events (nothing polls).
func waitMutual(ctx context.Context, nodes []*node.Node, timeout time.Duration) error {
	changed := make(chan struct{}, 1)
	for _, n := range nodes {
		if cl := n.Cluster(); cl != nil {
			defer cl.Subscribe(func(cluster.MemberEvent) {
				select {
				case changed <- struct{}{}:
				default:
				}
			})()
		}
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	for {
		all := true
		for _, n := range nodes {
			cl := n.Cluster()
			if cl == nil || len(cl.Members()) < len(nodes)-1 {
				all = false
			}
		}
		if all {
			return nil
		}
		select {
		case <-changed:
		case <-t.C:
			return errors.New("the demo nodes did not see each other within " + timeout.String() + " (is multicast on the loopback interface blocked?)")
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// printDemo prints the nodes and the commands to try, each runnable as
// printed (the bundle's site is under dir/site).
func printDemo(w io.Writer, dir string, homes []string, nodes []*node.Node, mport int, lbURL, adminURL string) {
	fmt.Fprintf(w, "\nGomcat demo: two nodes of one cluster on 127.0.0.1 (multicast 228.0.0.4:%d, TTL 0), homes under %s\n", mport, dir)
	urls := make([]string, len(nodes))
	for i, n := range nodes {
		urls[i] = n.URLs()[0]
		local := n.Cluster().Local()
		sd := "-"
		if a, ok := n.ShutdownAddr().(*net.TCPAddr); ok {
			sd = strconv.Itoa(a.Port)
		}
		extra := ""
		if ri, err := node.ReadRunInfo(homes[i]); err == nil && ri.Farm != nil && ri.Farm.WatchEnabled {
			extra = "  farm watchDir " + ri.Farm.WatchDir
		}
		fmt.Fprintf(w, "  node%d  %s  receiver %s  shutdown %s  home %s%s\n", i+1, urls[i], local.Addr(), sd, homes[i], extra)
	}
	var names []string
	for _, m := range nodes[0].Cluster().Members() {
		names = append(names, m.Name)
	}
	slices.Sort(names)
	fmt.Fprintf(w, "  balancer  %s  admin %s/status  (sticky on the JSESSIONID route, fails over)\n", lbURL, adminURL)
	fmt.Fprintf(w, "The nodes see each other (node1's members: %v).\n", names)
	jar := filepath.Join(os.TempDir(), "gomcat-demo-cookies")
	fmt.Fprintf(w, `
Try the walkthrough: a session set through node1, read through node2.
  curl -c %[3]s -b %[3]s '%[1]s/set?k=color&v=blue'
  curl -c %[3]s -b %[3]s '%[2]s/get?k=color'      # blue; the cookie now ends in .node2
  curl '%[1]s/count'; curl '%[2]s/count'          # sessions on each node: the same on both
  curl -c %[3]s -b %[3]s '%[1]s/cart/add?item=book'; curl -b %[3]s '%[2]s/cart'   # a typed value, replicated
  curl -c %[3]s.lb -b %[3]s.lb '%[6]s/set?k=color&v=red'   # through the balancer: sticks to one node
  curl -b %[3]s.lb '%[6]s/node'                            # the node that holds this session
  %[7]s members --home %[4]s --once     # the live members, as a silent observer sees them
Farm a bundle out to both nodes (node1 watches its farm directory):
  %[7]s bundle create -o %[8]s --path /shop %[9]s
  %[7]s deploy %[8]s --home %[4]s      # exits 0 once both nodes run it
  curl '%[2]s/shop/'                             # served by node2 too
Stop one node; the other keeps the sessions:
  %[7]s stop --home %[5]s      # returns once node2 has stopped; node1 logs it gone at once
  curl -c %[3]s -b %[3]s '%[1]s/get?k=color'      # still blue, from node1
Stop: Ctrl-C (the nodes stop and their homes are removed)
`, urls[0], urls[1], jar, homes[0], homes[1], lbURL, selfCommand(), filepath.Join(dir, "shop.gar"), filepath.Join(dir, "site"))
}

// freePort returns want if it can be bound on 127.0.0.1, else a free port.
func freePort(want int) int {
	if ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(want))); err == nil {
		ln.Close()
		return want
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return want
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
