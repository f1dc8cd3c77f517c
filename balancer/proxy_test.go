package balancer

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gomcat/gomcat/internal/testkit"
)

// memberBalancer starts a balancer fed by a fake heartbeat observer that is
// trusted (as sealed heartbeats are): nodes are live as soon as announced.
func memberBalancer(t *testing.T, mutate func(*Config)) (*Balancer, *fakeMembers) {
	t.Helper()
	fm := newFakeMembers()
	c := testConfig(t)
	c.Discovery = Membership(fm)
	c.TrustDiscovery = true
	if mutate != nil {
		mutate(&c)
	}
	return startBalancer(t, c), fm
}

// named is a test node: it answers /healthz itself and passes the rest to h.
func named(name string, h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Node", name)
		if r.URL.Path == "/healthz" {
			return
		}
		h(w, r)
	})
}

func TestRetryRules(t *testing.T) {
	dial := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	reset := &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}
	fresh := func() *sharedBody { return &sharedBody{rc: io.NopCloser(strings.NewReader("x"))} }
	started := func() *sharedBody { s := fresh(); s.started.Store(true); return s }
	for _, tc := range []struct {
		name   string
		method string
		err    error
		body   *sharedBody
		want   bool
	}{
		{"GET connect refused", "GET", dial, nil, true},
		{"GET reset mid-request", "GET", reset, nil, true},
		{"HEAD EOF", "HEAD", io.EOF, nil, true},
		{"OPTIONS reset", "OPTIONS", reset, nil, true},
		{"POST connect refused", "POST", dial, nil, true},
		{"POST no body reset", "POST", reset, nil, false},
		{"POST body not sent reset", "POST", reset, fresh(), true},
		{"POST body sent reset", "POST", reset, started(), false},
		{"PUT body sent connect refused", "PUT", dial, started(), false},
		{"GET body sent", "GET", reset, started(), false},
		{"DELETE no body EOF", "DELETE", io.EOF, nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := retryable(tc.method, tc.err, tc.body); got != tc.want {
				t.Fatalf("retryable = %v, want %v", got, tc.want)
			}
		})
	}
}

// rawNode accepts connections and runs fn on each: a node that misbehaves on the wire.
func rawNode(t *testing.T, fn func(c net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() { _ = ln.Close(); <-done })
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			fn(c)
		}
	}()
	return "http://" + ln.Addr().String()
}

// dieAfterHeaders reads the request head (and body bytes if readBody) and closes.
func dieAfterHeaders(readBody bool) func(net.Conn) {
	return func(c net.Conn) {
		br := bufio.NewReader(c)
		req, err := http.ReadRequest(br)
		if err == nil && readBody {
			_, _ = io.CopyN(io.Discard, req.Body, 1)
		}
		_ = c.Close()
	}
}

func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return "http://" + addr
}

func TestFailoverRetries(t *testing.T) {
	good := httptest.NewServer(named("good", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, "%s %s", r.Method, body)
	}))
	t.Cleanup(good.Close)
	for _, tc := range []struct {
		name        string
		bad         func(t *testing.T) string
		method      string
		body        string
		expect100   bool
		wantCode    int
		wantBadDown bool
	}{
		{"GET connect refused", closedPort, "GET", "", false, 200, true},
		{"POST connect refused", closedPort, "POST", "data", false, 200, true},
		{"GET node dies mid-request", func(t *testing.T) string { return rawNode(t, dieAfterHeaders(false)) }, "GET", "", false, 200, false},
		{"POST node dies after the body was sent", func(t *testing.T) string { return rawNode(t, dieAfterHeaders(true)) }, "POST", "data", false, 502, false},
		{"POST node dies before the body was sent", func(t *testing.T) string { return rawNode(t, dieAfterHeaders(false)) }, "POST", "data", true, 200, false},
		{"POST without body node dies", func(t *testing.T) string { return rawNode(t, dieAfterHeaders(false)) }, "POST", "", false, 502, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, fm := memberBalancer(t, nil)
			fm.send(MemberEvent{Kind: MemberAdded, Name: "bad", HTTPURL: tc.bad(t)})
			fm.send(MemberEvent{Kind: MemberAdded, Name: "good", HTTPURL: good.URL})
			waitState(t, b, "bad", StateLive)
			waitState(t, b, "good", StateLive)
			var body io.Reader
			if tc.body != "" {
				body = strings.NewReader(tc.body)
			}
			req, _ := http.NewRequest(tc.method, b.testURL()+"/x", body)
			req.Header.Set("Cookie", "JSESSIONID=ABC.bad")
			if tc.expect100 {
				req.Header.Set("Expect", "100-continue")
			}
			resp, err := (&http.Client{Transport: &http.Transport{ExpectContinueTimeout: 5 * time.Second}}).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.wantCode {
				t.Fatalf("status %d (%q), want %d", resp.StatusCode, got, tc.wantCode)
			}
			if tc.wantCode == 200 && string(got) != tc.method+" "+tc.body {
				t.Fatalf("body %q", got)
			}
			want := StateLive // still accepts connections
			if tc.wantBadDown {
				want = StateDown
			}
			if got := nodeState(b, "bad"); got != want {
				t.Fatalf("bad node state %s, want %s", got, want)
			}
		})
	}
}

