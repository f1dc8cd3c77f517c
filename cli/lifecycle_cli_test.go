package cli

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gomcat/gomcat/internal/testkit"
	"github.com/gomcat/gomcat/runtime/node"
)

// startT runs `gomcat run --home home` in this process until the test
// ends; it returns the exit-code channel once the node has started.
func startT(t *testing.T, home string, args ...string) (chan int, *syncBuf) {
	t.Helper()
	return startLogT(t, home, nil, args...)
}

// startLogT is startT waiting for the startup line in log() (nil: stderr).
func startLogT(t *testing.T, home string, log func() string, args ...string) (chan int, *syncBuf) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var sout, serr syncBuf
	done := make(chan int, 1)
	go func() {
		done <- Run(ctx, append([]string{"gomcat", "run", "--home", home, "--http-address", "127.0.0.1"}, args...), &sout, &serr)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Error("node did not stop")
		}
	})
	if log == nil {
		waitLog(t, &serr, `Server startup in`, done)
	} else {
		testkit.WaitFor(t, "Server startup in the log", func() bool { return strings.Contains(log(), "Server startup in") })
	}
	return done, &serr
}

// `gomcat stop` returns once the node has stopped, not when the command
// is sent.
func TestStopWaitsForTheNode(t *testing.T) {
	home := initHomeT(t, freeTCPPort(t), freeTCPPort(t))
	done, _ := startT(t, home)
	code, out, errs := run(t, "stop", "--home", home, "--wait", "30s")
	if code != 0 || !strings.Contains(out, "stopped in") {
		t.Fatalf("stop: %d %q %q", code, out, errs)
	}
	// The node's Stop has finished: Run returns at once.
	select {
	case code := <-done:
		done <- code
		if code != 0 {
			t.Fatalf("run exited %d", code)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("stop returned but the node is still running")
	}
	if _, err := os.Stat(filepath.Join(home, "logs", node.PIDFile)); !os.IsNotExist(err) {
		t.Fatalf("pid file after stop: %v", err)
	}
}

// A second start on a running home is refused with the pid and the
// ports; the first node keeps serving and keeps its pid file.
func TestStartTwiceRefusedCLI(t *testing.T) {
	httpPort := freeTCPPort(t)
	home := initHomeT(t, httpPort, freeTCPPort(t))
	startT(t, home)
	pidFile := filepath.Join(home, "logs", node.PIDFile)
	before, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	code, _, errs := run(t, "start", "--home", home, "--http-address", "127.0.0.1")
	want := fmt.Sprintf("is already running: pid %d holds Connector 127.0.0.1:%d", os.Getpid(), httpPort)
	if code != 1 || !strings.Contains(errs, want) || !strings.Contains(errs, "Server 127.0.0.1:") {
		t.Fatalf("second start: %d %q, want %q", code, errs, want)
	}
	if strings.Contains(errs, "Cluster is about to start") {
		t.Fatalf("the refused start joined the cluster:\n%s", errs)
	}
	if after, err := os.ReadFile(pidFile); err != nil || string(after) != string(before) {
		t.Fatalf("pid file changed: %q → %q (%v)", before, after, err)
	}
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/node", httpPort))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
}

// sleeper starts a child process the test can pretend is a node.
func sleeper(t *testing.T) *exec.Cmd {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("uses sleep(1)")
	}
	cmd := exec.Command("sleep", "60")
	if err := cmd.Start(); err != nil {
		t.Skip(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() { _ = cmd.Process.Kill(); <-exited })
	return cmd
}

func writePID(t *testing.T, home string, pid int) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(home, "logs", node.PIDFile), []byte(strconv.Itoa(pid)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

// A home whose shutdown port is closed but whose pid file names a live
// process: stop says so; stop --force kills it.
func TestStopForceKills(t *testing.T) {
	home := initHomeT(t, freeTCPPort(t), freeTCPPort(t))
	cmd := sleeper(t)
	writePID(t, home, cmd.Process.Pid)
	code, _, errs := run(t, "stop", "--home", home)
	if code != 1 || !strings.Contains(errs, fmt.Sprintf("pid %d", cmd.Process.Pid)) || !strings.Contains(errs, "--force") {
		t.Fatalf("stop: %d %q", code, errs)
	}
	code, out, errs := run(t, "stop", "--home", home, "--force")
	if code != 0 || !strings.Contains(out, fmt.Sprintf("killed pid %d", cmd.Process.Pid)) {
		t.Fatalf("stop --force: %d %q %q", code, out, errs)
	}
}

// Without a shutdown port, stop sends SIGTERM to the pid file's process
// and waits for its exit.
func TestStopBySignal(t *testing.T) {
	home := initHomeT(t, freeTCPPort(t), -1)
	cmd := sleeper(t)
	writePID(t, home, cmd.Process.Pid)
	code, out, errs := run(t, "stop", "--home", home, "--wait", "20s")
	if code != 0 || !strings.Contains(out, "SIGTERM sent") || !strings.Contains(out, "exited after") {
		t.Fatalf("stop: %d %q %q", code, out, errs)
	}
}

func TestVersionFlag(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}} {
		code, out, errs := run(t, args...)
		if code != 0 || !strings.HasPrefix(out, "gomcat ") || !strings.Contains(out, "module:   github.com/gomcat/gomcat") ||
			!strings.Contains(out, "go:       go1.") || !strings.Contains(out, "apps:") {
			t.Errorf("%v: %d %q %q", args, code, out, errs)
		}
	}
}

func TestParseBuildInfo(t *testing.T) {
	rev := "0123456789abcdef0123456789abcdef01234567"
	tests := []struct {
		name  string
		bi    debug.BuildInfo
		short string
	}{
		{"tagged", debug.BuildInfo{Main: debug.Module{Path: "m", Version: "v1.2.0"}}, "v1.2.0"},
		{"source build", debug.BuildInfo{Main: debug.Module{Path: "m", Version: "(devel)"},
			Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: rev}, {Key: "vcs.modified", Value: "true"}}}, "(devel) 0123456789ab+dirty"},
		{"pseudo-version holds the revision", debug.BuildInfo{Main: debug.Module{Path: "m", Version: "v0.0.0-20261204020000-0123456789ab"},
			Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: rev}}}, "v0.0.0-20261204020000-0123456789ab"},
		{"no version", debug.BuildInfo{Main: debug.Module{Path: "m"}}, "(devel)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := parseBuildInfo(&tc.bi).short(); got != tc.short {
				t.Errorf("short = %q, want %q", got, tc.short)
			}
		})
	}
}
