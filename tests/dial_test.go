//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"runtime"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// Sockets inside a namespace, from the test process itself.
//
// A socket belongs to the network namespace its creating thread was in at
// socket(2) time, and stays there. So Do runs a function on a fresh goroutine
// locked to its OS thread, switched into the namespace with setns(2), and
// switched back before the thread is released. If switching back fails the
// thread stays locked and dies with the goroutine, so no goroutine of the test
// ever runs in the wrong namespace.

// Do runs fn on an OS thread inside the namespace and returns its error. Only
// sockets created during fn belong to the namespace; fn must not start
// goroutines that create sockets (they would run elsewhere).
func (ns *NS) Do(fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		restored := false
		defer func() {
			if restored {
				runtime.UnlockOSThread()
			} // else: leave locked; the runtime ends the thread with the goroutine
		}()
		orig, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			restored = true
			errc <- fmt.Errorf("open own netns: %w", err)
			return
		}
		defer unix.Close(orig)
		target, err := unix.Open("/run/netns/"+ns.Name, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			restored = true
			errc <- fmt.Errorf("open netns %s: %w", ns.Name, err)
			return
		}
		defer unix.Close(target)
		if err := unix.Setns(target, unix.CLONE_NEWNET); err != nil {
			restored = true
			errc <- fmt.Errorf("setns %s: %w", ns.Name, err)
			return
		}
		ferr := fn()
		if err := unix.Setns(orig, unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("setns back from %s: %w", ns.Name, err)
			return
		}
		restored = true
		errc <- ferr
	}()
	return <-errc
}

// DialContext connects from inside the namespace. addr must be an IP literal
// with a port (no name resolution: it would run on other threads).
func (ns *NS) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	if net.ParseIP(host) == nil {
		return nil, fmt.Errorf("dial %s from %s: only IP literals are supported", addr, ns.Name)
	}
	var c net.Conn
	err = ns.Do(func() error {
		d := net.Dialer{FallbackDelay: -1} // one address, no racing goroutine
		var err error
		c, err = d.DialContext(ctx, network, addr)
		return err
	})
	return c, err
}

// Listen opens a listener inside the namespace.
func (ns *NS) Listen(network, addr string) (net.Listener, error) {
	var l net.Listener
	err := ns.Do(func() error {
		var err error
		l, err = net.Listen(network, addr)
		return err
	})
	return l, err
}

// ListenPacket opens a packet socket (UDP) inside the namespace.
func (ns *NS) ListenPacket(network, addr string) (net.PacketConn, error) {
	var pc net.PacketConn
	err := ns.Do(func() error {
		var err error
		pc, err = net.ListenPacket(network, addr)
		return err
	})
	return pc, err
}

// HTTPClient returns a client whose connections start inside the namespace:
// no proxy, keep-alives on, 30 s overall timeout. With jar, it keeps cookies
// (JSESSIONID) like a browser: per host, so a cookie from one node's address
// is not sent to another's (see NewClusterJar for that).
func (ns *NS) HTTPClient(jar bool) *http.Client {
	var j http.CookieJar
	if jar {
		var err error
		if j, err = cookiejar.New(nil); err != nil {
			panic(err) // cookiejar.New(nil) never fails
		}
	}
	return ns.HTTPClientJar(j)
}

// HTTPClientJar is HTTPClient with the given cookie jar (nil: none).
func (ns *NS) HTTPClientJar(jar http.CookieJar) *http.Client {
	tr := &http.Transport{
		Proxy:                 nil,
		DialContext:           ns.DialContext,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       30 * time.Second,
		ResponseHeaderTimeout: 30 * time.Second,
		DisableCompression:    true,
	}
	return &http.Client{Transport: tr, Timeout: 30 * time.Second, Jar: jar}
}

// ClusterJar is a cookie jar that ignores host, path and expiry: every
// cookie goes to every node, as if all nodes stood behind one balancer
// address. A cookie is replaced by name; MaxAge < 0 deletes it.
type ClusterJar struct {
	mu      sync.Mutex
	cookies map[string]*http.Cookie
}

// NewClusterJar returns an empty ClusterJar.
func NewClusterJar() *ClusterJar { return &ClusterJar{cookies: map[string]*http.Cookie{}} }

// SetCookies implements http.CookieJar.
func (j *ClusterJar) SetCookies(_ *url.URL, cs []*http.Cookie) {
	j.mu.Lock()
	defer j.mu.Unlock()
	for _, c := range cs {
		if c.MaxAge < 0 {
			delete(j.cookies, c.Name)
			continue
		}
		j.cookies[c.Name] = &http.Cookie{Name: c.Name, Value: c.Value}
	}
}

// Cookies implements http.CookieJar.
func (j *ClusterJar) Cookies(*url.URL) []*http.Cookie {
	j.mu.Lock()
	defer j.mu.Unlock()
	out := make([]*http.Cookie, 0, len(j.cookies))
	for _, c := range j.cookies {
		out = append(out, &http.Cookie{Name: c.Name, Value: c.Value})
	}
	return out
}
