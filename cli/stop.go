package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	ucli "github.com/urfave/cli/v2"

	"github.com/gomcat/gomcat/internal/proc"
	"github.com/gomcat/gomcat/runtime/node"
)

// stopPoll is how often stop looks whether the node's process is gone.
const stopPoll = 20 * time.Millisecond

func stopCommand() *ucli.Command {
	return &ucli.Command{
		Name:  "stop",
		Usage: "stop a running node: send the shutdown command to its shutdown port on 127.0.0.1 and wait until it has stopped",
		Description: "Waits up to --wait for the node to stop (the process of logs/gomcat.pid to exit, or the node to answer\n" +
			"\"stopped\" when it is embedded in a longer-lived program); --wait 0 only sends the command.\n" +
			"With --force, a node still running after --wait is killed (SIGKILL), as catalina.sh stop -force does.\n" +
			"With the shutdown port disabled (Server port=\"-1\") the process of the pid file gets SIGTERM instead.",
		Flags: []ucli.Flag{
			homeFlag(),
			&ucli.IntFlag{Name: "shutdown-port", Usage: "override the port from server.xml"},
			&ucli.DurationFlag{Name: "timeout", Value: 10 * time.Second, Usage: "connect and send timeout"},
			&ucli.DurationFlag{Name: "wait", Value: time.Minute, Usage: "how long to wait for the node to stop (0: do not wait)"},
			&ucli.BoolFlag{Name: "force", Usage: "kill the node's process if it is still running after --wait"},
		},
		Action: func(c *ucli.Context) error {
			dir, err := home(c)
			if err != nil {
				return err
			}
			s, warns, err := loadServer(c, dir)
			if err != nil {
				return configError(c, warns, err)
			}
			st := stopper{home: dir, wait: c.Duration("wait"), force: c.Bool("force"), timeout: c.Duration("timeout"), out: c.App.Writer}
			st.pid, st.pidErr = node.ReadPID(dir)
			if s.Port == -1 {
				return st.bySignal(c.Context)
			}
			return st.byPort(c.Context, net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Port)), s.Shutdown)
		},
	}
}

// stopper is one `gomcat stop`.
type stopper struct {
	home    string
	wait    time.Duration
	force   bool
	timeout time.Duration
	out     io.Writer
	pid     int   // from the pid file; 0 if unknown
	pidErr  error // why pid is 0
}

// alive reports whether the node's process (per its pid file) runs; false
// when the pid is unknown or is this process (an in-process node).
func (st *stopper) alive() bool {
	return st.pid > 0 && st.pid != os.Getpid() && proc.Alive(st.pid)
}

func (st *stopper) pidFile() string { return filepath.Join(st.home, "logs", node.PIDFile) }

// byPort sends the command and waits for the node's answer or its exit.
func (st *stopper) byPort(ctx context.Context, addr, command string) error {
	conn, err := net.DialTimeout("tcp", addr, st.timeout)
	if err != nil {
		if !errors.Is(err, syscall.ECONNREFUSED) {
			return fmt.Errorf("shutdown port %s: %w", addr, err)
		}
		if !st.alive() {
			return fmt.Errorf("nothing listens on the shutdown port %s: is the node of %s running?", addr, st.home)
		}
		if st.force {
			fmt.Fprintf(st.out, "nothing listens on the shutdown port %s; pid %d (%s) is alive\n", addr, st.pid, st.pidFile())
			return st.kill(ctx)
		}
		return fmt.Errorf("nothing listens on the shutdown port %s, but pid %d of %s is alive (still starting, hung, or not this node): gomcat stop --force --wait 0 kills it",
			addr, st.pid, st.pidFile())
	}
	defer conn.Close()
	_ = conn.SetWriteDeadline(time.Now().Add(st.timeout))
	if _, err := conn.Write([]byte(command + "\n")); err != nil {
		return fmt.Errorf("shutdown port %s: %w", addr, err)
	}
	fmt.Fprintf(st.out, "shutdown command sent to %s\n", addr)
	if st.wait <= 0 && !st.force {
		return nil
	}
	began := time.Now()
	deadline := began.Add(st.wait)
	// The node answers "stopped" once stopped, or its process exit
	// closes the connection (gomcat run).
	_ = conn.SetReadDeadline(deadline)
	line, rerr := bufio.NewReader(conn).ReadString('\n')
	if strings.TrimSpace(line) == node.StoppedReply {
		if st.alive() {
			fmt.Fprintf(st.out, "the node of %s stopped in %s (its process %d, which embeds it, keeps running)\n", st.home, roundMs(time.Since(began)), st.pid)
		} else {
			fmt.Fprintf(st.out, "the node of %s stopped in %s\n", st.home, roundMs(time.Since(began)))
		}
		return nil
	}
	var ne net.Error
	if rerr != nil && !(errors.As(rerr, &ne) && ne.Timeout()) {
		// Closed without an answer: the process exited (or an older
		// node closed at once); wait for the exit.
		if st.pid == 0 {
			fmt.Fprintf(st.out, "the node of %s closed the shutdown connection (no pid file to wait on: %v)\n", st.home, st.pidErr)
			return nil
		}
		if st.waitExit(ctx, deadline) {
			fmt.Fprintf(st.out, "the node of %s stopped: process %d exited after %s\n", st.home, st.pid, roundMs(time.Since(began)))
			return nil
		}
	}
	return st.overdue(ctx)
}

