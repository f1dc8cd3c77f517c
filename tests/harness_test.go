//go:build e2e

package e2e

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Tests of the harness itself: namespaces, the in-namespace dialer, faults.
// They need root but not the gomcat binary.

// threadNetns names the network namespace of the calling OS thread.
func threadNetns(t testing.TB) string {
	t.Helper()
	s, err := os.Readlink("/proc/thread-self/ns/net")
	if err != nil {
		t.Fatalf("readlink own netns: %v", err)
	}
	return s
}

// echoServer accepts on l and echoes one line per connection until l closes.
func echoServer(t testing.TB, l net.Listener) {
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				line, err := bufio.NewReader(c).ReadString('\n')
				if err == nil {
					io.WriteString(c, line)
				}
			}()
		}
	}()
}

// echo dials addr from ns, sends a line and returns the reply.
func echo(ctx context.Context, ns *NS, addr string) (string, error) {
	c, err := ns.DialContext(ctx, "tcp", addr)
	if err != nil {
		return "", err
	}
	defer c.Close()
	if d, ok := ctx.Deadline(); ok {
		c.SetDeadline(d)
	}
	if _, err := io.WriteString(c, "hello\n"); err != nil {
		return "", err
	}
	return bufio.NewReader(c).ReadString('\n')
}

func TestNetLayout(t *testing.T) {
	t.Parallel()
	nt := NewNet(t, 2)
	for _, ns := range nt.NS {
		if !nt.Subnet.Contains(ns.Addr) || !strings.HasPrefix(ns.Addr.String(), "198.1") {
			t.Errorf("%s: address %s outside %s", ns, ns.Addr, nt.Subnet)
		}
		if def := strings.TrimSpace(ns.Run(t, "ip", "route", "show", "default")); def != "" {
			t.Errorf("%s has a default route: %s", ns, def)
		}
		if r := ns.Run(t, "ip", "route", "show", "224.0.0.0/4"); !strings.Contains(r, "dev "+nodeIf) {
			t.Errorf("%s: no multicast route on %s: %q", ns, nodeIf, r)
		}
		if lo := ns.Run(t, "ip", "-o", "link", "show", "lo"); !strings.Contains(lo, "UP") {
			t.Errorf("%s: lo not up: %s", ns, lo)
		}
	}
	if len(nt.NS[0].Port) > 15 || len(nt.Hub) == 0 {
		t.Errorf("bad names: port %q hub %q", nt.NS[0].Port, nt.Hub)
	}
}

// NewNet6: IPv6-only namespaces with ULA addresses (no IPv4, no global
// address, no default route) that reach each other across the bridge.
func TestNetLayout6(t *testing.T) {
	t.Parallel()
	nt := NewNet6(t, 2)
	ula := netip.MustParsePrefix("fd00::/8")
	for _, ns := range nt.NS {
		if !nt.Subnet.Contains(ns.Addr) || !ula.Contains(ns.Addr) {
			t.Errorf("%s: address %s outside %s or fd00::/8", ns, ns.Addr, nt.Subnet)
		}
		if v4 := strings.TrimSpace(ns.Run(t, "ip", "-4", "-o", "addr", "show", "dev", nodeIf)); v4 != "" {
			t.Errorf("%s has an IPv4 address: %s", ns, v4)
		}
		if g := strings.TrimSpace(ns.Run(t, "ip", "-6", "-o", "addr", "show", "scope", "global")); !strings.Contains(g, ns.Addr.String()+"/64") || strings.Count(g, "\n") > 0 {
			t.Errorf("%s: global-scope addresses %q, want only %s/64", ns, g, ns.Addr)
		}
		for _, fam := range []string{"-4", "-6"} {
			if def := strings.TrimSpace(ns.Run(t, "ip", fam, "route", "show", "default")); def != "" {
				t.Errorf("%s has a default route: %s", ns, def)
			}
		}
	}
	a, b := nt.NS[0], nt.NS[1]
	l, err := b.Listen("tcp", net.JoinHostPort(b.Addr.String(), "0"))
	if err != nil {
		t.Fatal(err)
	}
	echoServer(t, l)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if got, err := echo(ctx, a, l.Addr().String()); err != nil || got != "hello\n" {
		t.Fatalf("echo a->b over IPv6 (%s): %q, %v", l.Addr(), got, err)
	}
}

