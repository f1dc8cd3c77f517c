//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"strconv"
	"strings"
	"testing"
	"time"
)

// HTTP helpers for tests that talk to nodes.

// Get fetches url with c and returns the status code and the body with
// surrounding white space trimmed. A transport error fails the test.
func Get(t testing.TB, c *http.Client, url string) (int, string) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: body: %v", url, err)
	}
	return resp.StatusCode, strings.TrimSpace(string(b))
}

// Cookie returns the value of the named cookie c's jar holds for url, or "".
func Cookie(t testing.TB, c *http.Client, url, name string) string {
	t.Helper()
	if c.Jar == nil {
		t.Fatalf("Cookie: client has no jar")
	}
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, ck := range c.Jar.Cookies(req.URL) {
		if ck.Name == name {
			return ck.Value
		}
	}
	return ""
}

// InFlight is a request started in the background by GoGet.
type InFlight struct {
	local string        // client address (ip:port) once connected
	wrote chan struct{} // closed when the request was written
	done  chan struct{}
	Code  int
	Body  string
	Err   error
}

// GoGet starts GET url with c in the background.
func GoGet(c *http.Client, url string) *InFlight {
	f := &InFlight{wrote: make(chan struct{}), done: make(chan struct{})}
	connected := make(chan string, 1)
	trace := &httptrace.ClientTrace{
		GotConn:      func(i httptrace.GotConnInfo) { connected <- i.Conn.LocalAddr().String() },
		WroteRequest: func(httptrace.WroteRequestInfo) { close(f.wrote) },
	}
	go func() {
		defer close(f.done)
		req, err := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), http.MethodGet, url, nil)
		if err != nil {
			f.Err = err
			return
		}
		resp, err := c.Do(req)
		if err != nil {
			f.Err = err
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		f.Code, f.Body, f.Err = resp.StatusCode, strings.TrimSpace(string(b)), err
	}()
	select {
	case f.local = <-connected:
	case <-f.done:
	}
	return f
}

// Result waits up to timeout for the request to finish.
func (f *InFlight) Result(t testing.TB, timeout time.Duration) (int, string, error) {
	t.Helper()
	select {
	case <-f.done:
		return f.Code, f.Body, f.Err
	case <-time.After(timeout):
		t.Fatalf("request still running after %s", timeout)
		return 0, "", nil
	}
}

// WaitServed waits until the server side has read the whole request: the
// client's send queue is empty (everything acknowledged) and the server's
// receive queue for that connection is empty (the server read it). From then
// on the request is in the server's hands (net/http counts it as active), so
// a shutdown must let it finish.
func (f *InFlight) WaitServed(t testing.TB, client, server *NS, serverPort int, timeout time.Duration) {
	t.Helper()
	select {
	case <-f.wrote:
	case <-f.done:
		t.Fatalf("request ended before it was in flight: %v", f.Err)
	case <-time.After(timeout):
		t.Fatalf("request not written within %s", timeout)
	}
	_, cport, err := net.SplitHostPort(f.local)
	if err != nil {
		t.Fatalf("client address %q: %v", f.local, err)
	}
	waitFor(t, timeout, "the server to read the request", func() bool {
		_, sq, ok := tcpQueues(t, client, "sport = :"+cport+" and dport = :"+strconv.Itoa(serverPort))
		if !ok || sq != 0 {
			return false
		}
		rq, _, ok := tcpQueues(t, server, "sport = :"+strconv.Itoa(serverPort)+" and dport = :"+cport)
		return ok && rq == 0
	})
}

// tcpQueues returns Recv-Q and Send-Q of the one established TCP connection
// in ns matching the ss filter.
func tcpQueues(t testing.TB, ns *NS, filter string) (recvQ, sendQ int, ok bool) {
	t.Helper()
	out := ns.Run(t, "ss", "-Htn", "state", "established", "( "+filter+" )")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 1 || lines[0] == "" {
		return 0, 0, false
	}
	f := strings.Fields(lines[0])
	if len(f) < 2 {
		return 0, 0, false
	}
	r, err1 := strconv.Atoi(f[0])
	s, err2 := strconv.Atoi(f[1])
	if err1 != nil || err2 != nil {
		panic(fmt.Sprintf("unexpected ss output %q", lines[0]))
	}
	return r, s, true
}