func TestNoLiveNode(t *testing.T) {
	b, _ := memberBalancer(t, nil)
	code, _, _ := get(t, http.DefaultClient, b.testURL()+"/")
	if code != http.StatusServiceUnavailable {
		t.Fatalf("status %d, want 503", code)
	}
}

func TestPassiveDownAndRecovery(t *testing.T) {
	b, fm := memberBalancer(t, nil)
	addr := closedPort(t)
	fm.send(MemberEvent{Kind: MemberAdded, Name: "n1", HTTPURL: addr})
	waitState(t, b, "n1", StateLive)
	if code, _, _ := get(t, http.DefaultClient, b.testURL()+"/"); code != 502 {
		t.Fatalf("status %d, want 502 (only node refused)", code)
	}
	if s := nodeState(b, "n1"); s != StateDown {
		t.Fatalf("state %s after connection failure, want down", s)
	}
	// the node comes back at the same address: recovery probes bring it back
	ln, err := net.Listen("tcp", strings.TrimPrefix(addr, "http://"))
	if err != nil {
		t.Skipf("port reused meanwhile: %v", err)
	}
	srv := &http.Server{Handler: named("n1", func(w http.ResponseWriter, r *http.Request) {})}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	waitState(t, b, "n1", StateLive)
	if code, _, node := get(t, http.DefaultClient, b.testURL()+"/"); code != 200 || node != "n1" {
		t.Fatalf("after recovery: %d from %q", code, node)
	}
}

func TestDrainOnGoodbye(t *testing.T) {
	release := make(chan struct{})
	inSlow := make(chan struct{})
	a := httptest.NewServer(named("a", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			close(inSlow)
			<-release
		}
		_, _ = io.WriteString(w, "a")
	}))
	t.Cleanup(a.Close)
	bsrv := httptest.NewServer(named("b", func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "b") }))
	t.Cleanup(bsrv.Close)
	b, fm := memberBalancer(t, nil)
	fm.send(MemberEvent{Kind: MemberAdded, Name: "a", HTTPURL: a.URL})
	fm.send(MemberEvent{Kind: MemberAdded, Name: "b", HTTPURL: bsrv.URL})
	waitState(t, b, "a", StateLive)
	waitState(t, b, "b", StateLive)

	slow := make(chan string, 1)
	go func() {
		req, _ := http.NewRequest("GET", b.testURL()+"/slow", nil)
		req.Header.Set("Cookie", "JSESSIONID=X.a")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			slow <- err.Error()
			return
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		slow <- fmt.Sprintf("%d %s", resp.StatusCode, body)
	}()
	<-inSlow
	fm.send(MemberEvent{Kind: MemberLeft, Name: "a"})
	waitState(t, b, "a", StateDraining)
	if _, _, node := get(t, http.DefaultClient, b.testURL()+"/", "Cookie", "JSESSIONID=Y.a"); node != "b" {
		t.Fatalf("draining node got a new request (%s)", node)
	}
	close(release)
	if got := <-slow; got != "200 a" {
		t.Fatalf("in-flight request on the draining node: %q", got)
	}
	waitState(t, b, "a", StateLeft)
	// it comes back (restart): live again
	fm.send(MemberEvent{Kind: MemberReplaced, Name: "a", HTTPURL: a.URL})
	waitState(t, b, "a", StateLive)
	// it disappears: down
	fm.send(MemberEvent{Kind: MemberDisappeared, Name: "a"})
	waitState(t, b, "a", StateDown)
}