func TestDialerInNamespace(t *testing.T) {
	t.Parallel()
	nt := NewNet(t, 2)
	a, b := nt.NS[0], nt.NS[1]
	before := threadNetns(t)

	l, err := b.Listen("tcp", net.JoinHostPort(b.Addr.String(), "0"))
	if err != nil {
		t.Fatal(err)
	}
	echoServer(t, l)
	lo, err := b.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	echoServer(t, lo)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// Across the bridge, from many goroutines at once.
	var wg sync.WaitGroup
	var fails atomic.Int32
	for range 32 {
		wg.Go(func() {
			if got, err := echo(ctx, a, l.Addr().String()); err != nil || got != "hello\n" {
				t.Errorf("echo a->b: %q, %v", got, err)
				fails.Add(1)
			}
		})
	}
	wg.Wait()
	// b's loopback is b's own: reachable from b, refused from a.
	if got, err := echo(ctx, b, lo.Addr().String()); err != nil || got != "hello\n" {
		t.Errorf("echo b->b loopback: %q, %v", got, err)
	}
	if _, err := echo(ctx, a, lo.Addr().String()); err == nil {
		t.Errorf("a reached b's loopback listener %s: namespaces not separate", lo.Addr())
	}
	if _, err := a.DialContext(ctx, "tcp", "localhost:80"); err == nil {
		t.Errorf("dial by name succeeded; want an error (IP literals only)")
	}
	// No thread of ours was left in a node namespace.
	if after := threadNetns(t); after != before {
		t.Errorf("test thread moved from %s to %s", before, after)
	}
	var seen sync.Map
	for range 4 * runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			s, _ := os.Readlink("/proc/thread-self/ns/net")
			seen.Store(s, true)
		})
	}
	wg.Wait()
	seen.Range(func(k, _ any) bool {
		if k.(string) != before {
			t.Errorf("a runtime thread is in %s, want %s", k, before)
		}
		return true
	})
}

