package host

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gomcat/gomcat/ajp"
)

// ajpClient plays mod_jk over a real loopback connection.
type ajpClient struct {
	t    *testing.T
	nc   net.Conn
	buf  []byte
	size int
}

func dialAJP(t *testing.T, c *AJPConnector) *ajpClient {
	t.Helper()
	nc, err := net.Dial("tcp", c.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	return &ajpClient{t: t, nc: nc, buf: make([]byte, ajp.MaxPacketSize), size: c.cfg.PacketSize}
}

func (cl *ajpClient) send(payload []byte) {
	cl.t.Helper()
	pkt, err := ajp.Frame(ajp.ToContainer, payload, cl.size)
	if err != nil {
		cl.t.Fatal(err)
	}
	if _, err := cl.nc.Write(pkt); err != nil {
		cl.t.Fatal(err)
	}
}

// ajpResult is a response as the web server sees it.
type ajpResult struct {
	status   int
	header   http.Header
	body     []byte
	reuse    bool
	asked    int // get-body-chunk packets answered
	maxChunk int // largest send-body-chunk data
}

// do sends a forward request and body (sent the way mod_jk does: the first
// chunk unasked when the length is known, the rest on request) and reads
// the response up to end-response.
func (cl *ajpClient) do(fr *ajp.ForwardRequest, body []byte) (*ajpResult, error) {
	cl.t.Helper()
	cl.send(fr.Append(nil))
	known := false
	for _, h := range fr.Headers {
		known = known || strings.EqualFold(h.Name, "content-length")
	}
	chunk := cl.size - ajp.BodyChunkOverhead
	next := func(n int) []byte {
		n = min(n, chunk, len(body))
		b := body[:n]
		body = body[n:]
		return b
	}
	if known && len(body) > 0 {
		cl.send(ajp.AppendBodyChunk(nil, next(chunk)))
	}
	res := &ajpResult{header: http.Header{}}
	for {
		p, err := ajp.ReadFrame(cl.nc, ajp.ToServer, cl.buf)
		if err != nil {
			return res, err
		}
		switch ajp.KindOf(p) {
		case ajp.KindSendHeaders:
			sh, err := ajp.DecodeSendHeaders(p)
			if err != nil {
				return res, err
			}
			res.status = sh.Status
			for _, h := range sh.Headers {
				res.header.Add(h.Name, h.Value)
			}
		case ajp.KindSendBodyChunk:
			b, err := ajp.DecodeSendBodyChunk(p)
			if err != nil {
				return res, err
			}
			res.maxChunk = max(res.maxChunk, len(b))
			res.body = append(res.body, b...)
		case ajp.KindGetBodyChunk:
			n, _ := ajp.DecodeGetBodyChunk(p)
			res.asked++
			cl.send(ajp.AppendBodyChunk(nil, next(n)))
		case ajp.KindEndResponse:
			res.reuse, err = ajp.DecodeEndResponse(p)
			return res, err
		default:
			return res, fmt.Errorf("unexpected %s", ajp.KindOf(p))
		}
	}
}

// closed says whether the server closed the connection (EOF or reset).
func (cl *ajpClient) closed() bool {
	cl.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, err := ajp.ReadFrame(cl.nc, ajp.ToServer, cl.buf)
	return err != nil && !errors.Is(err, ajp.ErrBadMagic)
}

func getReq(uri string, secret string) *ajp.ForwardRequest {
	fr := &ajp.ForwardRequest{Method: "GET", Protocol: "HTTP/1.1", URI: uri, RemoteAddr: "203.0.113.9", RemoteHost: "203.0.113.9",
		ServerName: "localhost", ServerPort: 80, Headers: []ajp.Header{{Name: "host", Value: "localhost"}}}
	fr.Attributes.Request = []ajp.Header{{Name: ajp.AttrRemotePort, Value: "40404"}, {Name: ajp.AttrLocalAddr, Value: "127.0.0.1"}}
	if secret != "" {
		fr.Attributes.HasSecret, fr.Attributes.Secret = true, secret
	}
	return fr
}

func startAJP(t *testing.T, h http.Handler, tweak func(*AJPConfig)) *AJPConnector {
	t.Helper()
	cfg := DefaultAJPConfig()
	cfg.Port, cfg.Secret, cfg.Handler, cfg.Logger = 0, "s3cret", h, testLogger(t)
	if tweak != nil {
		tweak(&cfg)
	}
	c, err := NewAJPConnector(cfg)
	if err != nil {
		t.Fatal(err)
	}
	must(t, c.Start(context.Background()))
	t.Cleanup(func() { c.Stop(context.Background()) })
	return c
}

// echo reports what the handler saw.
var echo = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), 500)
		return
	}
	info := AJPInfoFrom(r)
	w.Header().Set("X-Method", r.Method)
	w.Header().Set("X-Remote", r.RemoteAddr)
	w.Header().Set("X-Host", r.Host)
	w.Header().Set("X-Query", r.URL.RawQuery)
	w.Header().Set("X-Path", r.URL.Path)
	w.Header().Set("X-Cookie", r.Header.Get("Cookie"))
	w.Header().Set("X-Custom", r.Header.Get("X-Custom"))
	w.Header().Set("X-TLS", fmt.Sprint(r.TLS != nil))
	w.Header().Set("X-Route", info.Route)
	w.Header().Set("X-Length", fmt.Sprint(r.ContentLength))
	if v := info.Attributes["FOO_BAR"]; v != "" {
		w.Header().Set("X-Attr", v)
	}
	http.SetCookie(w, &http.Cookie{Name: "a", Value: "1"})
	http.SetCookie(w, &http.Cookie{Name: "b", Value: "2"})
	w.Write(b)
})

