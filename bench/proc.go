package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Tomcat's milestone lines the bench waits for in a node's log.
const (
	lineStartup     = "Server startup in"
	lineConnector   = "Starting ProtocolHandler"
	lineMemberAdded = "Replication member added"
	lineRequesting  = "requesting session state from"
	lineReceived    = "received in"
	lineNoCluster   = "clustering is not active yet"
)

// maxLogLines bounds the lines kept of each node's log.
const maxLogLines = 4000

// logLine is one line of a node's log (gomcat start --log-format json).
type logLine struct {
	At    time.Time // the line's own timestamp; the time it was read if it has none
	Level string
	Msg   string
}

func (l logLine) String() string { return l.Level + " " + l.Msg }

// nodeLog holds the last lines of a node's log and wakes waiters.
type nodeLog struct {
	mu      sync.Mutex
	lines   []logLine
	waiters map[*logWaiter]struct{}
	ended   bool
}

type logWaiter struct {
	match func(logLine) bool
	ch    chan logLine // buffered 1; closed when the log ends unmatched
}

func newNodeLog() *nodeLog { return &nodeLog{waiters: map[*logWaiter]struct{}{}} }

// parseLine decodes a JSON log line; other lines are kept as they are.
func parseLine(raw string, now time.Time) logLine {
	var j struct {
		Level   string `json:"level"`
		Message string `json:"message"`
		Time    string `json:"time"`
	}
	if err := json.Unmarshal([]byte(raw), &j); err != nil || j.Message == "" {
		return logLine{At: now, Msg: raw}
	}
	l := logLine{At: now, Level: j.Level, Msg: j.Message}
	if t, err := time.Parse(time.RFC3339Nano, j.Time); err == nil {
		l.At = t
	}
	return l
}

func (l *nodeLog) add(line logLine) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.lines) == maxLogLines {
		copy(l.lines, l.lines[maxLogLines/2:])
		l.lines = l.lines[:maxLogLines/2]
	}
	l.lines = append(l.lines, line)
	for w := range l.waiters {
		if w.match(line) {
			w.ch <- line
			delete(l.waiters, w)
		}
	}
}

// end marks the log finished (the process exited): waiters give up.
func (l *nodeLog) end() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ended = true
	for w := range l.waiters {
		close(w.ch)
		delete(l.waiters, w)
	}
}

// find returns the first kept line that matches.
func (l *nodeLog) find(match func(logLine) bool) (logLine, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, x := range l.lines {
		if match(x) {
			return x, true
		}
	}
	return logLine{}, false
}

// wait returns the first line (already kept or still to come) that
// matches, or an error when ctx ends or the log ends first.
func (l *nodeLog) wait(ctx context.Context, match func(logLine) bool) (logLine, error) {
	l.mu.Lock()
	for _, x := range l.lines {
		if match(x) {
			l.mu.Unlock()
			return x, nil
		}
	}
	if l.ended {
		l.mu.Unlock()
		return logLine{}, errLogEnded
	}
	w := &logWaiter{match: match, ch: make(chan logLine, 1)}
	l.waiters[w] = struct{}{}
	l.mu.Unlock()
	select {
	case x, ok := <-w.ch:
		if !ok {
			return logLine{}, errLogEnded
		}
		return x, nil
	case <-ctx.Done():
		l.mu.Lock()
		delete(l.waiters, w)
		l.mu.Unlock()
		return logLine{}, ctx.Err()
	}
}

var errLogEnded = errors.New("the node exited")

// tail returns the last n lines, for error messages.
func (l *nodeLog) tail(n int) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, x := range l.lines[max(len(l.lines)-n, 0):] {
		out = append(out, x.String())
	}
	return out
}

func contains(s string) func(logLine) bool {
	return func(l logLine) bool { return strings.Contains(l.Msg, s) }
}

// node is a "gomcat start" child process on a bench home.
type node struct {
	name, home, url string
	began           time.Time // just before the process was started
	cmd             *exec.Cmd
	log             *nodeLog
	exited          chan struct{}
	exitErr         error
	stopOnce        sync.Once
}

// launch starts "exe start" on home with the HTTP connector on 127.0.0.1
// and a JSON log the bench reads. It does not wait for the node to be
// ready (see ready). The child is killed if the bench dies.
func launch(exe, name, home string, httpPort int) (*node, error) {
	n, err := launchCmd(name, "http://127.0.0.1:"+strconv.Itoa(httpPort), exe, "start", "--home", home,
		"--http-address", "127.0.0.1", "--log-format", "json", "--log-level", "info")
	if n != nil {
		n.home = home
	}
	return n, err
}

// launchCmd starts exe with args as a child whose output (stdout and
// stderr) is read line by line into its log; url is where it serves.
func launchCmd(name, url, exe string, args ...string) (*node, error) {
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	cmd := exec.Command(exe, args...)
	cmd.Stdout, cmd.Stderr = pw, pw
	cmd.Env = childEnv()
	dieWithParent(cmd)
	n := &node{name: name, url: url, cmd: cmd, log: newNodeLog(), exited: make(chan struct{})}
	n.began = time.Now()
	if err := cmd.Start(); err != nil {
		pr.Close()
		pw.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	pw.Close() // the child holds its copy
	logDone := make(chan struct{})
	go func() { // ends at EOF: when the child and its descendants exit
		defer close(logDone)
		n.readLog(pr)
	}()
	go func() { // ends when the child exits
		err := cmd.Wait()
		<-logDone
		n.exitErr = err
		n.log.end()
		close(n.exited)
	}()
	return n, nil
}

func (n *node) readLog(r io.ReadCloser) {
	defer r.Close()
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		n.log.add(parseLine(sc.Text(), time.Now()))
	}
}

// childEnv is the bench's environment without GOMCAT_* variables, so a
// GOMCAT_HOME or override of the caller can't change the bench's nodes.
func childEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GOMCAT_") {
			env = append(env, kv)
		}
	}
	return env
}

func (n *node) pid() int { return n.cmd.Process.Pid }

// ready waits until the node logged "Server startup in" and returns that
// line.
func (n *node) ready(ctx context.Context, timeout time.Duration) (logLine, error) {
	return n.waitLog(ctx, lineStartup, timeout)
}

// waitLog waits up to timeout for a log line containing s.
func (n *node) waitLog(ctx context.Context, s string, timeout time.Duration) (logLine, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	l, err := n.log.wait(ctx, contains(s))
	if err != nil {
		return l, fmt.Errorf("%s: waiting for %q: %w; last lines:\n  %s", n.name, s, err,
			strings.Join(n.log.tail(8), "\n  "))
	}
	return l, nil
}

// stop sends SIGTERM, waits up to grace for the exit, then kills the
// process. Safe to call more than once.
func (n *node) stop(grace time.Duration) {
	n.stopOnce.Do(func() {
		select {
		case <-n.exited:
			return
		default:
		}
		if err := n.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			grace = 0 // no SIGTERM here (Windows): kill at once
		}
		t := time.NewTimer(grace)
		defer t.Stop()
		select {
		case <-n.exited:
		case <-t.C:
			_ = n.cmd.Process.Kill()
			<-n.exited
		}
	})
}