func TestHTTPClientInNamespace(t *testing.T) {
	t.Parallel()
	nt := NewNet(t, 2)
	a, b := nt.NS[0], nt.NS[1]
	l, err := b.Listen("tcp", net.JoinHostPort(b.Addr.String(), "0"))
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c, err := r.Cookie("K"); err == nil {
			fmt.Fprintf(w, "cookie %s from %s", c.Value, strings.Split(r.RemoteAddr, ":")[0])
			return
		}
		http.SetCookie(w, &http.Cookie{Name: "K", Value: "v1", Path: "/"})
		io.WriteString(w, "set")
	})}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })

	c := a.HTTPClient(true)
	defer c.CloseIdleConnections()
	url := "http://" + l.Addr().String() + "/"
	for i, want := range []string{"set", "cookie v1 from " + a.Addr.String()} {
		resp, err := c.Get(url)
		if err != nil {
			t.Fatalf("get %d: %v", i, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(body) != want {
			t.Errorf("get %d: %q, want %q", i, body, want)
		}
	}
}

func TestMulticastOnBridge(t *testing.T) {
	t.Parallel()
	nt := NewNet(t, 3)
	group := &net.UDPAddr{IP: net.IPv4(239, 255, 77, byte(1+os.Getpid()%200)), Port: 45564}
	var recv []net.PacketConn
	for _, ns := range nt.NS[1:] {
		var pc net.PacketConn
		err := ns.Do(func() error {
			ifi, err := net.InterfaceByName(nodeIf)
			if err != nil {
				return err
			}
			pc, err = net.ListenMulticastUDP("udp4", ifi, group)
			return err
		})
		if err != nil {
			t.Fatalf("%s: join %s: %v", ns, group, err)
		}
		t.Cleanup(func() { pc.Close() })
		recv = append(recv, pc)
	}
	send, err := nt.NS[0].ListenPacket("udp4", net.JoinHostPort(nt.NS[0].Addr.String(), "0"))
	if err != nil {
		t.Fatal(err)
	}
	defer send.Close()
	for i, pc := range recv {
		// Multicast may need a moment after the join; resend until heard.
		got := make(chan string, 1)
		go func() {
			buf := make([]byte, 64)
			pc.SetReadDeadline(time.Now().Add(10 * time.Second))
			for {
				n, from, err := pc.ReadFrom(buf)
				if err != nil {
					got <- "error: " + err.Error()
					return
				}
				if string(buf[:n]) == "beat" {
					got <- from.(*net.UDPAddr).IP.String()
					return
				}
			}
		}()
		var from string
		waitFor(t, 10*time.Second, fmt.Sprintf("multicast at %s", nt.NS[i+1]), func() bool {
			send.WriteTo([]byte("beat"), group)
			select {
			case from = <-got:
				return true
			case <-time.After(100 * time.Millisecond):
				return false
			}
		})
		if from != nt.NS[0].Addr.String() {
			t.Errorf("%s: heartbeat from %s, want %s", nt.NS[i+1], from, nt.NS[0].Addr)
		}
	}
}

func TestLinkDownUp(t *testing.T) {
	t.Parallel()
	nt := NewNet(t, 2)
	a, b := nt.NS[0], nt.NS[1]
	l, err := b.Listen("tcp", net.JoinHostPort(b.Addr.String(), "0"))
	if err != nil {
		t.Fatal(err)
	}
	echoServer(t, l)
	try := func(d time.Duration) error {
		ctx, cancel := context.WithTimeout(context.Background(), d)
		defer cancel()
		_, err := echo(ctx, a, l.Addr().String())
		return err
	}
	if err := try(5 * time.Second); err != nil {
		t.Fatalf("before link down: %v", err)
	}
	nt.LinkDown(t, b)
	if err := try(500 * time.Millisecond); err == nil {
		t.Fatalf("reached %s with its link down", b)
	}
	nt.LinkUp(t, b)
	waitFor(t, 10*time.Second, "link back up", func() bool { return try(time.Second) == nil })
}

func TestPartitionHeal(t *testing.T) {
	requireNft(t)
	t.Parallel()
	nt := NewNet(t, 3)
	var addrs []string
	for _, ns := range nt.NS {
		l, err := ns.Listen("tcp", net.JoinHostPort(ns.Addr.String(), "0"))
		if err != nil {
			t.Fatal(err)
		}
		echoServer(t, l)
		addrs = append(addrs, l.Addr().String())
	}
	try := func(from, to int, d time.Duration) error {
		ctx, cancel := context.WithTimeout(context.Background(), d)
		defer cancel()
		_, err := echo(ctx, nt.NS[from], addrs[to])
		return err
	}
	nt.Partition(t, nt.NS[:1], nt.NS[1:2])
	if err := try(0, 1, 500*time.Millisecond); err == nil {
		t.Errorf("0 reached 1 across the partition")
	}
	if err := try(1, 0, 500*time.Millisecond); err == nil {
		t.Errorf("1 reached 0 across the partition")
	}
	for _, p := range [][2]int{{0, 2}, {2, 1}, {1, 2}} {
		if err := try(p[0], p[1], 5*time.Second); err != nil {
			t.Errorf("%d -> %d outside the partition: %v", p[0], p[1], err)
		}
	}
	nt.Heal(t)
	waitFor(t, 10*time.Second, "healed partition", func() bool { return try(0, 1, time.Second) == nil })
}

func TestLossDropsPackets(t *testing.T) {
	requireNft(t)
	t.Parallel()
	nt := NewNet(t, 2)
	a, b := nt.NS[0], nt.NS[1]
	rx, err := b.ListenPacket("udp4", net.JoinHostPort(b.Addr.String(), "0"))
	if err != nil {
		t.Fatal(err)
	}
	defer rx.Close()
	// Room for every datagram even if the reader stalls (root: no rmem_max cap),
	// so the only losses are the rule's.
	raw, err := rx.(*net.UDPConn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var serr error
	if err := raw.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, 16<<20)
	}); err != nil || serr != nil {
		t.Fatalf("SO_RCVBUFFORCE: %v %v", err, serr)
	}
	tx, err := a.ListenPacket("udp4", net.JoinHostPort(a.Addr.String(), "0"))
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Close()

	var got atomic.Int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 64)
		for {
			if _, _, err := rx.ReadFrom(buf); err != nil {
				return
			}
			got.Add(1)
		}
	}()
	// Resolve ARP and prove the path before any loss is set.
	waitFor(t, 10*time.Second, "first datagram", func() bool {
		tx.WriteTo([]byte("x"), rx.LocalAddr())
		return got.Load() > 0
	})

	const n, pct = 1000, 30
	// send writes k datagrams, paced a little so the veth backlog
	// (netdev_max_backlog) never fills. One dropped in the output hook fails
	// with EPERM: ignored.
	send := func(k int) {
		for i := range k {
			tx.WriteTo([]byte("x"), rx.LocalAddr())
			if i%100 == 99 {
				time.Sleep(time.Millisecond)
			}
		}
	}
	a.SetLoss(t, pct, 0)
	base := got.Load()
	send(n)
	dropped, _ := a.LossDropped(t)
	// Every datagram is either dropped by the rule or on its way to rx.
	waitFor(t, 10*time.Second, "surviving datagrams", func() bool { return got.Load()-base >= int64(n-dropped) })
	recvd := got.Load() - base
	t.Logf("sent %d, dropped by nft %d (%.1f%%), received %d", n, dropped, 100*float64(dropped)/n, recvd)
	if dropped < n*pct/100/2 || dropped > n*pct/100*2 {
		t.Errorf("dropped %d of %d with %d%% loss: outside a generous band", dropped, n, pct)
	}
	if recvd != int64(n-dropped) {
		t.Errorf("received %d, want exactly %d (sent %d - dropped %d)", recvd, n-dropped, n, dropped)
	}

	a.ClearLoss(t)
	base = got.Load()
	send(200)
	waitFor(t, 10*time.Second, "all 200 datagrams after ClearLoss", func() bool { return got.Load()-base == 200 })
	rx.Close()
	<-done
}