func TestAJPForwardRequest(t *testing.T) {
	c := startAJP(t, echo, nil)
	cl := dialAJP(t, c)
	fr := getReq("/shop/cart", "s3cret")
	fr.Headers = append(fr.Headers, ajp.Header{Name: "cookie", Value: "JSESSIONID=AB.node1"}, ajp.Header{Name: "X-Custom", Value: "yes"})
	fr.Attributes.QueryString, fr.Attributes.Route = "q=1&r=2", "node1"
	res, err := cl.do(fr, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"X-Method": "GET", "X-Remote": "203.0.113.9:40404", "X-Host": "localhost", "X-Query": "q=1&r=2",
		"X-Path": "/shop/cart", "X-Cookie": "JSESSIONID=AB.node1", "X-Custom": "yes", "X-TLS": "false", "X-Route": "node1",
		"X-Length": "0", "Content-Length": "0"}
	for k, v := range want {
		if got := res.header.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if res.status != 200 || !res.reuse || len(res.header.Values("Set-Cookie")) != 2 {
		t.Fatalf("status %d reuse %v cookies %v", res.status, res.reuse, res.header.Values("Set-Cookie"))
	}
	// Keep-alive: the same connection serves a CPing and more requests.
	cl.send(ajp.AppendCPing(nil))
	p, err := ajp.ReadFrame(cl.nc, ajp.ToServer, cl.buf)
	if err != nil || ajp.KindOf(p) != ajp.KindCPong {
		t.Fatalf("cpong: % x, %v", p, err)
	}
	for i := range 3 {
		fr := getReq(fmt.Sprintf("/n/%d", i), "s3cret")
		fr.Method = "DELETE"
		res, err := cl.do(fr, nil)
		if err != nil || res.header.Get("X-Method") != "DELETE" || !res.reuse {
			t.Fatalf("request %d on the same connection: %+v, %v", i, res, err)
		}
	}
	st := c.Stats()
	if st.Connections != 1 || st.Requests != 4 || st.CPings != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestAJPRequestBodies(t *testing.T) {
	c := startAJP(t, echo, nil)
	big := bytes.Repeat([]byte("0123456789abcdef"), 5000) // 80000 bytes: many packets
	for _, tc := range []struct {
		name    string
		body    []byte
		chunked bool
	}{{"small", []byte("hello"), false}, {"multi-packet", big, false}, {"chunked", big, true}, {"chunked empty", nil, true}} {
		t.Run(tc.name, func(t *testing.T) {
			cl := dialAJP(t, c)
			fr := getReq("/upload", "s3cret")
			fr.Method = "POST"
			if tc.chunked {
				fr.Headers = append(fr.Headers, ajp.Header{Name: "Transfer-Encoding", Value: "chunked"})
			} else {
				fr.Headers = append(fr.Headers, ajp.Header{Name: "content-length", Value: fmt.Sprint(len(tc.body))})
			}
			res, err := cl.do(fr, tc.body)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(res.body, tc.body) || !res.reuse {
				t.Fatalf("echoed %d bytes of %d, reuse %v, status %d", len(res.body), len(tc.body), res.reuse, res.status)
			}
			if want := fmt.Sprint(len(tc.body)); !tc.chunked && res.header.Get("X-Length") != want {
				t.Fatalf("ContentLength %s, want %s", res.header.Get("X-Length"), want)
			}
			if tc.chunked && res.header.Get("X-Length") != "-1" {
				t.Fatalf("chunked ContentLength %s", res.header.Get("X-Length"))
			}
			// The connection is clean for the next request.
			if res, err := cl.do(getReq("/after", "s3cret"), nil); err != nil || res.status != 200 {
				t.Fatalf("next request: %+v, %v", res, err)
			}
		})
	}
}

// A handler that ignores the body: the first (unasked) body packet is
// swallowed so the next request on the connection parses.
func TestAJPUnreadBodySwallowed(t *testing.T) {
	c := startAJP(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }), nil)
	cl := dialAJP(t, c)
	fr := getReq("/ignore", "s3cret")
	fr.Method = "POST"
	body := bytes.Repeat([]byte("x"), 20000)
	fr.Headers = append(fr.Headers, ajp.Header{Name: "content-length", Value: fmt.Sprint(len(body))})
	res, err := cl.do(fr, body)
	if err != nil || string(res.body) != "ok" || !res.reuse || res.asked != 0 {
		t.Fatalf("%+v, %v", res, err)
	}
	if res, err := cl.do(getReq("/next", "s3cret"), nil); err != nil || string(res.body) != "ok" {
		t.Fatalf("next: %+v, %v", res, err)
	}
}

