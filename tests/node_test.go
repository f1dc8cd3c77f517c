//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// A gomcat process in a namespace: its own home (gomcat init), its log
// captured (memory + file), and helpers to wait on the log, signal, stop and
// reap it. t.Cleanup SIGKILLs (by PID) a process still alive at the end,
// dumps the log when the test failed, and fails the test on a race report.

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

// Node is one gomcat node: a home in t.TempDir and, while running, a process.
type Node struct {
	NS           *NS
	Home         string
	Route        string
	HTTPPort     int
	ShutdownPort int
	ReceiverPort int
	LogFile      string // everything the node's processes printed, every run

	t    testing.TB
	opts NodeOptions

	mu      sync.Mutex
	log     bytes.Buffer  // ANSI-stripped output of every run
	partial []byte        // bytes after the last newline, not yet in log
	runMark int           // offset in log where the current run began
	changed chan struct{} // closed and replaced when log grows
	file    *os.File
	proc    *exec.Cmd
	done    chan struct{} // closed when proc has been reaped
	state   *os.ProcessState
}

// InitNode creates a node home in a temporary directory with gomcat init.
// Multicast is bound to the namespace's address with TTL 1 when the binary
// has those flags (membership issue), so nodes on one Net see each other and
// nothing else.
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
	dir := t.TempDir()
	n := &Node{
		NS: ns, Home: filepath.Join(dir, o.Route), Route: o.Route,
		HTTPPort: o.HTTPPort, ShutdownPort: o.ShutdownPort, ReceiverPort: o.ReceiverPort,
		LogFile: filepath.Join(dir, o.Route+".log"),
		t:       t, opts: o, changed: make(chan struct{}),
	}
	f, err := os.Create(n.LogFile)
	if err != nil {
		t.Fatal(err)
	}
	n.file = f
	t.Cleanup(n.cleanup)

	args := []string{"init", "--home", n.Home, "--jvm-route", o.Route,
		"--http-port", strconv.Itoa(o.HTTPPort), "--shutdown-port", strconv.Itoa(o.ShutdownPort),
		"--receiver-port", strconv.Itoa(o.ReceiverPort)}
	if initHasFlag(t, bin, "--mcast-bind") {
		args = append(args, "--mcast-bind", ns.Addr.String())
	}
	if initHasFlag(t, bin, "--mcast-ttl") {
		args = append(args, "--mcast-ttl", "1")
	}
	args = append(args, o.InitArgs...)
	if out, err := n.Gomcat(args...); err != nil {
		t.Fatalf("gomcat init: %v\n%s", err, out)
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

// initHasFlag reports whether `gomcat init --help` mentions flag.
func initHasFlag(t testing.TB, bin, flag string) bool {
	initHelpOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		out, _ := exec.CommandContext(ctx, bin, "init", "--help").CombinedOutput()
		initHelp = string(out)
	})
	return strings.Contains(initHelp, flag+" ") || strings.Contains(initHelp, flag+"=") || strings.Contains(initHelp, flag+"\n")
}

// env is the environment of gomcat commands: the test's, without GOMCAT_*
// variables (they would override the node's home), plus NodeOptions.Env.
func (n *Node) env() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GOMCAT_") {
			env = append(env, kv)
		}
	}
	return append(append(env, "NO_COLOR=1"), n.opts.Env...)
}

// Gomcat runs the gomcat binary with args inside the node's namespace (30 s
// bound) and returns its combined output.
func (n *Node) Gomcat(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := n.NS.Command(ctx, gomcatBin, args...)
	cmd.Env = n.env()
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("in %s: gomcat %s: %w", n.NS, strings.Join(args, " "), err)
	}
	return string(out), nil
}

