// Package dnstest runs a real DNS server for tests of DNS membership:
// Debian's dnsmasq, authoritative for one test domain, answering A/AAAA
// records from a hosts directory it watches (so records added or removed at
// runtime are served without a restart, like a Kubernetes headless service
// whose pods come and go) and SRV records given at start. It never forwards
// a query: it has no upstream server.
package dnstest

import (
	"bytes"
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/gomcat/gomcat/internal/testkit"
)

// SRV is one SRV record served from start: Name (_service._proto.domain)
// points at Target (a name with A/AAAA records in the hosts) and Port.
type SRV struct {
	Name, Target string
	Port         int
}

// Options configure a Server. Listen and Port are where it answers (UDP
// and TCP); Command starts the process (exec.CommandContext by default; the
// end-to-end suite runs it inside a network namespace).
type Options struct {
	Listen  netip.Addr
	Port    int
	Domain  string // served locally (never forwarded), e.g. "gomcat.test"
	SRV     []SRV
	Command func(ctx context.Context, name string, args ...string) *exec.Cmd
}

// Server is a running dnsmasq. Set replaces a name's records.
type Server struct {
	Addr netip.AddrPort
	dir  string

	mu    sync.Mutex
	hosts map[string][]netip.Addr
	cmd   *exec.Cmd
	log   *lockedBuffer
}

// lockedBuffer is dnsmasq's output, written by exec's copying goroutine.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Start runs dnsmasq with o; t.Cleanup stops it (by its pid). It skips the
// test when dnsmasq is not installed, unless CI is set.
func Start(t testing.TB, o Options) *Server {
	t.Helper()
	bin, err := exec.LookPath("dnsmasq")
	if err != nil {
		bin = "/usr/sbin/dnsmasq"
		if _, err := os.Stat(bin); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("dnstest: dnsmasq not installed (apt-get install dnsmasq)")
			}
			t.Skip("dnstest: dnsmasq not installed (apt-get install dnsmasq)")
		}
	}
	if !o.Listen.IsValid() {
		o.Listen = netip.MustParseAddr("127.0.0.1")
	}
	if o.Domain == "" {
		o.Domain = "gomcat.test"
	}
	if o.Command == nil {
		o.Command = exec.CommandContext
	}
	dir, err := os.MkdirTemp("", "dnstest-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	// dnsmasq started as root drops to its own user: let it read the hosts.
	hostsDir := filepath.Join(dir, "hosts")
	for _, d := range []string{dir, hostsDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		os.Chmod(d, 0o755)
	}
	s := &Server{Addr: netip.AddrPortFrom(o.Listen, uint16(o.Port)), dir: hostsDir, hosts: map[string][]netip.Addr{}, log: new(lockedBuffer)}
	args := []string{
		"--keep-in-foreground", "--conf-file=/dev/null", "--pid-file=",
		"--no-resolv", "--no-hosts", "--no-poll", "--log-facility=-",
		"--bind-interfaces", "--listen-address=" + o.Listen.String(),
		"--port=" + strconv.Itoa(o.Port),
		"--local=/" + o.Domain + "/", "--hostsdir=" + hostsDir,
		"--local-ttl=0", "--neg-ttl=0", "--cache-size=0",
	}
	for _, r := range o.SRV {
		args = append(args, fmt.Sprintf("--srv-host=%s,%s,%d", r.Name, r.Target, r.Port))
	}
	s.cmd = o.Command(context.Background(), bin, args...)
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("dnstest: start dnsmasq: %v", err)
	}
	done := make(chan struct{})
	go func() { s.cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		s.cmd.Process.Kill()
		<-done
		if t.Failed() {
			t.Logf("dnsmasq log:\n%s", s.Log())
		}
	})
	// Ready once it says so (it binds its sockets before that line).
	testkit.WaitFor(t, "dnsmasq to start", func() bool {
		select {
		case <-done:
			t.Fatalf("dnstest: dnsmasq exited: %s", s.Log())
		default:
		}
		return strings.Contains(s.Log(), "started, version")
	})
	return s
}

// Log is what dnsmasq printed so far.
func (s *Server) Log() string { return s.log.String() }

// Set makes name answer addrs (A and AAAA); no addrs removes the name.
// dnsmasq rereads the hosts directory when it changes (inotify); the
// caller waits for the answer it expects (Wait).
func (s *Server) Set(t testing.TB, name string, addrs ...netip.Addr) {
	t.Helper()
	s.mu.Lock()
	if len(addrs) == 0 {
		delete(s.hosts, name)
	} else {
		s.hosts[name] = slices.Clone(addrs)
	}
	var b strings.Builder
	names := make([]string, 0, len(s.hosts))
	for n := range s.hosts {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		for _, a := range s.hosts[n] {
			fmt.Fprintf(&b, "%s %s\n", a, n)
		}
	}
	s.mu.Unlock()
	// Write aside and rename in: dnsmasq reads a whole file, never half.
	tmp := filepath.Join(filepath.Dir(s.dir), "hosts.tmp")
	if err := os.WriteFile(tmp, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(s.dir, "records")); err != nil {
		t.Fatal(err)
	}
}