func TestAJPLargeResponse(t *testing.T) {
	data := bytes.Repeat([]byte("abcdefgh"), 3<<17) // 3 MiB
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Write(data[:100])
		w.Write(data[100:])
	})
	for _, size := range []int{ajp.DefaultPacketSize, ajp.MaxPacketSize} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			c := startAJP(t, h, func(cfg *AJPConfig) { cfg.PacketSize = size })
			cl := dialAJP(t, c)
			res, err := cl.do(getReq("/big", "s3cret"), nil)
			if err != nil || !bytes.Equal(res.body, data) {
				t.Fatalf("got %d bytes of %d: %v", len(res.body), len(data), err)
			}
			if res.maxChunk != size-ajp.SendBodyChunkOverhead {
				t.Fatalf("largest chunk %d, want %d", res.maxChunk, size-ajp.SendBodyChunkOverhead)
			}
			if res.header.Get("Content-Length") != "" {
				t.Fatalf("streamed response got a Content-Length %q", res.header.Get("Content-Length"))
			}
		})
	}
}

func TestAJPSecret(t *testing.T) {
	c := startAJP(t, echo, nil)
	for _, tc := range []struct {
		name, secret string
		status       int
	}{{"right", "s3cret", 200}, {"missing", "", 403}, {"wrong", "guess", 403}, {"prefix", "s3cre", 403}} {
		t.Run(tc.name, func(t *testing.T) {
			cl := dialAJP(t, c)
			res, err := cl.do(getReq("/", tc.secret), nil)
			if err != nil || res.status != tc.status {
				t.Fatalf("status %d, want %d (%v)", res.status, tc.status, err)
			}
			if tc.status == 403 && (res.reuse || !cl.closed()) {
				t.Fatal("a refused request's connection stays open")
			}
		})
	}
	if st := c.Stats(); st.SecretRefused != 3 {
		t.Fatalf("SecretRefused = %d, want 3", st.SecretRefused)
	}
	// secretRequired="false" with no secret accepts everything.
	open := startAJP(t, echo, func(cfg *AJPConfig) { cfg.Secret, cfg.SecretRequired = "", false })
	if res, err := dialAJP(t, open).do(getReq("/", "anything"), nil); err != nil || res.status != 200 {
		t.Fatalf("open connector: %+v, %v", res, err)
	}
}

func TestAJPConfigValidate(t *testing.T) {
	cfg := DefaultAJPConfig()
	cfg.Handler = echo
	if _, err := NewAJPConnector(cfg); err == nil || !strings.Contains(err.Error(), "secretRequired") {
		t.Fatalf("no secret: %v", err)
	}
	cfg.Secret, cfg.PacketSize = "x", 70000
	if _, err := NewAJPConnector(cfg); err == nil || !strings.Contains(err.Error(), "packetSize") {
		t.Fatalf("packet size: %v", err)
	}
	cfg.PacketSize, cfg.AllowedRequestAttributes = 0, "("
	if _, err := NewAJPConnector(cfg); err == nil {
		t.Fatal("bad pattern accepted")
	}
	if d := DefaultAJPConfig(); d.Address != "127.0.0.1" || !d.SecretRequired {
		t.Fatalf("defaults not secure: %+v", d)
	}
}