// bySignal stops a node without a shutdown port: SIGTERM to its pid.
func (st *stopper) bySignal(ctx context.Context) error {
	if st.pid == 0 {
		return fmt.Errorf("the shutdown port is disabled (Server port=\"-1\") and there is no pid to signal (%v)", st.pidErr)
	}
	if !st.alive() {
		return fmt.Errorf("the node of %s is not running (pid %d of %s is gone)", st.home, st.pid, st.pidFile())
	}
	if err := proc.Terminate(st.pid); err != nil {
		if !st.force {
			return fmt.Errorf("the shutdown port is disabled (Server port=\"-1\"): %w; gomcat stop --force kills it", err)
		}
		return st.kill(ctx)
	}
	fmt.Fprintf(st.out, "SIGTERM sent to pid %d\n", st.pid)
	if st.wait <= 0 && !st.force {
		return nil
	}
	began := time.Now()
	if st.waitExit(ctx, began.Add(st.wait)) {
		fmt.Fprintf(st.out, "the node of %s stopped: process %d exited after %s\n", st.home, st.pid, roundMs(time.Since(began)))
		return nil
	}
	return st.overdue(ctx)
}

// overdue handles a node still running after --wait: kill with --force,
// else fail.
func (st *stopper) overdue(ctx context.Context) error {
	if st.force && st.alive() {
		fmt.Fprintf(st.out, "still running after %s\n", st.wait)
		return st.kill(ctx)
	}
	if st.pid > 0 && st.pid != os.Getpid() {
		return fmt.Errorf("the node of %s (pid %d) is still running after %s; gomcat stop --force kills it", st.home, st.pid, st.wait)
	}
	return fmt.Errorf("the node of %s did not report stopped within %s", st.home, st.wait)
}

// kill sends SIGKILL and waits (up to 10 s) for the exit. The pid file
// stays: the next start replaces it as stale.
func (st *stopper) kill(ctx context.Context) error {
	if st.pid == os.Getpid() {
		return errors.New("the node runs in this process; not killing it")
	}
	if err := proc.Kill(st.pid); err != nil {
		return err
	}
	if !st.waitExit(ctx, time.Now().Add(10*time.Second)) {
		return fmt.Errorf("pid %d still exists 10s after SIGKILL", st.pid)
	}
	fmt.Fprintf(st.out, "killed pid %d\n", st.pid)
	return nil
}

// waitExit polls until the process is gone (true) or deadline passes.
func (st *stopper) waitExit(ctx context.Context, deadline time.Time) bool {
	for {
		if !proc.Alive(st.pid) {
			return true
		}
		if time.Now().After(deadline) || !sleepCtx(ctx, stopPoll) {
			return false
		}
	}
}

func roundMs(d time.Duration) time.Duration { return d.Round(time.Millisecond) }