// The technique the SIGTERM e2e test relies on, proven on a plain server:
// once WaitServed returns, http.Server.Shutdown lets the request finish.
func TestWaitServedThenShutdown(t *testing.T) {
	t.Parallel()
	nt := NewNet(t, 2)
	a, b := nt.NS[0], nt.NS[1]
	l, err := b.Listen("tcp", net.JoinHostPort(b.Addr.String(), "0"))
	if err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release
		io.WriteString(w, "slow done")
	})}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	port := l.Addr().(*net.TCPAddr).Port

	f := GoGet(a.HTTPClient(false), "http://"+l.Addr().String()+"/slow")
	f.WaitServed(t, a, b, port, 10*time.Second)
	shut := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		shut <- srv.Shutdown(ctx)
	}()
	close(release)
	code, body, err := f.Result(t, 10*time.Second)
	if err != nil || code != 200 || body != "slow done" {
		t.Errorf("slow request: %d %q %v", code, body, err)
	}
	if err := <-shut; err != nil {
		t.Errorf("shutdown: %v", err)
	}
}

func TestCleanupLeftovers(t *testing.T) {
	requireE2E(t)
	t.Parallel()
	dead := 0
	for pid := 4194000; pid > 300000; pid-- {
		if !processAlive(pid) {
			dead = pid
			break
		}
	}
	if dead == 0 {
		t.Skip("no free pid found")
	}
	stale := fmt.Sprintf("%s%d-1-hub", nsPrefix, dead)
	live := fmt.Sprintf("%s%d-9999-hub", nsPrefix, os.Getppid()) // a live creator
	for _, name := range []string{stale, live} {
		if _, err := runIP("netns", "add", name); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { runIP("netns", "del", name) })
	}
	cleanupLeftovers(false)
	if _, err := os.Stat("/run/netns/" + stale); err == nil {
		t.Errorf("leftover %s of dead pid %d not removed", stale, dead)
	}
	if _, err := os.Stat("/run/netns/" + live); err != nil {
		t.Errorf("namespace %s of live pid %d removed: %v", live, os.Getppid(), err)
	}
}

func TestProcInNamespace(t *testing.T) {
	t.Parallel()
	nt := NewNet(t, 1)
	ns := nt.NS[0]
	p := StartCommand(t, ns, "sleeper", []string{"E2E_WORD=ready"},
		"sh", "-c", `printf '\033[1mbold\033[0m\n'; echo "$E2E_WORD $GOMCAT_E2E."; ip -o -4 addr show eth0; exec sleep 60`)
	p.WaitLog(t, `^ready \.$`, 10*time.Second) // GOMCAT_* is not passed on
	p.WaitLog(t, `^bold$`, time.Second)        // ANSI escapes are stripped
	if line := p.WaitLog(t, `inet `, 10*time.Second); !strings.Contains(line, ns.Addr.String()+"/24") {
		t.Errorf("process not in %s: %s", ns, line)
	}
	// ip netns exec execs in place: the pid we signal is the process in ns.
	var want, got syscall.Stat_t
	if err := syscall.Stat("/run/netns/"+ns.Name, &want); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Stat(fmt.Sprintf("/proc/%d/ns/net", p.PID()), &got); err != nil {
		t.Fatal(err)
	}
	if got.Ino != want.Ino {
		t.Errorf("pid %d is not in namespace %s", p.PID(), ns)
	}
	p.Signal(t, syscall.SIGTERM)
	if code := p.Wait(t, 10*time.Second); code != -1 {
		t.Errorf("exit code after SIGTERM: %d, want -1 (signalled)", code)
	}
	if p.Running() {
		t.Errorf("still running after Wait")
	}

	mark := p.LogMark()
	p.start(t, "sh", "-c", "echo second run; exec sleep 60")
	p.WaitLogAfter(t, mark, `^second run$`, 10*time.Second)
	if n := p.CountLog(`^ready`); n != 1 {
		t.Errorf("CountLog over both runs: %d, want 1", n)
	}
	p.Kill(t)
	if _, err := os.Stat(p.LogFile); err != nil {
		t.Errorf("log file: %v", err)
	}
}