func TestAJPRequestAttributes(t *testing.T) {
	c := startAJP(t, echo, func(cfg *AJPConfig) { cfg.AllowedRequestAttributes = "FOO_.*" })
	fr := getReq("/", "s3cret")
	fr.Attributes.Request = append(fr.Attributes.Request, ajp.Header{Name: "FOO_BAR", Value: "baz"}, ajp.Header{Name: "JK_LB_ACTIVATION", Value: "ACT"})
	res, err := dialAJP(t, c).do(fr, nil)
	if err != nil || res.status != 200 || res.header.Get("X-Attr") != "baz" {
		t.Fatalf("allowed attribute: %+v, %v", res, err)
	}
	fr.Attributes.Request = append(fr.Attributes.Request, ajp.Header{Name: "javax.servlet.include.request_uri", Value: "/WEB-INF/web.xml"})
	res, err = dialAJP(t, c).do(fr, nil)
	if err != nil || res.status != 403 {
		t.Fatalf("Ghostcat attribute: status %d, %v", res.status, err)
	}
	if st := c.Stats(); st.AttributeRefused != 1 {
		t.Fatalf("AttributeRefused = %d", st.AttributeRefused)
	}
}

func TestAJPSSL(t *testing.T) {
	c := startAJP(t, echo, nil)
	fr := getReq("/", "s3cret")
	fr.IsSSL, fr.ServerPort = true, 443
	fr.Attributes.SSLCipher = "TLS_AES_128_GCM_SHA256"
	fr.Attributes.Request = append(fr.Attributes.Request, ajp.Header{Name: ajp.AttrSSLProtocol, Value: "TLSv1.3"})
	res, err := dialAJP(t, c).do(fr, nil)
	if err != nil || res.header.Get("X-TLS") != "true" {
		t.Fatalf("%+v, %v", res, err)
	}
}

// Broken input closes the connection and is counted; the connector keeps
// serving.
func TestAJPProtocolErrors(t *testing.T) {
	c := startAJP(t, echo, nil)
	oversized := []byte{0x12, 0x34, 0x30, 0x00}
	for _, tc := range []struct {
		name  string
		in    []byte
		count bool
	}{
		{"http on the ajp port", []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), true},
		{"oversized", append(oversized, make([]byte, 100)...), true},
		{"truncated", []byte{0x12, 0x34, 0x00, 0x40, 2, 2}, true},
		{"malformed forward request", []byte{0x12, 0x34, 0x00, 0x02, 2, 99}, true},
		{"unexpected packet", []byte{0x12, 0x34, 0x00, 0x01, 3}, true},
		{"shutdown", []byte{0x12, 0x34, 0x00, 0x01, 7}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := c.Stats()
			cl := dialAJP(t, c)
			cl.nc.Write(tc.in)
			if tc.name == "truncated" {
				cl.nc.(*net.TCPConn).CloseWrite()
			}
			if !cl.closed() {
				t.Fatal("connection not closed")
			}
			after := c.Stats()
			if tc.count && after.ProtocolErrors != before.ProtocolErrors+1 {
				t.Fatalf("ProtocolErrors %d → %d", before.ProtocolErrors, after.ProtocolErrors)
			}
			if !tc.count && after.ShutdownRefused != before.ShutdownRefused+1 {
				t.Fatalf("ShutdownRefused %d → %d", before.ShutdownRefused, after.ShutdownRefused)
			}
		})
	}
	if res, err := dialAJP(t, c).do(getReq("/", "s3cret"), nil); err != nil || res.status != 200 {
		t.Fatalf("after the errors: %+v, %v", res, err)
	}
}

func TestAJPIdleTimeout(t *testing.T) {
	c := startAJP(t, echo, func(cfg *AJPConfig) { cfg.KeepAliveTimeout = 100 * time.Millisecond })
	cl := dialAJP(t, c)
	if res, err := cl.do(getReq("/", "s3cret"), nil); err != nil || !res.reuse {
		t.Fatalf("%+v, %v", res, err)
	}
	if !cl.closed() {
		t.Fatal("idle connection not closed")
	}
}

