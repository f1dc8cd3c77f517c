package balancer

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
)

// frameAll feeds resp to a framer for one request (method) in pieces of
// size step (0: at once) and returns the bytes consumed, whether the
// framer is idle again, and the error.
func frameAll(method string, resp []byte, step int) (int, frameState, error) {
	f := newFramer(1 << 10)
	if err := f.request([]byte(method + " / HTTP/1.1\r\n")); err != nil {
		return 0, f.st, err
	}
	if step <= 0 {
		step = len(resp) + 1
	}
	n := 0
	for n < len(resp) {
		end := min(n+step, len(resp))
		k, err := f.feed(resp[n:end])
		n += k
		if err != nil {
			return n, f.st, err
		}
		if n < end {
			break // the response ended inside this piece
		}
	}
	return n, f.st, nil
}

func TestFramer(t *testing.T) {
	for _, c := range []struct {
		name, method, in string
		n                int // bytes of the response
		st               frameState
		bad              bool
	}{
		{name: "content-length", in: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", n: 40, st: stIdle},
		{name: "bytes after the response", in: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\nSet-Cookie: x\r\n\r\n", n: 40, st: stIdle},
		{name: "chunked", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2;x=y\r\nok\r\n0\r\n\r\nEXTRA", n: 63, st: stIdle},
		{name: "chunked trailer", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n1\r\na\r\n0\r\nX-T: 1\r\n\r\n", n: 66, st: stIdle},
		{name: "bare LF", in: "HTTP/1.1 204 No Content\nX: y\n\nEXTRA", n: 30, st: stIdle},
		{name: "HEAD has no body", method: "HEAD", in: "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n", n: 38, st: stIdle},
		{name: "304", in: "HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n", n: 48, st: stIdle},
		{name: "1xx then final", in: "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", n: 63, st: stIdle},
		{name: "until close", in: "HTTP/1.0 200 OK\r\n\r\nall of it", n: 28, st: stUntilClose},
		{name: "upgrade", in: "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\nframes", n: 62, st: stTunnel},
		{name: "same length twice", in: "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx", n: 58, st: stIdle},
		{name: "CL and TE", in: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", bad: true},
		{name: "TE and CL", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n", bad: true},
		{name: "two lengths", in: "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", bad: true},
		{name: "signed length", in: "HTTP/1.1 200 OK\r\nContent-Length: +1\r\n\r\n", bad: true},
		{name: "gzip coding", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", bad: true},
		{name: "folded header", in: "HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n", bad: true},
		{name: "space before colon", in: "HTTP/1.1 200 OK\r\nContent-Length : 1\r\n\r\n", bad: true},
		{name: "not a status line", in: "HTTX/1.1 200 OK\r\n\r\n", bad: true},
		{name: "bad chunk size", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", bad: true},
		{name: "chunk without CRLF", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab\r\n", bad: true},
		{name: "head too big", in: "HTTP/1.1 200 OK\r\nX: " + strings.Repeat("a", 2000) + "\r\n\r\n", bad: true},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := c.method
			if m == "" {
				m = "GET"
			}
			for _, step := range []int{0, 1, 3, 7} {
				n, st, err := frameAll(m, []byte(c.in), step)
				if c.bad {
					if !errors.Is(err, errDesync) {
						t.Fatalf("step %d: err %v, want errDesync", step, err)
					}
					continue
				}
				if err != nil || st != c.st || (st == stIdle && n != c.n) {
					t.Fatalf("step %d: n=%d st=%d err=%v, want n=%d st=%d", step, n, st, err, c.n, c.st)
				}
			}
		})
	}
}

func TestFramerRequestLine(t *testing.T) {
	f := newFramer(1 << 10)
	for _, p := range []string{"", "GET", " / HTTP/1.1", "get / HTTP/1.1", "\x00ET /"} {
		if err := f.request([]byte(p)); err == nil {
			t.Errorf("request(%q) accepted", p)
		}
	}
}

// goConsumed parses in as http.Transport would (1xx responses skipped) and
// reports how many bytes the response took, or ok=false when net/http
// refuses it or reads its body until the connection closes.
func goConsumed(method string, in []byte) (n int, ok bool) {
	r := bytes.NewReader(in)
	br := bufio.NewReaderSize(r, 16)
	req := &http.Request{Method: method}
	for range 6 {
		resp, err := http.ReadResponse(br, req)
		if err != nil {
			return 0, false
		}
		if resp.StatusCode == 101 {
			return 0, false
		}
		if resp.StatusCode >= 100 && resp.StatusCode < 200 {
			continue
		}
		if _, err := io.Copy(io.Discard, resp.Body); err != nil {
			return 0, false
		}
		if resp.Close && resp.ContentLength < 0 && !slicesContains(resp.TransferEncoding, "chunked") {
			return 0, false // read until close
		}
		return len(in) - r.Len() - br.Buffered(), true
	}
	return 0, false
}

func slicesContains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// FuzzFramer: wherever net/http reads a complete response and the framer
// accepts it, both agree on where it ends; and the framer's answer does not
// depend on how the bytes are split.
func FuzzFramer(f *testing.F) {
	for _, s := range []string{
		"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
		"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
		"HTTP/1.0 200 OK\r\n\r\nbody",
	} {
		f.Add(false, s)
		f.Add(true, s)
	}
	f.Fuzz(func(t *testing.T, head bool, in string) {
		method := "GET"
		if head {
			method = "HEAD"
		}
		n, st, err := frameAll(method, []byte(in), 0)
		n3, st3, err3 := frameAll(method, []byte(in), 3)
		if (err == nil) != (err3 == nil) || (err == nil && (st != st3 || n != n3)) {
			t.Fatalf("split changes the answer: %d %d %v / %d %d %v", n, st, err, n3, st3, err3)
		}
		if err != nil || n > len(in) {
			return
		}
		gn, ok := goConsumed(method, []byte(in))
		if !ok {
			return
		}
		if st != stIdle || gn != n {
			// net/http read a complete response where the framer did not
			// end, or ended elsewhere: a desync the guard would miss.
			t.Fatalf("net/http ends the response at %d, the framer at %d (state %d)", gn, n, st)
		}
	})
}
