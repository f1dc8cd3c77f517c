package balancer

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// A keep-alive connection the node closed while it sat idle is not a node
// failure: the GET is sent again on a new connection.
func TestUpstreamStaleConnRetried(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close() // after one answer, without saying Connection: close
				if _, err := http.ReadRequest(bufio.NewReader(c)); err == nil {
					_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
				}
			}()
		}
	}()
	b := startBalancer(t, testConfig(t, Backend{Name: "a", URL: "http://" + ln.Addr().String()}))
	waitState(t, b, "a", StateLive)
	for i := range 5 {
		resp, err := http.Get(b.testURL() + "/x")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(body) != "ok" {
			t.Fatalf("request %d: %d %q", i, resp.StatusCode, body)
		}
	}
	if f := b.Nodes()[0].Failures; f != 0 {
		t.Fatalf("failures = %d, want 0", f)
	}
}

// The connection cap is shared by the direct GET path and the Transport
// (bodies): with a cap of 1, alternating GETs and POSTs must not wait for
// each other's idle connection.
func TestUpstreamSharedCap(t *testing.T) {
	a := httptest.NewServer(named("a", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		_, _ = io.WriteString(w, r.Method+string(b))
	}))
	t.Cleanup(a.Close)
	c := testConfig(t, Backend{Name: "a", URL: a.URL})
	c.MaxConnsPerNode = 1
	b := startBalancer(t, c)
	waitState(t, b, "a", StateLive)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for i := range 6 {
		method, body, want := "GET", io.Reader(nil), "GET"
		if i%2 == 1 {
			method, body, want = "POST", strings.NewReader("x"), "POSTx"
		}
		req, _ := http.NewRequestWithContext(ctx, method, b.testURL()+"/", body)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(got) != want {
			t.Fatalf("request %d: %q, want %q", i, got, want)
		}
	}
}

func TestForwardedElement(t *testing.T) {
	for _, c := range []struct{ remote, host, proto, want string }{
		{"127.0.0.1:5000", "shop.example", "http", "for=127.0.0.1;host=shop.example;proto=http"},
		{"[::1]:5000", "shop.example:8443", "https", `for="[::1]";host="shop.example:8443";proto=https`},
		{"unix", "", "http", "for=unix;proto=http"},
		{"1.2.3.4:1", `a"b\c`, "http", `for=1.2.3.4;host="a\"b\\c";proto=http`},
	} {
		if got := forwardedElement(c.remote, c.host, c.proto); got != c.want {
			t.Errorf("forwardedElement(%q, %q) = %q, want %q", c.remote, c.host, got, c.want)
		}
	}
}
