//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// A gomcat node in a namespace: a home made by `gomcat init` in t.TempDir
// and, while running, a `gomcat start --home …` process (a Proc: log,
// WaitLog, Signal, Kill, Wait). Restartable: Start again after it exited.

// Default ports of a node. Every node has its own namespace, so the same
// ports serve for all of them.
const (
	DefaultHTTPPort     = 8080
	DefaultShutdownPort = 8005
	DefaultReceiverPort = 4000
	StartTimeout        = 60 * time.Second // gomcat start until "Server startup in"
)

// NodeOptions say how to init and start a node. Zero values take defaults.
type NodeOptions struct {
	Route        string   // --jvm-route. Default: "node<Index+1>".
	HTTPPort     int      // --http-port. Default: 8080.
	ShutdownPort int      // --shutdown-port. Default: 8005.
	ReceiverPort int      // --receiver-port. Default: 4000.
	InitArgs     []string // extra flags for gomcat init
	StartArgs    []string // extra flags for gomcat start (e.g. "--log-format", "json")
	Env          []string // extra environment (KEY=VALUE) for every gomcat command
}

// Node is one gomcat node: a home and, while running, a process.
type Node struct {
	*Proc
	Home         string
	Route        string
	HTTPPort     int
	ShutdownPort int
	ReceiverPort int
	opts         NodeOptions
}

// InitNode creates a node home in a temporary directory with gomcat init.
// Multicast is bound to the namespace's address with TTL 1 when the binary
// has those flags (membership), so nodes on one Net see each other and
// nothing else; without them a node's multicast stays on its own loopback.
func InitNode(t testing.TB, ns *NS, o NodeOptions) *Node {
	t.Helper()
	bin := Binary(t)
	if o.Route == "" {
		o.Route = fmt.Sprintf("node%d", ns.Index+1)
	}
	if o.HTTPPort == 0 {
		o.HTTPPort = DefaultHTTPPort
	}
	if o.ShutdownPort == 0 {
		o.ShutdownPort = DefaultShutdownPort
	}
	if o.ReceiverPort == 0 {
		o.ReceiverPort = DefaultReceiverPort
	}
	// Sealed like a deployment: the e2e key goes into server.xml unless the
	// test chose a key or the insecure opt-in itself; the node's own
	// commands never get the harness's GOMCAT_CLUSTER_KEY (it would beat
	// server.xml).
	ownKey := envKeyed(o.Env)
	for _, a := range append(slices.Clone(o.InitArgs), o.StartArgs...) {
		if strings.HasPrefix(a, "--cluster-key") || strings.HasPrefix(a, "--insecure-cluster") {
			ownKey = true
		}
	}
	if !envKeyed(o.Env) {
		o.Env = append(slices.Clone(o.Env), "GOMCAT_CLUSTER_KEY=")
	}
	n := &Node{
		Proc: newProc(t, ns, o.Route, o.Env),
		Home: filepath.Join(t.TempDir(), o.Route), Route: o.Route,
		HTTPPort: o.HTTPPort, ShutdownPort: o.ShutdownPort, ReceiverPort: o.ReceiverPort,
		opts: o,
	}
	args := []string{"init", "--home", n.Home, "--jvm-route", o.Route,
		"--http-port", strconv.Itoa(o.HTTPPort), "--shutdown-port", strconv.Itoa(o.ShutdownPort),
		"--receiver-port", strconv.Itoa(o.ReceiverPort)}
	if initHasFlag(bin, "--mcast-bind") && ns.Addr.Is4() { // IPv6-only (NewNet6): multicast stays on loopback
		args = append(args, "--mcast-bind", ns.Addr.String())
	}
	if initHasFlag(bin, "--mcast-ttl") {
		args = append(args, "--mcast-ttl", "1")
	}
	if !ownKey {
		args = append(args, "--cluster-key", E2EClusterKey)
	}
	args = append(args, o.InitArgs...)
	if out, err := n.Gomcat(t, args...); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	return n
}

// StartNode is InitNode, Start and WaitStarted.
func StartNode(t testing.TB, ns *NS, o NodeOptions) *Node {
	t.Helper()
	n := InitNode(t, ns, o)
	n.Start(t)
	n.WaitStarted(t)
	return n
}

var (
	initHelpOnce sync.Once
	initHelp     string
)

// initHasFlag reports whether `gomcat init --help` lists flag.
func initHasFlag(bin, flag string) bool {
	initHelpOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		out, _ := exec.CommandContext(ctx, bin, "init", "--help").CombinedOutput()
		initHelp = string(out)
	})
	for _, end := range []string{" ", "=", "\n", ","} {
		if strings.Contains(initHelp, flag+end) {
			return true
		}
	}
	return false
}

// Gomcat runs `gomcat args...` in the node's namespace with the node's
// environment, to completion, and returns its combined output.
func (n *Node) Gomcat(t testing.TB, args ...string) (string, error) {
	t.Helper()
	return RunGomcat(t, n.NS, n.opts.Env, args...)
}

// Start runs `gomcat start --home …` (plus StartArgs) in the background. It
// does not wait for the node to be ready: see WaitStarted.
func (n *Node) Start(t testing.TB) {
	t.Helper()
	n.start(t, append([]string{Binary(t), "start", "--home", n.Home}, n.opts.StartArgs...)...)
}

// WaitStarted waits for "Server startup in N ms" of the current run and
// fails if the process exits first.
func (n *Node) WaitStarted(t testing.TB) {
	t.Helper()
	n.WaitLog(t, `Server startup in [0-9]+ ?ms`, StartTimeout)
}

// URL is http://<namespace address>:<http port><path> (an IPv6 address in
// brackets).
func (n *Node) URL(path string) string {
	return "http://" + net.JoinHostPort(n.NS.Addr.String(), strconv.Itoa(n.HTTPPort)) + path
}

// Stop runs `gomcat stop --home …` inside the node's namespace and returns
// its output; it does not wait for the node to exit (see Wait).
func (n *Node) Stop(t testing.TB) string {
	t.Helper()
	out, err := n.Gomcat(t, "stop", "--home", n.Home)
	if err != nil {
		t.Fatalf("%s: %v\n%s", n.Route, err, out)
	}
	return out
}
