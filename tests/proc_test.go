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
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// A long-running process in a namespace (a gomcat node, `gomcat balancer`,
// haproxy, …): output captured in memory (ANSI-stripped, for WaitLog) and in
// a file under t.TempDir; signals and waits by PID. t.Cleanup SIGKILLs (by
// PID) a process still alive, fails the test on a race report and dumps the
// log when the test failed (always, with GOMCAT_E2E_LOGS=1). A Proc can be started again after it exited
// (Node.Start does): its log keeps every run.

// Proc is a process started in a namespace, restartable.
type Proc struct {
	Label   string // name in messages and logs ("node1", "balancer")
	NS      *NS
	LogFile string // everything every run printed

	t   testing.TB
	env []string // full environment of every run

	mu      sync.Mutex
	log     bytes.Buffer  // ANSI-stripped output of every run
	partial []byte        // bytes after the last newline, not yet in log
	runMark int           // offset in log where the current run began
	changed chan struct{} // closed and replaced when log grows or the process exits
	file    *os.File
	cmd     *exec.Cmd
	done    chan struct{} // closed when cmd has been reaped
	state   *os.ProcessState
}

// newProc prepares a Proc (not started) with its log file and cleanup.
// extraEnv is added to the test's environment minus GOMCAT_* variables.
func newProc(t testing.TB, ns *NS, label string, extraEnv []string) *Proc {
	t.Helper()
	p := &Proc{Label: label, NS: ns, t: t, env: childEnv(extraEnv), changed: make(chan struct{})}
	p.LogFile = filepath.Join(t.TempDir(), label+".log")
	f, err := os.Create(p.LogFile)
	if err != nil {
		t.Fatal(err)
	}
	p.file = f
	t.Cleanup(p.cleanup)
	return p
}

// StartCommand starts argv inside ns as a long-running process labelled
// label (its log file is label.log).
func StartCommand(t testing.TB, ns *NS, label string, env []string, argv ...string) *Proc {
	t.Helper()
	p := newProc(t, ns, label, env)
	p.start(t, argv...)
	return p
}

// StartGomcat starts `gomcat args...` inside ns as a long-running process
// (e.g. "balancer", "--listen", …).
func StartGomcat(t testing.TB, ns *NS, label string, env []string, args ...string) *Proc {
	t.Helper()
	return StartCommand(t, ns, label, env, append([]string{Binary(t)}, args...)...)
}

// RunGomcat runs `gomcat args...` inside ns to completion (30 s bound) and
// returns its combined output; env is added as for StartGomcat.
func RunGomcat(t testing.TB, ns *NS, env []string, args ...string) (string, error) {
	t.Helper()
	bin := Binary(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := ns.Command(ctx, bin, args...)
	cmd.Env = childEnv(env)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("in %s: gomcat %s: %w", ns, strings.Join(args, " "), err)
	}
	return string(out), nil
}

// E2EClusterKey is the cluster key every gomcat command of the tests gets
// (GOMCAT_CLUSTER_KEY) unless its env sets GOMCAT_CLUSTER_KEY* or
// GOMCAT_INSECURE_CLUSTER itself: nodes off loopback need a key, and the
// tests run the cluster as it is deployed, sealed. Flags (--cluster-key)
// beat it.
const E2EClusterKey = "e2e0c1a55e5ea1ed0000000000000000e2e0c1a55e5ea1ed0000000000000001"

// childEnv is the test's environment without GOMCAT_* variables (they would
// override a node's home and settings), with NO_COLOR=1 and the e2e cluster
// key (see E2EClusterKey), plus extra.
func childEnv(extra []string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GOMCAT_") {
			env = append(env, kv)
		}
	}
	env = append(env, "NO_COLOR=1")
	if !envKeyed(extra) {
		env = append(env, "GOMCAT_CLUSTER_KEY="+E2EClusterKey)
	}
	return append(env, extra...)
}

// envKeyed reports whether env sets GOMCAT_CLUSTER_KEY* or
// GOMCAT_INSECURE_CLUSTER (even to "", which unsets it for gomcat).
func envKeyed(env []string) bool {
	for _, kv := range env {
		if strings.HasPrefix(kv, "GOMCAT_CLUSTER_KEY") || strings.HasPrefix(kv, "GOMCAT_INSECURE_CLUSTER") {
			return true
		}
	}
	return false
}

// start runs argv in the namespace in the background. It must not be running.
func (p *Proc) start(t testing.TB, argv ...string) {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd != nil && p.state == nil {
		t.Fatalf("%s: start while running (pid %d)", p.Label, p.cmd.Process.Pid)
	}
	p.flushPartialLocked()
	p.runMark = p.log.Len()
	fmt.Fprintf(p.file, "==== %s start in %s: %s\n", time.Now().Format(time.RFC3339Nano), p.NS, strings.Join(argv, " "))

	cmd := exec.Command("ip", append([]string{"netns", "exec", p.NS.Name}, argv...)...)
	cmd.Env = p.env
	cmd.Stdout, cmd.Stderr = logWriter{p}, logWriter{p}
	// ip netns exec execs the program in place, so this is its pid. Should
	// the test process die, the kernel kills the child too.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatalf("%s: start: %v", p.Label, err)
	}
	p.cmd, p.state, p.done = cmd, nil, make(chan struct{})
	done := p.done
	go func() {
		_ = cmd.Wait()
		p.mu.Lock()
		p.state = cmd.ProcessState
		p.flushPartialLocked()
		fmt.Fprintf(p.file, "==== %s exited: %s\n", time.Now().Format(time.RFC3339Nano), cmd.ProcessState)
		p.notifyLocked()
		p.mu.Unlock()
		close(done)
	}()
}

