//go:build e2e

package e2e

import (
	"context"
	"io"
	"net"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Foundation scenarios (issue 2): a node in one namespace serves the example
// app to a client in another, stops cleanly by `gomcat stop`, and drains an
// in-flight request on SIGTERM.

// cleanStopRE matches the node's last lifecycle line of a clean stop.
const cleanStopRE = `Server stopped in [0-9]+ ?ms`

var sessionIDRE = regexp.MustCompile(`^[0-9A-F]{32}\.node1$`)

func TestNodeServesAcrossNamespacesAndStops(t *testing.T) {
	t.Parallel()
	nt := NewNet(t, 2)
	a, b := nt.NS[0], nt.NS[1]
	n := StartNode(t, a, NodeOptions{Route: "node1"})
	// InitNode put multicast on the namespace's own address, not loopback.
	if out, err := n.Gomcat(t, "configtest", "--home", n.Home); err != nil || !strings.Contains(out, a.Addr.String()) {
		t.Errorf("configtest does not show multicast bound to %s: %v\n%s", a.Addr, err, out)
	}
	c := b.HTTPClient(true)
	defer c.CloseIdleConnections()

	code, body := Get(t, c, n.URL("/set?k=a&v=1"))
	if code != 200 {
		t.Fatalf("/set: %d %q", code, body)
	}
	id := Cookie(t, c, n.URL("/"), "JSESSIONID")
	if !sessionIDRE.MatchString(id) {
		t.Fatalf("JSESSIONID %q: want 32 upper-case hex + .node1", id)
	}
	if want := "ok " + id; body != want {
		t.Errorf("/set: %q, want %q", body, want)
	}
	if code, body := Get(t, c, n.URL("/get?k=a")); code != 200 || body != "1" {
		t.Errorf("/get with the cookie: %d %q, want 200 \"1\"", code, body)
	}
	if code, body := Get(t, b.HTTPClient(false), n.URL("/get?k=a")); code != 404 {
		t.Errorf("/get without a cookie: %d %q, want 404", code, body)
	}

	// A wrong command on the shutdown port (127.0.0.1 inside the node's
	// namespace) is ignored: the node keeps serving.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sc, err := a.DialContext(ctx, "tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(n.ShutdownPort)))
	if err != nil {
		t.Fatalf("shutdown port: %v", err)
	}
	io.WriteString(sc, "NOT-THE-COMMAND\n")
	sc.Close()
	n.WaitLog(t, `Invalid shutdown command`, 10*time.Second)
	if code, body := Get(t, c, n.URL("/get?k=a")); code != 200 || body != "1" {
		t.Errorf("/get after a wrong shutdown command: %d %q", code, body)
	}
	if !n.Running() {
		t.Fatalf("node exited after a wrong shutdown command")
	}
	// The shutdown port is not reachable from another namespace.
	if sc, err := b.DialContext(ctx, "tcp", net.JoinHostPort(a.Addr.String(), strconv.Itoa(n.ShutdownPort))); err == nil {
		sc.Close()
		t.Errorf("shutdown port reachable from %s on %s", b, a.Addr)
	}

	mark := n.LogMark()
	n.Stop(t)
	if code := n.Wait(t, 30*time.Second); code != 0 {
		t.Errorf("exit code after gomcat stop: %d, want 0", code)
	}
	n.WaitLogAfter(t, mark, `A valid shutdown command was received`, time.Second)
	n.WaitLogAfter(t, mark, cleanStopRE, time.Second)
	c.CloseIdleConnections()
	if _, err := c.Get(n.URL("/get?k=a")); err == nil {
		t.Errorf("node still answers after it exited")
	}
}

func TestSIGTERMDrainsSlowRequest(t *testing.T) {
	t.Parallel()
	nt := NewNet(t, 2)
	a, b := nt.NS[0], nt.NS[1]
	n := StartNode(t, a, NodeOptions{})

	f := GoGet(b.HTTPClient(false), n.URL("/slow?ms=1500"))
	f.WaitServed(t, b, a, n.HTTPPort, 20*time.Second)
	mark := n.LogMark()
	n.Signal(t, syscall.SIGTERM)
	code, body, err := f.Result(t, 30*time.Second)
	if err != nil || code != 200 {
		t.Errorf("slow request across SIGTERM: %d %q %v, want 200", code, body, err)
	}
	if code := n.Wait(t, 30*time.Second); code != 0 {
		t.Errorf("exit code after SIGTERM: %d, want 0", code)
	}
	n.WaitLogAfter(t, mark, cleanStopRE, time.Second)
}

// The harness's multicast plumbing with real nodes: two nodes in two
// namespaces find each other across the bridge (bound to their own
// addresses, TTL 1), and a session set on one is read on the other.
func TestTwoNodesAcrossTheBridge(t *testing.T) {
	t.Parallel()
	nt := NewNet(t, 3)
	n1 := InitNode(t, nt.NS[0], NodeOptions{})
	n2 := InitNode(t, nt.NS[1], NodeOptions{})
	n1.Start(t)
	n2.Start(t)
	n1.WaitStarted(t)
	n2.WaitStarted(t)
	n1.WaitLog(t, `Replication member added: tcp://`+regexp.QuoteMeta(nt.NS[1].Addr.String())+`:[0-9]+,node2`, 10*time.Second)
	n2.WaitLog(t, `Replication member added: tcp://`+regexp.QuoteMeta(nt.NS[0].Addr.String())+`:[0-9]+,node1`, 10*time.Second)

	// One jar for both nodes, as a browser behind a balancer has.
	c := nt.NS[2].HTTPClientJar(NewClusterJar())
	defer c.CloseIdleConnections()
	if code, body := Get(t, c, n1.URL("/set?k=a&v=1")); code != 200 {
		t.Fatalf("/set on node1: %d %q", code, body)
	}
	// Replication is asynchronous by default: poll node2 until it has it.
	var code int
	var body string
	waitFor(t, 10*time.Second, "node1's session on node2", func() bool {
		code, body = Get(t, c, n2.URL("/get?k=a"))
		return code == 200
	})
	if body != "1" {
		t.Errorf("/get on node2: %q, want \"1\"", body)
	}
	if id := Cookie(t, c, n2.URL("/"), "JSESSIONID"); !regexp.MustCompile(`^[0-9A-F]{32}\.node2$`).MatchString(id) {
		t.Errorf("cookie after node2 served node1's session: %q, want …node2", id)
	}
}
