package node

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/gomcat/gomcat/conf"
	"github.com/gomcat/gomcat/internal/testkit"
	"github.com/gomcat/gomcat/runtime/host"
	_ "github.com/gomcat/gomcat/runtime/host/exampleapp"
)

const serverXML = `<?xml version="1.0"?>
<Server port="0" shutdown="STOP-NOW">
  <Service name="Catalina">
    <Connector port="%d" address="127.0.0.1" protocol="HTTP/1.1" connectionTimeout="20000"/>
    <Engine name="Catalina" defaultHost="localhost" jvmRoute="node1">
      <Host name="localhost" appBase="webapps" autoDeploy="false">
        <Context path="/" app="example" distributable="true"/>
      </Host>
    </Engine>
  </Service>
</Server>
`

func newNode(t *testing.T, port int) *Node {
	t.Helper()
	home := t.TempDir()
	s, _, err := conf.Parse("server.xml", fmt.Appendf(nil, serverXML, port))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	s.Home = home
	cfg := DefaultConfig()
	cfg.Server = s
	cfg.Logger = zerolog.New(zerolog.NewTestWriter(t))
	cfg.ShutdownReadTimeout = time.Second
	n, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.Stop(context.Background()) })
	return n
}

func send(t *testing.T, addr net.Addr, cmd string) {
	t.Helper()
	c, err := net.Dial("tcp", addr.String())
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(c, cmd)
	c.Close()
}

func TestNodeRunAndShutdownPort(t *testing.T) {
	n := newNode(t, 0)
	done := make(chan error, 1)
	go func() { done <- n.Run(context.Background()) }()
	var url string
	testkit.WaitFor(t, "condition", func() bool {
		u := n.URLs()
		if len(u) > 0 && n.ShutdownAddr() != nil {
			url = u[0]
		}
		return url != ""
	})
	resp, err := http.Get(url + "/set?k=a&v=1")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.HasPrefix(string(b), "ok ") || !strings.HasSuffix(strings.TrimSpace(string(b)), ".node1") {
		t.Fatalf("example app: %q", b)
	}
	// A wrong command is ignored; the node keeps serving.
	send(t, n.ShutdownAddr(), "SHUTDOWN\n")
	send(t, n.ShutdownAddr(), strings.Repeat("x", 5000))
	select {
	case <-n.Shutdown():
		t.Fatal("wrong command stopped the node")
	default:
	}
	if resp, err := http.Get(url + "/count"); err != nil {
		t.Fatal(err)
	} else {
		resp.Body.Close()
	}
	send(t, n.ShutdownAddr(), "STOP-NOW\n")
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := http.Get(url + "/count"); err == nil {
		t.Fatal("still serving after shutdown")
	}
	if err := n.Stop(context.Background()); err != nil {
		t.Fatal("second Stop:", err)
	}
}

func TestNodePortInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	n := newNode(t, port)
	err = n.Start(context.Background())
	want := fmt.Sprintf("Connector port %d on 127.0.0.1: address already in use", port)
	if err == nil || err.Error() != want || !errors.Is(err, host.ErrPortInUse) {
		t.Fatalf("err = %v, want %q", err, want)
	}
	// The connector binds before the hosts start: no context was deployed.
	if len(n.Hosts()[0].Contexts()) != 0 {
		t.Fatal("contexts still deployed after a failed start")
	}
}

func TestLoopbackOnly(t *testing.T) {
	for _, a := range []string{"0.0.0.0", "192.0.2.1", "example.com"} {
		if _, err := loopbackAddr(a); err == nil {
			t.Errorf("%s accepted", a)
		}
	}
	for _, a := range []string{"", "localhost", "127.0.0.1", "::1"} {
		if _, err := loopbackAddr(a); err != nil {
			t.Errorf("%s: %v", a, err)
		}
	}
}

func TestHomeDirsCreated(t *testing.T) {
	n := newNode(t, 0)
	if err := n.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"logs", "work", "temp"} {
		if _, err := os.Stat(filepath.Join(n.cfg.Home, d)); err != nil {
			t.Error(err)
		}
	}
}
