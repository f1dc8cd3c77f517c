package node

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/gomcat/gomcat/conf"
	"github.com/gomcat/gomcat/internal/testkit"
)

// nodeAt is newNode with a given home.
func nodeAt(t *testing.T, home string) *Node {
	t.Helper()
	s, _, err := conf.Parse("server.xml", fmt.Appendf(nil, serverXML, 0))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	s.Home = home
	cfg := DefaultConfig()
	cfg.Server = s
	cfg.Logger = zerolog.New(zerolog.NewTestWriter(t))
	n, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.Stop(context.Background()) })
	return n
}

func readPIDFile(t *testing.T, n *Node) string {
	t.Helper()
	b, err := os.ReadFile(n.PIDFile())
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// A second node on a running home is refused, naming the pid and the
// ports; the first keeps its pid file, and its stop removes it.
func TestStartTwiceRefused(t *testing.T) {
	home := t.TempDir()
	n1 := nodeAt(t, home)
	if err := n1.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	n2 := nodeAt(t, home)
	err := n2.Start(context.Background())
	var he *HomeInUseError
	if !errors.As(err, &he) || !errors.Is(err, ErrHomeInUse) || he.PID != os.Getpid() {
		t.Fatalf("second start: %v, want a HomeInUseError naming pid %d", err, os.Getpid())
	}
	if msg := err.Error(); !strings.Contains(msg, "pid "+strconv.Itoa(os.Getpid())) || !strings.Contains(msg, "Connector 127.0.0.1:") {
		t.Errorf("message %q: want the pid and the connector's address", msg)
	}
	if err := n2.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := readPIDFile(t, n1); got != strconv.Itoa(os.Getpid()) {
		t.Fatalf("pid file after the refused start: %q", got)
	}
	if err := n1.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(n1.PIDFile()); !os.IsNotExist(err) {
		t.Fatalf("pid file after stop: %v", err)
	}
}

// A pid file naming another live process refuses the start and is left
// alone; one naming a process that is gone is replaced.
func TestPIDFileOfOtherProcess(t *testing.T) {
	cmd := exec.Command("sleep", "30")
	if err := cmd.Start(); err != nil {
		t.Skip(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	live := strconv.Itoa(cmd.Process.Pid)

	home := t.TempDir()
	n := nodeAt(t, home)
	if err := os.MkdirAll(home+"/logs", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(n.PIDFile(), []byte(live+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := n.Start(context.Background())
	if !errors.Is(err, ErrHomeInUse) || !strings.Contains(err.Error(), "pid "+live) {
		t.Fatalf("start: %v, want refused naming pid %s", err, live)
	}
	if got := readPIDFile(t, n); got != live {
		t.Fatalf("pid file after the refused start: %q, want %s", got, live)
	}

	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	n2 := nodeAt(t, home)
	if err := n2.Start(context.Background()); err != nil {
		t.Fatalf("start over a stale pid file: %v", err)
	}
	if got := readPIDFile(t, n2); got != strconv.Itoa(os.Getpid()) {
		t.Fatalf("pid file: %q", got)
	}
	if pid, err := ReadPID(home); err != nil || pid != os.Getpid() {
		t.Fatalf("ReadPID: %d %v", pid, err)
	}
}

// The connection that sent the valid command hears "stopped" once the
// node has stopped.
func TestShutdownCommandWaitsForStop(t *testing.T) {
	n := newNode(t, 0)
	done := make(chan error, 1)
	go func() { done <- n.Run(context.Background()) }()
	testkit.WaitFor(t, "shutdown port bound", func() bool { return n.ShutdownAddr() != nil })
	c, err := net.Dial("tcp", n.ShutdownAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte("STOP-NOW\n")); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil || line != StoppedReply+"\n" {
		t.Fatalf("reply %q, %v", line, err)
	}
	select {
	case <-n.stopDone:
	default:
		t.Fatal(`"stopped" before Stop ended`)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