func TestHealthChecksDownUp(t *testing.T) {
	var status atomic.Int32
	status.Store(200)
	a := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" {
			w.WriteHeader(int(status.Load()))
		}
	}))
	t.Cleanup(a.Close)
	b := startBalancer(t, testConfig(t, Backend{Name: "a", URL: a.URL}))
	admin := "http://" + b.AdminAddr().String()
	waitState(t, b, "a", StateLive)
	if code, _, _ := get(t, http.DefaultClient, admin+"/readyz"); code != 200 {
		t.Fatalf("readyz %d with a live node", code)
	}
	status.Store(503)
	waitState(t, b, "a", StateDown)
	if code, _, _ := get(t, http.DefaultClient, admin+"/readyz"); code != 503 {
		t.Fatalf("readyz %d with no live node", code)
	}
	if code, _, _ := get(t, http.DefaultClient, b.testURL()+"/"); code != 503 {
		t.Fatalf("proxy %d with no live node, want 503", code)
	}
	status.Store(200)
	waitState(t, b, "a", StateLive)
}

func TestAdminEndpoints(t *testing.T) {
	a := httptest.NewServer(named("a", func(w http.ResponseWriter, r *http.Request) {}))
	t.Cleanup(a.Close)
	b := startBalancer(t, testConfig(t, Backend{Name: "a", URL: a.URL}, Backend{Name: "gone", URL: closedPort(t)}))
	admin := "http://" + b.AdminAddr().String()
	if code, body, _ := get(t, http.DefaultClient, admin+"/livez"); code != 200 || body != "ok\n" {
		t.Fatalf("livez %d %q", code, body)
	}
	waitState(t, b, "a", StateLive)
	for range 3 {
		get(t, http.DefaultClient, b.testURL()+"/")
	}
	for _, path := range []string{"/status", "/members"} {
		code, body, _ := get(t, http.DefaultClient, admin+path)
		var rep StatusReport
		if err := json.Unmarshal([]byte(body), &rep); code != 200 || err != nil {
			t.Fatalf("%s: %d %v %q", path, code, err, body)
		}
		if !rep.Ready || rep.Live != 1 || len(rep.Nodes) != 2 {
			t.Fatalf("%s: %+v", path, rep)
		}
		n := rep.Nodes[0]
		if n.Name != "a" || n.State != StateLive || n.Requests != 3 || n.Outstanding != 0 || n.URL != a.URL {
			t.Fatalf("%s node a: %+v", path, n)
		}
		if g := rep.Nodes[1]; g.Name != "gone" || g.State != StateDown || g.Reason == "" {
			t.Fatalf("%s node gone: %+v", path, g)
		}
	}
}

