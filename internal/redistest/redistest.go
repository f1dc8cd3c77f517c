// Package redistest starts real redis-server and redis-sentinel processes
// for tests: on 127.0.0.1 ports from internal/freeport, in the test's temp
// dir, stopped by PID at cleanup. Tests-only (imports testing).
//
// When a binary is missing the test is skipped with a message, unless CI is
// set: there the servers must run (.ci/run installs them).
package redistest

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gomcat/gomcat/internal/freeport"
)

// Server is one redis-server (or redis-sentinel) process.
type Server struct {
	t    testing.TB
	Bin  string
	Dir  string
	Port int
	// TLSPort serves TLS when Options.TLS was given (0 otherwise).
	TLSPort int
	conf    string
	cmd     *exec.Cmd
	done    chan struct{}
}

// Options of Start.
type Options struct {
	// Persist turns on the append-only file (appendfsync always), so a
	// restart keeps every acknowledged write.
	Persist bool
	// ReplicaOf is "host port" of a master.
	ReplicaOf string
	// Extra config lines.
	Extra []string
	// TLS, when set, also serves TLS on TLSPort with this PEM certificate
	// and key (clients are not asked for certificates).
	TLS *TLSFiles
}

// TLSFiles is a server certificate and its key, PEM.
type TLSFiles struct{ Cert, Key []byte }

func need(t testing.TB, bin string) string {
	t.Helper()
	p, err := exec.LookPath(bin)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s not installed (CI must run the Redis tests): %v", bin, err)
		}
		t.Skipf("%s not installed (apt-get install redis-server redis-sentinel): skipping", bin)
	}
	return p
}

