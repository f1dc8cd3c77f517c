//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Operating a node (issue 12): a second start on a live home is refused,
// a port in use fails before the node announces itself, gomcat stop
// returns once the process has exited, the demo's printed commands work
// as printed, and SIGHUP reopens the log file.

// gone reports whether pid has exited (no such process, or a zombie
// waiting to be reaped).
func gone(pid int) bool {
	if err := syscall.Kill(pid, 0); err != nil {
		return true
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	i := strings.LastIndexByte(string(b), ')')
	return i >= 0 && i+2 < len(b) && b[i+2] == 'Z'
}

func TestOpsStartTwiceRefused(t *testing.T) {
	t.Parallel()
	nt := NewNet(t, 2)
	n := StartNode(t, nt.NS[0], NodeOptions{})
	pidFile := filepath.Join(n.Home, "logs", "gomcat.pid")
	before, err := os.ReadFile(pidFile)
	if err != nil || strings.TrimSpace(string(before)) != strconv.Itoa(n.PID()) {
		t.Fatalf("pid file %q (%v), want %d", before, err, n.PID())
	}
	out, err := n.Gomcat(t, "start", "--home", n.Home)
	if err == nil {
		t.Fatalf("second start succeeded:\n%s", out)
	}
	want := fmt.Sprintf("is already running: pid %d holds Connector", n.PID())
	if !strings.Contains(out, want) || !strings.Contains(out, fmt.Sprintf(":%d", n.HTTPPort)) {
		t.Fatalf("second start: %q, want %q and the HTTP port", out, want)
	}
	if strings.Contains(out, "Cluster is about to start") {
		t.Fatalf("the refused start joined the cluster:\n%s", out)
	}
	after, err := os.ReadFile(pidFile)
	if err != nil || string(after) != string(before) {
		t.Fatalf("pid file after the refused start: %q (%v), want %q", after, err, before)
	}
	c := nt.NS[1].HTTPClient(false)
	if code, body := Get(t, c, n.URL("/node")); code != 200 || body != n.Route {
		t.Fatalf("first node after the refused start: %d %q", code, body)
	}
	if strings.Contains(n.Log(), "Replication member added") {
		t.Errorf("the first node saw a member (a second node1?):\n%s", n.Log())
	}
}

// node2's HTTP port is taken: it fails naming the Connector, address and
// port, before its cluster starts, so node1 never sees it.
func TestOpsPortInUseBeforeMembership(t *testing.T) {
	t.Parallel()
	nt := NewNet(t, 2)
	n1 := StartNode(t, nt.NS[0], NodeOptions{})
	ln, err := nt.NS[1].Listen("tcp", fmt.Sprintf(":%d", DefaultHTTPPort))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	n2 := InitNode(t, nt.NS[1], NodeOptions{})
	n2.Start(t)
	if code := n2.Wait(t, 30*time.Second); code == 0 {
		t.Fatalf("node2 started on a taken port:\n%s", n2.Log())
	}
	want := fmt.Sprintf("Connector port %d on all interfaces: address already in use", DefaultHTTPPort)
	if !strings.Contains(n2.Log(), want) {
		t.Fatalf("node2's error does not say %q:\n%s", want, n2.Log())
	}
	for _, never := range []string{"Cluster is about to start", "Receiver Server Socket bound"} {
		if strings.Contains(n2.Log(), never) {
			t.Errorf("node2 logged %q before failing on its port:\n%s", never, n2.Log())
		}
	}
	// node1 heartbeats every 500 ms: a node2 heartbeat would have been
	// seen; ask an observer too.
	out, err := n1.Gomcat(t, "members", "--home", n1.Home, "--once", "--wait", "2s")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if strings.Contains(out, "node2") || strings.Contains(n1.Log(), "node2") {
		t.Fatalf("node2 appeared in the membership:\n%s\n%s", out, n1.Log())
	}
}

// gomcat stop --wait returns only after the process exited, even while a
// slow request drains.
func TestOpsStopWaitsForExit(t *testing.T) {
	t.Parallel()
	nt := NewNet(t, 2)
	n := StartNode(t, nt.NS[0], NodeOptions{})
	f := GoGet(nt.NS[1].HTTPClient(false), n.URL("/slow?ms=1500"))
	f.WaitServed(t, nt.NS[1], nt.NS[0], n.HTTPPort, 20*time.Second)
	pid := n.PID()
	out, err := n.Gomcat(t, "stop", "--home", n.Home, "--wait", "25s")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !gone(pid) {
		t.Fatalf("stop returned but pid %d is alive:\n%s", pid, out)
	}
	if !strings.Contains(out, fmt.Sprintf("process %d exited", pid)) {
		t.Errorf("stop output: %q", out)
	}
	if code, _, err := f.Result(t, 5*time.Second); err != nil || code != 200 {
		t.Errorf("the slow request across the stop: %d %v", code, err)
	}
	if code := n.Wait(t, 5*time.Second); code != 0 {
		t.Errorf("exit code %d", code)
	}
	n.WaitLog(t, cleanStopRE, time.Second)
}

// The demo, as a user runs it: its printed farm deploy and stop lines run
// as printed (a shell in the demo's namespace), and node2 really stops.
func TestOpsDemoPrintedCommands(t *testing.T) {
	t.Parallel()
	nt := NewNet(t, 1)
	ns := nt.NS[0]
	demo := StartGomcat(t, ns, "demo", nil, "demo")
	demo.WaitLog(t, `Stop: Ctrl-C`, 90*time.Second)
	out := demo.Log()
	line := func(what string) string {
		m := regexp.MustCompile(`(?m)^  (\S.* ` + what + ` [^#\n]*?)\s*(#.*)?$`).FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("the demo printed no %q line:\n%s", what, out)
		}
		return m[1]
	}
	bin := Binary(t)
	sh := func(cmd string) string {
		t.Helper()
		if !strings.HasPrefix(cmd, bin+" ") {
			t.Fatalf("printed %q does not start with the binary %s", cmd, bin)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		o, err := ns.Exec(ctx, "sh", "-c", cmd)
		if err != nil {
			t.Fatalf("printed %q: %v", cmd, err)
		}
		return o
	}
	url1 := regexp.MustCompile(`node1 +(http://\S+)`).FindStringSubmatch(out)[1]
	url2 := regexp.MustCompile(`node2 +(http://\S+)`).FindStringSubmatch(out)[1]
	sh(line("bundle create"))
	if o := sh(line("deploy")); !strings.Contains(o, "started on 2 member(s)") {
		t.Fatalf("deploy: %q", o)
	}
	c := ns.HTTPClient(false)
	if code, body := Get(t, c, url2+"/shop/"); code != 200 || !strings.Contains(body, "Farmed to every node") {
		t.Fatalf("node2 /shop/ after the printed deploy: %d %q", code, body)
	}
	mark := demo.LogMark()
	if o := sh(line("stop")); !strings.Contains(o, "stopped in") {
		t.Fatalf("stop: %q", o)
	}
	demo.WaitLogAfter(t, mark, `node2 stopped \(shutdown command\)`, 5*time.Second)
	demo.WaitLogAfter(t, mark, `Replication member disappeared.*node2`, 10*time.Second)
	c.CloseIdleConnections()
	if _, err := c.Get(url2 + "/node"); err == nil {
		t.Fatal("node2 still serves after the printed stop")
	}
	if code, body := Get(t, c, url1+"/node"); code != 200 || body != "node1" {
		t.Fatalf("node1 after node2's stop: %d %q", code, body)
	}
	demo.Signal(t, syscall.SIGTERM)
	if code := demo.Wait(t, 30*time.Second); code != 0 {
		t.Errorf("demo exit code %d", code)
	}
}

// --log-file puts the log under the home; after logrotate's move, SIGHUP
// makes the node write a new file at the path.
func TestOpsSIGHUPReopensLogFile(t *testing.T) {
	t.Parallel()
	nt := NewNet(t, 2)
	n := InitNode(t, nt.NS[0], NodeOptions{StartArgs: []string{"--log-file", "logs/catalina.out"}})
	file := filepath.Join(n.Home, "logs", "catalina.out")
	read := func(p string) string { b, _ := os.ReadFile(p); return string(b) }
	n.Start(t)
	n.WaitLog(t, `logging to `+regexp.QuoteMeta(file), 30*time.Second)
	waitFor(t, StartTimeout, "Server startup in the log file", func() bool { return strings.Contains(read(file), "Server startup in") })
	if err := os.Rename(file, file+".1"); err != nil {
		t.Fatal(err)
	}
	n.Signal(t, syscall.SIGHUP)
	waitFor(t, 10*time.Second, "the reopened log file", func() bool { return strings.Contains(read(file), "log file reopened (SIGHUP)") })
	if !n.Running() {
		t.Fatal("SIGHUP stopped the node")
	}
	if code, _ := Get(t, nt.NS[1].HTTPClient(false), n.URL("/node")); code != 200 {
		t.Fatalf("node after SIGHUP: %d", code)
	}
	n.Stop(t)
	n.Wait(t, 30*time.Second)
	if !strings.Contains(read(file), "Server stopped in") || strings.Contains(read(file+".1"), "Server stopped in") {
		t.Errorf("the stop lines went to the old file:\nnew:\n%s\nold:\n%s", read(file), read(file+".1"))
	}
}