func TestHopByHopAndForwarded(t *testing.T) {
	var got http.Header
	var gotHost string
	a := httptest.NewServer(named("a", func(w http.ResponseWriter, r *http.Request) {
		got, gotHost = r.Header.Clone(), r.Host
		w.Header().Set("Connection", "X-Resp-Hop")
		w.Header().Set("X-Resp-Hop", "1")
		w.Header().Set("Keep-Alive", "timeout=5")
		w.Header().Set("X-End", "kept")
	}))
	t.Cleanup(a.Close)
	b := startBalancer(t, testConfig(t, Backend{Name: "a", URL: a.URL}))
	waitState(t, b, "a", StateLive)
	req, _ := http.NewRequest("GET", b.testURL()+"/p", nil)
	req.Host = "shop.example:8443"
	req.Header.Set("Connection", "X-Hop, keep-alive")
	req.Header.Set("X-Hop", "secret")
	req.Header.Set("Proxy-Authorization", "Basic abc")
	req.Header.Set("Te", "trailers, deflate")
	req.Header.Set("X-Forwarded-For", "6.6.6.6")
	req.Header.Set("Forwarded", "for=6.6.6.6")
	req.Header.Set("X-End", "kept")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for _, h := range []string{"X-Hop", "Proxy-Authorization", "Keep-Alive"} {
		if v := got.Get(h); v != "" {
			t.Errorf("node got hop-by-hop %s: %q", h, v)
		}
	}
	if v := got.Get("Te"); v != "trailers" && v != "" {
		t.Errorf("Te = %q", v)
	}
	if got.Get("X-End") != "kept" || gotHost != "shop.example:8443" {
		t.Errorf("end-to-end header %q, host %q", got.Get("X-End"), gotHost)
	}
	want := map[string]string{
		"X-Forwarded-For":   "127.0.0.1",
		"X-Forwarded-Host":  "shop.example:8443",
		"X-Forwarded-Proto": "http",
		"Forwarded":         `for=127.0.0.1;host="shop.example:8443";proto=http`,
	}
	for k, v := range want {
		if g := strings.Join(got.Values(k), ", "); g != v {
			t.Errorf("%s = %q, want %q", k, g, v)
		}
	}
	if resp.Header.Get("X-Resp-Hop") != "" || resp.Header.Get("Keep-Alive") != "" || resp.Header.Get("X-End") != "kept" {
		t.Errorf("response headers %v", resp.Header)
	}
}

func TestTrustForwardedAppends(t *testing.T) {
	var got http.Header
	a := httptest.NewServer(named("a", func(w http.ResponseWriter, r *http.Request) { got = r.Header.Clone() }))
	t.Cleanup(a.Close)
	c := testConfig(t, Backend{Name: "a", URL: a.URL})
	c.TrustForwarded = true
	b := startBalancer(t, c)
	waitState(t, b, "a", StateLive)
	get(t, http.DefaultClient, b.testURL()+"/", "X-Forwarded-For", "192.0.2.1", "Forwarded", "for=192.0.2.1")
	if v := got.Get("X-Forwarded-For"); v != "192.0.2.1, 127.0.0.1" {
		t.Errorf("X-Forwarded-For = %q", v)
	}
	if v := strings.Join(got.Values("Forwarded"), ", "); !strings.HasPrefix(v, "for=192.0.2.1, for=127.0.0.1") {
		t.Errorf("Forwarded = %q", v)
	}
}

// echoUpgrade answers an Upgrade: websocket request with 101 and echoes lines.
func echoUpgrade() http.Handler {
	return named("a", func(w http.ResponseWriter, r *http.Request) {
		if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
			http.Error(w, "want upgrade", 400)
			return
		}
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		_, _ = brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
		_ = brw.Flush()
		for {
			line, err := brw.ReadString('\n')
			if err != nil {
				return
			}
			_, _ = brw.WriteString("echo " + line)
			_ = brw.Flush()
		}
	})
}

