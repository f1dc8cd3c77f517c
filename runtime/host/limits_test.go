package host

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

func startLimited(t *testing.T, cfg ConnectorConfig) *Connector {
	t.Helper()
	cfg.Address, cfg.Logger = "127.0.0.1", testLogger(t)
	c, err := NewConnector(cfg)
	if err != nil {
		t.Fatal(err)
	}
	must(t, c.Start(context.Background()))
	t.Cleanup(func() { _ = c.Stop(context.Background()) })
	return c
}

// Slow request bodies wait outside the maxThreads slots: with every slot's
// worth of clients trickling bodies, a GET is still served; a body that
// stops arriving is answered 408 and counted.
func TestSlowBodiesHoldNoThreads(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		fmt.Fprintf(w, "%s %d", r.Method, len(b))
	})
	c := startLimited(t, ConnectorConfig{Handler: h, MaxThreads: 2, UploadTimeout: 300 * time.Millisecond})
	addr := c.Addr().String()
	var slow []net.Conn
	for range 6 {
		nc, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { nc.Close() })
		_, _ = io.WriteString(nc, "POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nab")
		slow = append(slow, nc)
	}
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get(c.URL() + "/")
	if err != nil {
		t.Fatalf("GET while bodies trickle: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "GET 0" {
		t.Fatalf("GET: %q", body)
	}
	for i, nc := range slow {
		_ = nc.SetReadDeadline(time.Now().Add(5 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(nc), nil)
		if err != nil {
			t.Fatalf("slow %d: %v", i, err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestTimeout {
			t.Fatalf("slow %d: status %d, want 408", i, resp.StatusCode)
		}
	}
	if s := c.Stats(); s.SlowBodies != 6 {
		t.Fatalf("slow bodies = %d, want 6", s.SlowBodies)
	}
	// a body that arrives in time is served
	resp, err = client.Post(c.URL()+"/", "text/plain", strings.NewReader("hello"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "POST 5" {
		t.Fatalf("POST: %q", body)
	}
}

func TestMaxHeaderCount(t *testing.T) {
	c := startLimited(t, ConnectorConfig{Handler: http.NotFoundHandler(), MaxHeaderCount: 5})
	req, _ := http.NewRequest("GET", c.URL()+"/", nil)
	for i := range 6 {
		req.Header.Set(fmt.Sprintf("X-H%d", i), "v")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || c.Stats().TooManyHeads != 1 {
		t.Fatalf("status %d, counted %d", resp.StatusCode, c.Stats().TooManyHeads)
	}
}

// maxConnections: the connection over the cap waits in the backlog and is
// served once the other closes.
func TestMaxConnections(t *testing.T) {
	c := startLimited(t, ConnectorConfig{Handler: http.NotFoundHandler(), MaxConnections: 1})
	first, err := net.Dial("tcp", c.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.WriteString(first, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	br := bufio.NewReader(first)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	second, err := net.Dial("tcp", c.Addr().String()) // in the backlog
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	_, _ = io.WriteString(second, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	got := make(chan error, 1)
	go func() {
		_ = second.SetReadDeadline(time.Now().Add(10 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(second), nil)
		if err == nil {
			resp.Body.Close()
		}
		got <- err
	}()
	first.Close() // (that it waits before is netutil.LimitListener's, not timed here)
	if err := <-got; err != nil {
		t.Fatalf("second connection after the first closed: %v", err)
	}
}