// Start runs `gomcat start --home …` in the background. The node must not be
// running. It does not wait for the node to be ready: see WaitStarted.
func (n *Node) Start(t testing.TB) {
	t.Helper()
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.proc != nil && n.state == nil {
		t.Fatalf("%s: Start while running (pid %d)", n.Route, n.proc.Process.Pid)
	}
	n.flushPartialLocked()
	n.runMark = n.log.Len()
	fmt.Fprintf(n.file, "==== %s gomcat start (%s in %s)\n", time.Now().Format(time.RFC3339Nano), n.Route, n.NS)

	args := append([]string{"netns", "exec", n.NS.Name, gomcatBin, "start", "--home", n.Home}, n.opts.StartArgs...)
	cmd := exec.Command("ip", args...)
	cmd.Env = n.env()
	cmd.Stdout, cmd.Stderr = logWriter{n}, logWriter{n}
	// ip netns exec execs gomcat in place, so this is gomcat's pid. Should the
	// test process die, the kernel kills the node too.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatalf("%s: start: %v", n.Route, err)
	}
	n.proc, n.state, n.done = cmd, nil, make(chan struct{})
	done := n.done
	go func() {
		_ = cmd.Wait()
		n.mu.Lock()
		n.state = cmd.ProcessState
		n.flushPartialLocked()
		fmt.Fprintf(n.file, "==== %s exited: %s\n", time.Now().Format(time.RFC3339Nano), cmd.ProcessState)
		n.notifyLocked()
		n.mu.Unlock()
		close(done)
	}()
}

// WaitStarted waits for "Server startup in N ms" of the current run and
// fails if the process exits first.
func (n *Node) WaitStarted(t testing.TB) {
	t.Helper()
	n.WaitLog(t, `Server startup in [0-9]+ ?ms`, StartTimeout)
}

// PID of the current (or last) process, 0 if never started.
func (n *Node) PID() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.proc == nil {
		return 0
	}
	return n.proc.Process.Pid
}

// Running reports whether the node's process is alive (not yet reaped).
func (n *Node) Running() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.proc != nil && n.state == nil
}

// URL is http://<namespace address>:<http port><path>.
func (n *Node) URL(path string) string {
	return fmt.Sprintf("http://%s:%d%s", n.NS.Addr, n.HTTPPort, path)
}

// Signal sends sig to the node's process (by PID).
func (n *Node) Signal(t testing.TB, sig syscall.Signal) {
	t.Helper()
	n.mu.Lock()
	p, alive := n.proc, n.proc != nil && n.state == nil
	n.mu.Unlock()
	if !alive {
		t.Fatalf("%s: signal %v: not running", n.Route, sig)
	}
	if err := p.Process.Signal(sig); err != nil {
		t.Fatalf("%s: signal %v: %v", n.Route, sig, err)
	}
}

// Kill SIGKILLs the node (kill -9 by PID) and waits until it is reaped.
func (n *Node) Kill(t testing.TB) {
	t.Helper()
	n.Signal(t, syscall.SIGKILL)
	n.Wait(t, 10*time.Second)
}

// Stop runs `gomcat stop --home …` inside the node's namespace and returns
// its output; it does not wait for the node to exit (see Wait).
func (n *Node) Stop(t testing.TB) string {
	t.Helper()
	out, err := n.Gomcat("stop", "--home", n.Home)
	if err != nil {
		t.Fatalf("%s: %v\n%s", n.Route, err, out)
	}
	return out
}

// Wait waits up to timeout for the current process to exit and returns its
// exit code (-1 when killed by a signal). It fails the test on timeout.
func (n *Node) Wait(t testing.TB, timeout time.Duration) int {
	t.Helper()
	n.mu.Lock()
	done := n.done
	n.mu.Unlock()
	if done == nil {
		t.Fatalf("%s: Wait: never started", n.Route)
	}
	select {
	case <-done:
	case <-time.After(timeout):
		t.Fatalf("%s: still running %s after it was asked to exit", n.Route, timeout)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.state.ExitCode()
}

// Log returns everything the node printed so far (all runs), ANSI-stripped.
func (n *Node) Log() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.log.String() + string(n.partial)
}

// LogMark returns the current end of the log, for WaitLogAfter.
func (n *Node) LogMark() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.flushPartialLocked()
	return n.log.Len()
}

