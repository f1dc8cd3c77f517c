package balancer

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/gomcat/gomcat/internal/testkit"
)

// desyncNode answers every request for /u/<id> with that user's cookie and
// body; a request for /poison makes it misbehave as mode says, each time
// with a smuggled response carrying the victim's cookie.
func desyncNode(t *testing.T, mode string, idleSend <-chan struct{}) string {
	const smuggled = "HTTP/1.1 200 OK\r\nSet-Cookie: JSESSIONID=VICTIM.a\r\nContent-Length: 11\r\n\r\nuser=VICTIM"
	return rawNode(t, func(c net.Conn) {
		go func() {
			defer c.Close()
			br := bufio.NewReader(c)
			for {
				req, err := http.ReadRequest(br)
				if err != nil {
					return
				}
				_, _ = io.Copy(io.Discard, req.Body)
				id := strings.TrimPrefix(req.URL.Path, "/u/")
				own := fmt.Sprintf("HTTP/1.1 200 OK\r\nSet-Cookie: JSESSIONID=%s.a\r\nContent-Length: %d\r\n\r\nuser=%s", id, len("user=")+len(id), id)
				if req.URL.Path != "/poison" {
					if _, err := io.WriteString(c, own); err != nil {
						return
					}
					continue
				}
				var err2 error
				switch mode {
				case "after": // bytes right after the response, in the same write
					_, err2 = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"+smuggled)
				case "split": // bytes after the response, in a write of their own
					_, err2 = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
					if err2 == nil {
						_, err2 = io.WriteString(c, smuggled)
					}
				case "idle": // bytes after the response once the test says so
					_, err2 = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
					<-idleSend
					_, _ = io.WriteString(c, smuggled)
				case "clte": // Content-Length says the smuggled response is body; chunked says it is next
					_, err2 = io.WriteString(c, fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Length: %d\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n%s", 5+len(smuggled), smuggled))
				}
				if err2 != nil {
					return
				}
			}
		}()
	})
}

// No user ever receives bytes of another request: with a node that sends
// smuggled responses (bytes after its response, or CL+TE), every answer a
// user gets is either its own or an error.
func TestNoResponseDesync(t *testing.T) {
	for _, mode := range []string{"after", "split", "clte"} {
		t.Run(mode, func(t *testing.T) {
			c := testConfig(t, Backend{Name: "a", URL: desyncNode(t, mode, nil)})
			c.Health.Path = "/u/health"
			c.MaxConnsPerNode = 4
			c.MaxIdleConnsPerNode = 4
			b := startBalancer(t, c)
			waitState(t, b, "a", StateLive)
			tr := &http.Transport{MaxIdleConnsPerHost: 16}
			t.Cleanup(tr.CloseIdleConnections)
			client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
			var wg sync.WaitGroup
			errs := make(chan error, 64)
			for u := range 8 {
				wg.Go(func() {
					for i := range 40 {
						path := fmt.Sprintf("/u/user%d", u)
						if u == 0 && i%2 == 0 {
							path = "/poison"
						}
						resp, err := client.Get(b.testURL() + path)
						if err != nil {
							continue // a desync the guard cut short
						}
						body, _ := io.ReadAll(resp.Body)
						resp.Body.Close()
						if strings.Contains(string(body), "VICTIM") || strings.Contains(resp.Header.Get("Set-Cookie"), "VICTIM") {
							errs <- fmt.Errorf("user%d got smuggled bytes: %q %q", u, resp.Header.Get("Set-Cookie"), body)
							return
						}
						if path != "/poison" && resp.StatusCode == 200 && string(body) != fmt.Sprintf("user=user%d", u) {
							errs <- fmt.Errorf("user%d got %q", u, body)
							return
						}
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
			if d := b.Nodes()[0].Desyncs; d == 0 && mode != "clte" {
				t.Errorf("desyncs = 0, want the smuggled bytes counted")
			}
		})
	}
}

// Bytes a node sends on a keep-alive connection while it sits idle are
// caught before the connection is used again (and counted).
func TestDesyncWhileIdle(t *testing.T) {
	send := make(chan struct{})
	c := testConfig(t, Backend{Name: "a", URL: desyncNode(t, "idle", send)})
	c.Health.Path = "/u/health"
	c.MaxConnsPerNode = 1 // one connection: the next request would get the smuggled bytes
	b := startBalancer(t, c)
	waitState(t, b, "a", StateLive)
	client := &http.Client{Timeout: 10 * time.Second}
	if code, _, _ := get(t, client, b.testURL()+"/poison"); code != 200 {
		t.Fatalf("poison: %d", code)
	}
	close(send)
	testkit.WaitFor(t, "the desync counted", func() bool { return b.Nodes()[0].Desyncs == 1 })
	for i := range 3 {
		resp, err := client.Get(b.testURL() + "/u/bob")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if cookie := resp.Header.Get("Set-Cookie"); resp.StatusCode != 200 || string(body) != "user=bob" || cookie != "JSESSIONID=bob.a" {
			t.Fatalf("request %d: %d %q %q", i, resp.StatusCode, body, cookie)
		}
	}
}

// A request that finds every connection slot of its node taken for longer
// than QueueTimeout is answered 503 and counted.
func TestQueueTimeout(t *testing.T) {
	release := make(chan struct{})
	entered := make(chan struct{}, 1)
	a := newNamedServer(t, "a", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			entered <- struct{}{}
			<-release
		}
	})
	c := testConfig(t, Backend{Name: "a", URL: a})
	c.MaxConnsPerNode = 1
	c.QueueTimeout = 50 * time.Millisecond
	b := startBalancer(t, c)
	waitState(t, b, "a", StateLive)
	done := make(chan struct{})
	go func() {
		defer close(done)
		resp, err := http.Get(b.testURL() + "/slow")
		if err == nil {
			resp.Body.Close()
		}
	}()
	<-entered
	code, _, _ := get(t, http.DefaultClient, b.testURL()+"/fast")
	close(release)
	<-done
	if code != http.StatusServiceUnavailable {
		t.Fatalf("status %d, want 503", code)
	}
	if n := b.Nodes()[0].Busy; n != 1 {
		t.Fatalf("busy = %d, want 1", n)
	}
	if code, _, _ := get(t, http.DefaultClient, b.testURL()+"/fast"); code != 200 {
		t.Fatalf("after the slot came free: status %d", code)
	}
}

// A client that trickles its request body is answered 408 once it falls
// below the minimum rate, without holding a node connection meanwhile.
func TestSlowClientBody(t *testing.T) {
	reached := make(chan struct{}, 1)
	a := newNamedServer(t, "a", func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			reached <- struct{}{}
		}
	})
	c := testConfig(t, Backend{Name: "a", URL: a})
	c.Body.MinRateGrace = 200 * time.Millisecond
	c.Body.MinRate = 1000
	b := startBalancer(t, c)
	waitState(t, b, "a", StateLive)
	conn, err := net.Dial("tcp", b.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	_, _ = io.WriteString(conn, "POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nab")
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestTimeout {
		t.Fatalf("status %d, want 408", resp.StatusCode)
	}
	select {
	case <-reached:
		t.Fatal("the slow body reached the node")
	default:
	}
	if b.SlowBodies() != 1 {
		t.Fatalf("slow bodies = %d", b.SlowBodies())
	}
	if err := testutil.CollectAndCompare(b.Collector(), strings.NewReader(`# HELP gomcat_balancer_errors_total Requests the balancer answered itself, by reason: no_live_node (503), slow_body (client body too slow: 408).
# TYPE gomcat_balancer_errors_total counter
gomcat_balancer_errors_total{reason="no_live_node"} 0
gomcat_balancer_errors_total{reason="slow_body"} 1
`), "gomcat_balancer_errors_total"); err != nil {
		t.Error(err)
	}
}

func newNamedServer(t *testing.T, name string, h http.HandlerFunc) string {
	srv := httptest.NewServer(named(name, h))
	t.Cleanup(srv.Close)
	return srv.URL
}
