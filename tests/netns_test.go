//go:build e2e

package e2e

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// Network namespaces for end-to-end tests (DESIGN §6).
//
// NewNet builds, per test, one hub namespace holding a Linux bridge and N node
// namespaces, each joined to the bridge by a veth pair (eth0 inside the node,
// v<i> on the hub). Nodes get 198.18.X.(i+1)/24 inside 198.18.0.0/15, lo up, a
// 224.0.0.0/4 route on eth0 (multicast stays on the bridge) and no default
// route, so nothing can leave the machine. Nothing is created in the host's
// root namespace: the veth pair is made in the hub and its peer moved into the
// node at once. Names are "gmt<pid>-<run>-<role>", so leftovers of a crashed
// run can be recognised and removed once their creator is dead.
//
// NewNet6 builds the same layout IPv6-only: nodes get fd00::X:(i+1)/64 (a
// ULA /64 inside fd00::/8, added with nodad so it is usable at once), no
// IPv4 address, no multicast route and no default route; lo has ::1.

const (
	nsPrefix = "gmt"  // every namespace we create starts with it
	bridge   = "br0"  // the bridge, inside the hub namespace
	nodeIf   = "eth0" // the node's interface, inside its namespace
	ipCmdTTL = 20 * time.Second
)

var netSeq atomic.Int64 // distinguishes the Nets of one test process

// Net is one isolated L2 segment: a hub namespace with a bridge and the node
// namespaces plugged into it.
type Net struct {
	Hub    string       // hub namespace name
	NS     []*NS        // node namespaces, in index order
	Subnet netip.Prefix // the /24 of this Net inside 198.18.0.0/15 (NewNet6: a /64 inside fd00::/8)
	t      testing.TB
	made   []string // namespaces created, for cleanup (reverse order)
}

// NS is one node namespace: a host of its own with one interface on the hub.
type NS struct {
	Name  string     // namespace name (ip netns)
	Index int        // position in Net.NS
	Addr  netip.Addr // address of eth0, 198.18.X.(Index+1) (NewNet6: fd00::X:(Index+1))
	Port  string     // the hub-side veth (bridge port) name, in the hub namespace
	net   *Net
}

func (ns *NS) String() string { return ns.Name }

// NewNet creates a hub and n node namespaces joined by a bridge; t.Cleanup
// deletes all of them. It skips (or fails under GOMCAT_E2E=require) when not
// root.
func NewNet(t testing.TB, n int) *Net {
	t.Helper()
	return newNet(t, n, false)
}

// NewNet6 is NewNet with IPv6-only node namespaces (ULA addresses, see
// above); NS.Addr is the node's fd00::/8 address.
func NewNet6(t testing.TB, n int) *Net {
	t.Helper()
	return newNet(t, n, true)
}

func newNet(t testing.TB, n int, v6 bool) *Net {
	t.Helper()
	requireE2E(t)
	if n < 1 || n > 250 {
		t.Fatalf("NewNet: %d namespaces: want 1..250", n)
	}
	seq := netSeq.Add(1)
	base := fmt.Sprintf("%s%d-%d", nsPrefix, os.Getpid(), seq)
	x := int((int64(os.Getpid()) + seq) % 512) // /24 number inside 198.18.0.0/15
	subnet := netip.PrefixFrom(netip.AddrFrom4([4]byte{198, byte(18 + x/256), byte(x % 256), 0}), 24)
	if v6 {
		subnet = netip.PrefixFrom(netip.AddrFrom16([16]byte{0xfd, 6: byte(x >> 8), 7: byte(x)}), 64)
	}
	nt := &Net{Hub: base + "-hub", Subnet: subnet, t: t}
	t.Cleanup(nt.destroy)

	nt.addNS(nt.Hub)
	nt.ip("-n", nt.Hub, "link", "set", "lo", "up")
	nt.ip("-n", nt.Hub, "link", "add", bridge, "type", "bridge", "mcast_snooping", "0")
	nt.ip("-n", nt.Hub, "link", "set", bridge, "up")
	for i := range n {
		ns := &NS{Name: fmt.Sprintf("%s-n%d", base, i), Index: i, Addr: hostAddr(subnet, i+1), Port: fmt.Sprintf("v%d", i), net: nt}
		nt.addNS(ns.Name)
		nt.ip("-n", ns.Name, "link", "set", "lo", "up")
		nt.ip("-n", nt.Hub, "link", "add", ns.Port, "type", "veth", "peer", "name", nodeIf, "netns", ns.Name)
		nt.ip("-n", nt.Hub, "link", "set", ns.Port, "master", bridge)
		nt.ip("-n", nt.Hub, "link", "set", ns.Port, "up")
		if v6 {
			nt.ip("-n", ns.Name, "addr", "add", netip.PrefixFrom(ns.Addr, 64).String(), "dev", nodeIf, "nodad")
			nt.ip("-n", ns.Name, "link", "set", nodeIf, "up")
		} else {
			nt.ip("-n", ns.Name, "addr", "add", netip.PrefixFrom(ns.Addr, 24).String(), "dev", nodeIf)
			nt.ip("-n", ns.Name, "link", "set", nodeIf, "up")
			nt.ip("-n", ns.Name, "route", "add", "224.0.0.0/4", "dev", nodeIf)
		}
		nt.NS = append(nt.NS, ns)
	}
	return nt
}