// dialUpgrade opens an upgraded connection through the balancer.
func dialUpgrade(t *testing.T, b *Balancer) (net.Conn, *bufio.Reader) {
	t.Helper()
	conn, err := net.Dial("tcp", b.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(conn, "GET /ws HTTP/1.1\r\nHost: lb\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 101 || !strings.EqualFold(resp.Header.Get("Upgrade"), "websocket") {
		t.Fatalf("upgrade response %d %v", resp.StatusCode, resp.Header)
	}
	return conn, br
}

func TestStopEndsUpgradedConnections(t *testing.T) {
	a := httptest.NewServer(echoUpgrade())
	t.Cleanup(a.Close)
	c := testConfig(t, Backend{Name: "a", URL: a.URL})
	b, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	waitState(t, b, "a", StateLive)
	conn, br := dialUpgrade(t, b)
	_, _ = io.WriteString(conn, "x\n")
	if line, err := br.ReadString('\n'); err != nil || line != "echo x\n" {
		t.Fatalf("echo %q %v", line, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := b.Stop(ctx); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if _, err := br.ReadString('\n'); err == nil {
		t.Fatal("upgraded connection still open after Stop")
	}
}

func TestWebSocketUpgrade(t *testing.T) {
	a := httptest.NewServer(echoUpgrade())
	t.Cleanup(a.Close)
	c := testConfig(t, Backend{Name: "a", URL: a.URL})
	c.AccessLog = true
	b := startBalancer(t, c)
	waitState(t, b, "a", StateLive)

	conn, br := dialUpgrade(t, b)
	for _, msg := range []string{"hello\n", "again\n"} {
		_, _ = io.WriteString(conn, msg)
		line, err := br.ReadString('\n')
		if err != nil || line != "echo "+msg {
			t.Fatalf("echo %q, %v", line, err)
		}
	}
	if n := b.Nodes()[0].Outstanding; n != 1 {
		t.Fatalf("outstanding during websocket = %d, want 1", n)
	}
	conn.Close()
	testkit.WaitFor(t, "websocket closed", func() bool { return b.Nodes()[0].Outstanding == 0 })
}

func TestStreamingBothWays(t *testing.T) {
	gotFirst := make(chan string, 1)
	next := make(chan struct{})
	a := httptest.NewServer(named("a", func(w http.ResponseWriter, r *http.Request) {
		br := bufio.NewReader(r.Body)
		line, _ := br.ReadString('\n')
		gotFirst <- line // the node sees the first chunk while the client still sends
		rest, _ := io.ReadAll(br)
		_, _ = io.WriteString(w, "part1:"+string(rest))
		http.NewResponseController(w).Flush()
		<-next
		_, _ = io.WriteString(w, "|part2")
	}))
	t.Cleanup(a.Close)
	b := startBalancer(t, testConfig(t, Backend{Name: "a", URL: a.URL}))
	waitState(t, b, "a", StateLive)

	pr, pw := io.Pipe()
	req, _ := http.NewRequest("POST", b.testURL()+"/up", pr)
	type result struct {
		resp *http.Response
		err  error
	}
	res := make(chan result, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		res <- result{resp, err}
	}()
	_, _ = io.WriteString(pw, "chunk1\n")
	select {
	case line := <-gotFirst:
		if line != "chunk1\n" {
			t.Fatalf("first chunk %q", line)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("request body not streamed")
	}
	_, _ = io.WriteString(pw, "chunk2")
	pw.Close()
	r := <-res
	if r.err != nil {
		t.Fatal(r.err)
	}
	defer r.resp.Body.Close()
	buf := make([]byte, len("part1:chunk2"))
	if _, err := io.ReadFull(r.resp.Body, buf); err != nil || string(buf) != "part1:chunk2" {
		t.Fatalf("first response part %q %v", buf, err)
	}
	close(next) // the second part is sent only now: the first arrived streamed
	rest, _ := io.ReadAll(r.resp.Body)
	if string(rest) != "|part2" {
		t.Fatalf("rest %q", rest)
	}
}

func TestMaxConnsPerNode(t *testing.T) {
	var cur, peak atomic.Int32
	a := httptest.NewServer(named("a", func(w http.ResponseWriter, r *http.Request) {
		n := cur.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(5 * time.Millisecond)
		cur.Add(-1)
	}))
	t.Cleanup(a.Close)
	c := testConfig(t, Backend{Name: "a", URL: a.URL})
	c.MaxConnsPerNode = 2
	b := startBalancer(t, c)
	waitState(t, b, "a", StateLive)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	errs := make(chan error, 8)
	for range 8 {
		go func() {
			req, _ := http.NewRequestWithContext(ctx, "GET", b.testURL()+"/", nil)
			resp, err := http.DefaultClient.Do(req)
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode != 200 {
					err = errors.New(resp.Status)
				}
			}
			errs <- err
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if p := peak.Load(); p > 2 {
		t.Fatalf("peak concurrent upstream requests %d > cap 2", p)
	}
}
