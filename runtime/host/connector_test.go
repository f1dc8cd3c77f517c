package host

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/gomcat/gomcat/internal/testkit"
)

func TestConnectorPortInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	c, err := NewConnector(ConnectorConfig{Address: "127.0.0.1", Port: port, Handler: http.NotFoundHandler()})
	if err != nil {
		t.Fatal(err)
	}
	err = c.Start(context.Background())
	want := fmt.Sprintf("Connector port %d on 127.0.0.1: address already in use", port)
	if err == nil || err.Error() != want || !errors.Is(err, ErrPortInUse) {
		t.Fatalf("err = %v, want %q", err, want)
	}
	if err := c.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// TestConnectorGracefulDrain: Stop lets a slow in-flight request finish
// and refuses new connections meanwhile.
func TestConnectorGracefulDrain(t *testing.T) {
	entered := make(chan struct{})
	release := make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release
		fmt.Fprint(w, "done")
	})
	c, err := NewConnector(ConnectorConfig{Address: "127.0.0.1", Port: 0, Handler: h, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	must(t, c.Start(context.Background()))
	url := c.URL()
	got := make(chan string, 1)
	go func() {
		resp, err := http.Get(url + "/slow")
		if err != nil {
			got <- err.Error()
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		got <- string(b)
	}()
	<-entered
	stopped := make(chan error, 1)
	go func() { stopped <- c.Stop(context.Background()) }()
	// The listener closes at once: new connections are refused.
	testkit.WaitFor(t, "condition", func() bool {
		conn, err := net.Dial("tcp", c.Addr().String())
		if err == nil {
			conn.Close()
			return false
		}
		return true
	})
	select {
	case err := <-stopped:
		t.Fatalf("Stop returned before the request finished: %v", err)
	default:
	}
	close(release)
	if b := <-got; b != "done" {
		t.Fatalf("in-flight request got %q", b)
	}
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
	if err := c.Stop(context.Background()); err != nil {
		t.Fatal("second Stop:", err)
	}
}

// TestConnectorGraceExpires: a request that outlives the grace period has
// its connection closed and Stop returns.
func TestConnectorGraceExpires(t *testing.T) {
	entered := make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-r.Context().Done()
	})
	c, err := NewConnector(ConnectorConfig{Address: "127.0.0.1", Handler: h, ShutdownGrace: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	must(t, c.Start(context.Background()))
	errc := make(chan error, 1)
	go func() {
		resp, err := http.Get(c.URL())
		if err == nil {
			resp.Body.Close()
		}
		errc <- err
	}()
	<-entered
	_ = c.Stop(context.Background())
	if err := <-errc; err == nil {
		t.Fatal("request survived the closed connection")
	}
}

func TestConnectorMaxThreads(t *testing.T) {
	running := make(chan struct{}, 10)
	release := make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		running <- struct{}{}
		<-release
	})
	lim := limit(2, h)
	srvDone := make(chan struct{})
	for range 3 {
		go func() {
			lim.ServeHTTP(nil, (&http.Request{}).WithContext(context.Background()))
			srvDone <- struct{}{}
		}()
	}
	<-running
	<-running
	select {
	case <-running:
		t.Fatal("third request ran past maxThreads=2")
	default:
	}
	close(release)
	<-srvDone
	<-running // the third one gets a slot
	<-srvDone
	<-srvDone
}