// WaitLog waits until a line of the current run matches the regular
// expression pattern and returns that line. It fails the test on timeout or
// when the process exits without printing it.
func (n *Node) WaitLog(t testing.TB, pattern string, timeout time.Duration) string {
	t.Helper()
	n.mu.Lock()
	mark := n.runMark
	n.mu.Unlock()
	return n.WaitLogAfter(t, mark, pattern, timeout)
}

// WaitLogAfter is WaitLog for lines printed after mark (from LogMark).
func (n *Node) WaitLogAfter(t testing.TB, mark int, pattern string, timeout time.Duration) string {
	t.Helper()
	re := regexp.MustCompile(pattern)
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		n.mu.Lock()
		line, ok := matchLine(n.log.Bytes()[min(mark, n.log.Len()):], re)
		exited := n.state != nil
		changed := n.changed
		n.mu.Unlock()
		if ok {
			return line
		}
		if exited {
			t.Fatalf("%s exited without logging /%s/", n.Route, pattern)
		}
		select {
		case <-changed:
		case <-deadline.C:
			t.Fatalf("%s: no log line /%s/ within %s", n.Route, pattern, timeout)
		}
	}
}

// CountLog counts the lines of the whole log (all runs) matching pattern.
func (n *Node) CountLog(pattern string) int {
	re := regexp.MustCompile(pattern)
	c := 0
	for line := range strings.SplitSeq(n.Log(), "\n") {
		if re.MatchString(line) {
			c++
		}
	}
	return c
}

func matchLine(b []byte, re *regexp.Regexp) (string, bool) {
	for line := range bytes.SplitSeq(b, []byte("\n")) {
		if re.Match(line) {
			return string(line), true
		}
	}
	return "", false
}

// logWriter appends a process's output to the node's log and file.
type logWriter struct{ n *Node }

var ansiRE = regexp.MustCompile("\x1b\\[[0-9;]*[A-Za-z]")

func (w logWriter) Write(p []byte) (int, error) {
	n := w.n
	n.mu.Lock()
	defer n.mu.Unlock()
	n.file.Write(p)
	n.partial = append(n.partial, p...)
	if i := bytes.LastIndexByte(n.partial, '\n'); i >= 0 {
		n.log.Write(ansiRE.ReplaceAll(n.partial[:i+1], nil))
		n.partial = append(n.partial[:0], n.partial[i+1:]...)
		n.notifyLocked()
	}
	return len(p), nil
}

func (n *Node) flushPartialLocked() {
	if len(n.partial) > 0 {
		n.log.Write(ansiRE.ReplaceAll(n.partial, nil))
		n.log.WriteByte('\n')
		n.partial = n.partial[:0]
	}
}

func (n *Node) notifyLocked() {
	close(n.changed)
	n.changed = make(chan struct{})
}

// cleanup kills a live process, reports races and dumps the log on failure.
func (n *Node) cleanup() {
	t := n.t
	n.mu.Lock()
	p, done := n.proc, n.done
	alive := p != nil && n.state == nil
	n.mu.Unlock()
	if alive {
		_ = p.Process.Signal(syscall.SIGKILL)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Errorf("%s: pid %d not reaped 10 s after SIGKILL", n.Route, p.Process.Pid)
		}
	}
	log := n.Log()
	if strings.Contains(log, "WARNING: DATA RACE") {
		t.Errorf("%s: the race detector reported a data race (log below)", n.Route)
	}
	if t.Failed() {
		const max = 64 << 10
		if len(log) > max {
			log = "…" + log[len(log)-max:]
		}
		t.Logf("==== log of %s in %s (home %s):\n%s==== end of log of %s", n.Route, n.NS, n.Home, log, n.Route)
	}
	if n.file != nil {
		if err := n.file.Close(); err != nil && !errors.Is(err, os.ErrClosed) {
			t.Errorf("%s: log file: %v", n.Route, err)
		}
	}
}