// Start starts a redis-server on a free port and waits until it answers.
func Start(t testing.TB, o Options) *Server {
	t.Helper()
	bin := need(t, "redis-server")
	port, err := freeport.TCP()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	lines := []string{
		"bind 127.0.0.1", "port " + strconv.Itoa(port), "dir " + dir,
		"save \"\"", "daemonize no", "protected-mode no", "logfile " + filepath.Join(dir, "redis.log"),
	}
	if o.Persist {
		lines = append(lines, "appendonly yes", "appendfsync always")
	} else {
		lines = append(lines, "appendonly no")
	}
	if o.ReplicaOf != "" {
		lines = append(lines, "replicaof "+o.ReplicaOf)
	}
	s := &Server{t: t, Bin: bin, Dir: dir, Port: port, conf: filepath.Join(dir, "redis.conf")}
	if o.TLS != nil {
		if s.TLSPort, err = freeport.TCP(); err != nil {
			t.Fatal(err)
		}
		cert, key := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
		for f, b := range map[string][]byte{cert: o.TLS.Cert, key: o.TLS.Key} {
			if err := os.WriteFile(f, b, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		lines = append(lines, "tls-port "+strconv.Itoa(s.TLSPort), "tls-cert-file "+cert, "tls-key-file "+key, "tls-auth-clients no")
	}
	lines = append(lines, o.Extra...)
	if err := os.WriteFile(s.conf, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s.start()
	t.Cleanup(s.Kill)
	return s
}

// StartSentinel starts a redis-sentinel watching master (host:port) as
// name with quorum, down-after 1 s and failover-timeout 5 s.
func StartSentinel(t testing.TB, name, master string, quorum int) *Server {
	t.Helper()
	need(t, "redis-sentinel")
	bin := need(t, "redis-server")
	port, err := freeport.TCP()
	if err != nil {
		t.Fatal(err)
	}
	h, p, _ := net.SplitHostPort(master)
	dir := t.TempDir()
	lines := []string{
		"bind 127.0.0.1", "port " + strconv.Itoa(port), "dir " + dir, "daemonize no", "protected-mode no",
		"logfile " + filepath.Join(dir, "sentinel.log"),
		fmt.Sprintf("sentinel monitor %s %s %s %d", name, h, p, quorum),
		"sentinel down-after-milliseconds " + name + " 1000",
		"sentinel failover-timeout " + name + " 5000",
		"sentinel parallel-syncs " + name + " 1",
	}
	s := &Server{t: t, Bin: bin, Dir: dir, Port: port, conf: filepath.Join(dir, "sentinel.conf")}
	if err := os.WriteFile(s.conf, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s.start("--sentinel")
	t.Cleanup(s.Kill)
	return s
}

func (s *Server) start(args ...string) {
	s.t.Helper()
	s.cmd = exec.Command(s.Bin, append([]string{s.conf}, args...)...)
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := s.cmd.Start(); err != nil {
		s.t.Fatalf("redistest: start %s: %v", s.Bin, err)
	}
	s.done = make(chan struct{})
	go func(c *exec.Cmd, done chan struct{}) { _ = c.Wait(); close(done) }(s.cmd, s.done)
	deadline := time.Now().Add(10 * time.Second)
	for {
		if s.ping() {
			return
		}
		select {
		case <-s.done:
			s.t.Fatalf("redistest: %s exited at start; log: %s", s.Bin, s.Log())
		default:
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("redistest: %s on port %d not answering after 10 s", s.Bin, s.Port)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// ping sends PING over RESP and reports whether the server answered:
// +PONG, or -NOAUTH from one that wants a password.
func (s *Server) ping() bool {
	c, err := net.DialTimeout("tcp", s.Addr(), 200*time.Millisecond)
	if err != nil {
		return false
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(500 * time.Millisecond))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return false
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	return err == nil && (strings.HasPrefix(line, "+PONG") || strings.HasPrefix(line, "-NOAUTH"))
}

// Addr is 127.0.0.1:port.
func (s *Server) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Port)) }

// URL is redis://127.0.0.1:port.
func (s *Server) URL() string { return "redis://" + s.Addr() }

// PID of the running process (0 when stopped).
func (s *Server) PID() int {
	if s.cmd == nil || s.cmd.Process == nil {
		return 0
	}
	return s.cmd.Process.Pid
}

// Kill stops the process with SIGKILL (by its PID) and waits for it.
// Idempotent.
func (s *Server) Kill() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	<-s.done
	s.cmd = nil
}

// Pause stops the process with SIGSTOP (by its PID): connections stay
// open, nothing is answered — a server too slow to reply. Resume
// continues it (SIGCONT); Kill works on a paused server.
func (s *Server) Pause() { s.signal(syscall.SIGSTOP) }

// Resume continues a paused server.
func (s *Server) Resume() { s.signal(syscall.SIGCONT) }

func (s *Server) signal(sig syscall.Signal) {
	s.t.Helper()
	if s.cmd == nil {
		s.t.Fatal("redistest: signal to a stopped server")
	}
	if err := s.cmd.Process.Signal(sig); err != nil {
		s.t.Fatalf("redistest: %v to pid %d: %v", sig, s.cmd.Process.Pid, err)
	}
}

// Restart starts the server again on the same port, dir and config (with
// persistence it reloads its data).
func (s *Server) Restart() {
	s.t.Helper()
	s.Kill()
	if strings.HasSuffix(s.conf, "sentinel.conf") {
		s.start("--sentinel")
		return
	}
	s.start()
}

// Log returns the server's log file.
func (s *Server) Log() string {
	b, _ := os.ReadFile(filepath.Join(s.Dir, "redis.log"))
	if len(b) == 0 {
		b, _ = os.ReadFile(filepath.Join(s.Dir, "sentinel.log"))
	}
	return string(b)
}

// Cluster is a Redis Cluster of redis-server processes on 127.0.0.1.
type Cluster struct {
	// Nodes lists the servers, masters first (in slot order), then replicas.
	Nodes []*Server
}

// StartCluster starts masters × (1+replicas) cluster-enabled servers (node
// timeout 1 s, so a failover takes ~2 s), joins them with
// `redis-cli --cluster create` and waits until every node reports
// cluster_state:ok.
func StartCluster(t testing.TB, masters, replicas int) *Cluster {
	t.Helper()
	cli := need(t, "redis-cli")
	c := &Cluster{}
	var addrs []string
	for range masters * (1 + replicas) {
		bus, err := freeport.TCP()
		if err != nil {
			t.Fatal(err)
		}
		s := Start(t, Options{Extra: []string{
			"cluster-enabled yes", "cluster-config-file nodes.conf", "cluster-node-timeout 1000",
			"cluster-port " + strconv.Itoa(bus), "cluster-require-full-coverage no",
		}})
		c.Nodes = append(c.Nodes, s)
		addrs = append(addrs, s.Addr())
	}
	args := append([]string{"--cluster", "create"}, addrs...)
	args = append(args, "--cluster-replicas", strconv.Itoa(replicas), "--cluster-yes")
	if out, err := exec.Command(cli, args...).CombinedOutput(); err != nil {
		t.Fatalf("redistest: redis-cli --cluster create: %v\n%s", err, out)
	}
	c.WaitOK(t, 20*time.Second)
	return c
}

// Seeds returns every node's host:port (what a client is given).
func (c *Cluster) Seeds() []string {
	var out []string
	for _, s := range c.Nodes {
		out = append(out, s.Addr())
	}
	return out
}

// Info returns `CLUSTER INFO` of one node as field → value.
func (s *Server) Info(t testing.TB, section ...string) map[string]string {
	t.Helper()
	out, err := exec.Command(need(t, "redis-cli"), append([]string{"-p", strconv.Itoa(s.Port)}, section...)...).Output()
	if err != nil {
		return nil
	}
	m := map[string]string{}
	for _, line := range strings.Split(string(out), "\n") {
		if k, v, ok := strings.Cut(strings.TrimSpace(line), ":"); ok {
			m[k] = v
		}
	}
	return m
}

// WaitOK waits until every running node reports cluster_state:ok and
// agrees on the number of masters holding slots.
func (c *Cluster) WaitOK(t testing.TB, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		ok := true
		for _, s := range c.Nodes {
			if s.cmd == nil {
				continue
			}
			if s.Info(t, "cluster", "info")["cluster_state"] != "ok" {
				ok = false
				break
			}
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("redistest: cluster not ok after %v", within)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Role returns "master" or "slave" for a running node ("" when stopped).
func (s *Server) Role(t testing.TB) string {
	t.Helper()
	if s.cmd == nil {
		return ""
	}
	return s.Info(t, "info", "replication")["role"]
}