// hostAddr is host number h of subnet (its last byte(s) set to h).
func hostAddr(subnet netip.Prefix, h int) netip.Addr {
	if subnet.Addr().Is4() {
		a := subnet.Addr().As4()
		a[3] = byte(h)
		return netip.AddrFrom4(a)
	}
	a := subnet.Addr().As16()
	a[14], a[15] = byte(h>>8), byte(h)
	return netip.AddrFrom16(a)
}

// addNS creates a namespace and remembers it for cleanup.
func (nt *Net) addNS(name string) {
	nt.t.Helper()
	nt.ip("netns", "add", name)
	nt.made = append(nt.made, name)
}

// ip runs the ip command and fails the test on error.
func (nt *Net) ip(args ...string) string {
	nt.t.Helper()
	out, err := runIP(args...)
	if err != nil {
		nt.t.Fatalf("%v", err)
	}
	return out
}

// destroy deletes every namespace this Net created, nodes first, hub last.
func (nt *Net) destroy() {
	for i := len(nt.made) - 1; i >= 0; i-- {
		name := nt.made[i]
		killNSPids(name)
		if _, err := runIP("netns", "del", name); err != nil {
			nt.t.Errorf("cleanup: %v", err)
		}
	}
	nt.made = nil
}

// runIP runs `ip args...` with a timeout; the error carries the output.
func runIP(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), ipCmdTTL)
	defer cancel()
	out, err := exec.CommandContext(ctx, "ip", args...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}

// killNSPids SIGKILLs, by PID, processes still running in a namespace that we
// created (a node left by a failed test, or by a crashed run).
func killNSPids(name string) {
	out, err := runIP("netns", "pids", name)
	if err != nil {
		return
	}
	for _, f := range strings.Fields(out) {
		if pid, err := strconv.Atoi(f); err == nil && pid > 1 && pid != os.Getpid() {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

var leftoverRE = regexp.MustCompile(`^` + nsPrefix + `([0-9]+)-`)

// cleanupLeftovers deletes namespaces named gmt<pid>-… whose creating process
// is gone (a crashed earlier run). Namespaces of live runs are never touched.
// With selfDead (TestMain, before any Net exists), names with our own pid are
// a dead run's that had the same pid.
func cleanupLeftovers(selfDead bool) {
	entries, err := os.ReadDir("/run/netns")
	if err != nil {
		return
	}
	for _, e := range entries {
		m := leftoverRE.FindStringSubmatch(e.Name())
		if m == nil {
			continue
		}
		pid, err := strconv.Atoi(m[1])
		if err != nil || pid <= 0 {
			continue
		}
		if pid == os.Getpid() && !selfDead || pid != os.Getpid() && processAlive(pid) {
			continue
		}
		killNSPids(e.Name())
		if _, err := runIP("netns", "del", e.Name()); err != nil {
			fmt.Fprintf(os.Stderr, "e2e: removing leftover namespace: %v\n", err)
		}
	}
}

// processAlive reports whether pid names a live process.
func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// Command returns a command that runs name with args inside the namespace
// (ip netns exec). The caller runs it.
func (ns *NS) Command(ctx context.Context, name string, args ...string) *exec.Cmd {
	return exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", ns.Name, name}, args...)...)
}

// Exec runs name with args inside the namespace and returns its combined output.
func (ns *NS) Exec(ctx context.Context, name string, args ...string) (string, error) {
	out, err := ns.Command(ctx, name, args...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("in %s: %s %s: %w: %s", ns.Name, name, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}

// Run is Exec with a 30 s bound that fails the test on error.
func (ns *NS) Run(t testing.TB, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := ns.Exec(ctx, name, args...)
	if err != nil {
		t.Fatalf("%v", err)
	}
	return out
}