// PID of the current (or last) process, 0 if never started.
func (p *Proc) PID() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return 0
	}
	return p.cmd.Process.Pid
}

// Running reports whether the process is alive (not yet reaped).
func (p *Proc) Running() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cmd != nil && p.state == nil
}

// Signal sends sig to the process (by PID).
func (p *Proc) Signal(t testing.TB, sig syscall.Signal) {
	t.Helper()
	p.mu.Lock()
	cmd, alive := p.cmd, p.cmd != nil && p.state == nil
	p.mu.Unlock()
	if !alive {
		t.Fatalf("%s: signal %v: not running", p.Label, sig)
	}
	if err := cmd.Process.Signal(sig); err != nil {
		t.Fatalf("%s: signal %v: %v", p.Label, sig, err)
	}
}

// Kill sends SIGKILL (kill -9 by PID) and waits until the process is reaped.
func (p *Proc) Kill(t testing.TB) {
	t.Helper()
	p.Signal(t, syscall.SIGKILL)
	p.Wait(t, 10*time.Second)
}

// Wait waits up to timeout for the current process to exit and returns its
// exit code (-1 when a signal ended it). It fails the test on timeout.
func (p *Proc) Wait(t testing.TB, timeout time.Duration) int {
	t.Helper()
	p.mu.Lock()
	done := p.done
	p.mu.Unlock()
	if done == nil {
		t.Fatalf("%s: Wait: never started", p.Label)
	}
	select {
	case <-done:
	case <-time.After(timeout):
		t.Fatalf("%s: still running after %s", p.Label, timeout)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.state.ExitCode()
}

// Log returns everything the process printed so far (all runs), ANSI-stripped.
func (p *Proc) Log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.log.String() + string(p.partial)
}

// LogMark returns the current end of the log, for WaitLogAfter.
func (p *Proc) LogMark() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.log.Len()
}

// WaitLog waits until a line of the current run matches the regular
// expression pattern and returns that line. It fails the test on timeout or
// when the process exits without printing it.
func (p *Proc) WaitLog(t testing.TB, pattern string, timeout time.Duration) string {
	t.Helper()
	p.mu.Lock()
	mark := p.runMark
	p.mu.Unlock()
	return p.WaitLogAfter(t, mark, pattern, timeout)
}

// WaitLogAfter is WaitLog for lines printed after mark (from LogMark).
func (p *Proc) WaitLogAfter(t testing.TB, mark int, pattern string, timeout time.Duration) string {
	t.Helper()
	re := regexp.MustCompile(pattern)
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		p.mu.Lock()
		line, ok := matchLine(p.log.Bytes()[min(mark, p.log.Len()):], re)
		exited := p.state != nil
		changed := p.changed
		p.mu.Unlock()
		if ok {
			return line
		}
		if exited {
			t.Fatalf("%s exited without logging /%s/", p.Label, pattern)
		}
		select {
		case <-changed:
		case <-deadline.C:
			t.Fatalf("%s: no log line /%s/ within %s", p.Label, pattern, timeout)
		}
	}
}

// CountLog counts the lines of the whole log (all runs) matching pattern.
func (p *Proc) CountLog(pattern string) int {
	re := regexp.MustCompile(pattern)
	c := 0
	for line := range strings.SplitSeq(p.Log(), "\n") {
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

// logWriter appends a process's output to the Proc's log and file. exec
// calls Write from one goroutine at a time (Stdout and Stderr are equal).
type logWriter struct{ p *Proc }

var ansiRE = regexp.MustCompile("\x1b\\[[0-9;]*[A-Za-z]")

func (w logWriter) Write(b []byte) (int, error) {
	p := w.p
	p.mu.Lock()
	defer p.mu.Unlock()
	p.file.Write(b)
	p.partial = append(p.partial, b...)
	if i := bytes.LastIndexByte(p.partial, '\n'); i >= 0 {
		p.log.Write(ansiRE.ReplaceAll(p.partial[:i+1], nil))
		p.partial = append(p.partial[:0], p.partial[i+1:]...)
		p.notifyLocked()
	}
	return len(b), nil
}

func (p *Proc) flushPartialLocked() {
	if len(p.partial) > 0 {
		p.log.Write(ansiRE.ReplaceAll(p.partial, nil))
		p.log.WriteByte('\n')
		p.partial = p.partial[:0]
	}
}

func (p *Proc) notifyLocked() {
	close(p.changed)
	p.changed = make(chan struct{})
}

// cleanup kills a live process, reports races and dumps the log on failure.
func (p *Proc) cleanup() {
	t := p.t
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	alive := cmd != nil && p.state == nil
	p.mu.Unlock()
	if alive {
		_ = cmd.Process.Signal(syscall.SIGKILL)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Errorf("%s: pid %d not reaped 10 s after SIGKILL", p.Label, cmd.Process.Pid)
		}
	}
	log := p.Log()
	if strings.Contains(log, "WARNING: DATA RACE") {
		t.Errorf("%s: the race detector reported a data race (see its log)", p.Label)
	}
	if t.Failed() || os.Getenv("GOMCAT_E2E_LOGS") != "" {
		const max = 64 << 10
		if len(log) > max {
			log = "…" + log[len(log)-max:]
		}
		t.Logf("==== log of %s in %s (%s):\n%s==== end of log of %s", p.Label, p.NS, p.LogFile, log, p.Label)
	}
	if err := p.file.Close(); err != nil && !errors.Is(err, os.ErrClosed) {
		t.Errorf("%s: log file: %v", p.Label, err)
	}
}