func TestAJPPanicAndFlush(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/panic" {
			panic("boom")
		}
		io.WriteString(w, "part1")
		w.(http.Flusher).Flush()
		io.WriteString(w, "part2")
	})
	c := startAJP(t, h, nil)
	cl := dialAJP(t, c)
	res, err := cl.do(getReq("/flush", "s3cret"), nil)
	if err != nil || string(res.body) != "part1part2" || !res.reuse {
		t.Fatalf("flush: %+v, %v", res, err)
	}
	res, err = cl.do(getReq("/panic", "s3cret"), nil)
	if err != nil || res.status != 500 || res.reuse {
		t.Fatalf("panic: %+v, %v", res, err)
	}
}

// MaxConnections: the connection past the cap waits in the backlog until
// one closes. Under testing/synctest on an in-memory listener, so "not
// served" is exact: synctest.Wait returns once every goroutine is blocked.
func TestAJPMaxConnections(t *testing.T) { synctest.Test(t, testAJPMaxConnections) }

func testAJPMaxConnections(t *testing.T) {
	ln := newPipeListener()
	cfg := DefaultAJPConfig()
	cfg.Secret, cfg.Handler, cfg.Logger, cfg.MaxConnections = "s3cret", echo, testLogger(t), 1
	c, err := NewAJPConnector(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c.ln = ln // what Listen would have bound
	must(t, c.Start(context.Background()))
	t.Cleanup(func() { c.Stop(context.Background()) })
	dial := func() *ajpClient {
		nc := ln.dial()
		t.Cleanup(func() { nc.Close() })
		return &ajpClient{t: t, nc: nc, buf: make([]byte, ajp.MaxPacketSize), size: c.cfg.PacketSize}
	}
	first := dial()
	if _, err := first.do(getReq("/", "s3cret"), nil); err != nil {
		t.Fatal(err)
	}
	second := dial() // in the listener's backlog, not accepted
	done := make(chan error, 1)
	go func() { // a pipe has no socket buffer: the CPing blocks until read
		pkt, err := ajp.Frame(ajp.ToContainer, ajp.AppendCPing(nil), second.size)
		if err == nil {
			_, err = second.nc.Write(pkt)
		}
		if err == nil {
			_, err = ajp.ReadFrame(second.nc, ajp.ToServer, make([]byte, 16))
		}
		done <- err
	}()
	synctest.Wait()
	select {
	case err := <-done:
		t.Fatalf("second connection served past MaxConnections: %v", err)
	default:
	}
	first.nc.Close()
	if err := <-done; err != nil {
		t.Fatalf("second connection after the first closed: %v", err)
	}
}

// pipeListener is a net.Listener of in-memory connections (net.Pipe) with
// a backlog, for tests under testing/synctest.
type pipeListener struct {
	backlog chan net.Conn
	done    chan struct{}
	once    sync.Once
}

func newPipeListener() *pipeListener {
	return &pipeListener{backlog: make(chan net.Conn, 16), done: make(chan struct{})}
}

// dial returns the client end of a new connection queued for Accept.
func (l *pipeListener) dial() net.Conn {
	cli, srv := net.Pipe()
	l.backlog <- srv
	return cli
}

func (l *pipeListener) Accept() (net.Conn, error) {
	select {
	case nc := <-l.backlog:
		return nc, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *pipeListener) Close() error   { l.once.Do(func() { close(l.done) }); return nil }
func (l *pipeListener) Addr() net.Addr { return pipeAddr{} }

type pipeAddr struct{}

func (pipeAddr) Network() string { return "pipe" }
func (pipeAddr) String() string  { return "pipe" }

func TestAJPStopDrains(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release
		io.WriteString(w, "done")
	})
	c := startAJP(t, h, nil)
	idle := dialAJP(t, c)
	idle.send(ajp.AppendCPing(nil))
	if _, err := ajp.ReadFrame(idle.nc, ajp.ToServer, idle.buf); err != nil {
		t.Fatal(err)
	}
	busy := dialAJP(t, c)
	got := make(chan *ajpResult, 1)
	go func() {
		res, _ := busy.do(getReq("/slow", "s3cret"), nil)
		got <- res
	}()
	<-entered
	stopped := make(chan error, 1)
	go func() { stopped <- c.Stop(context.Background()) }()
	if !idle.closed() {
		t.Fatal("idle connection survives Stop")
	}
	close(release)
	res := <-got
	if res == nil || string(res.body) != "done" {
		t.Fatalf("in-flight request: %+v", res)
	}
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
}
