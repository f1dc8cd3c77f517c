package balancer

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestConfigValidate(t *testing.T) {
	good := DefaultConfig()
	good.Backends = []Backend{{Name: "node1", URL: "http://127.0.0.1:8091"}, {Name: "node2", URL: "127.0.0.1:8092"}}
	if err := good.Validate(); err != nil {
		t.Fatalf("default config with backends: %v", err)
	}
	for name, mutate := range map[string]func(*Config){
		"no backends":      func(c *Config) { c.Backends = nil },
		"bad name":         func(c *Config) { c.Backends[0].Name = "node 1" },
		"duplicate":        func(c *Config) { c.Backends[1].Name = "node1" },
		"https backend":    func(c *Config) { c.Backends[0].URL = "https://h:1" },
		"backend path":     func(c *Config) { c.Backends[0].URL = "http://h:1/app" },
		"bad listen":       func(c *Config) { c.Listen = "8080" },
		"health path":      func(c *Config) { c.Health.Path = "healthz" },
		"zero interval":    func(c *Config) { c.Health.Interval = 0 },
		"zero fall":        func(c *Config) { c.Health.Fall = 0 },
		"cookie name":      func(c *Config) { c.CookieName = "a b" },
		"path param":       func(c *Config) { c.PathParam = "" },
		"connect timeout":  func(c *Config) { c.ConnectTimeout = 0 },
		"negative timeout": func(c *Config) { c.ResponseHeaderTimeout = -time.Second },
		"negative cap":     func(c *Config) { c.MaxConnsPerNode = -1 },
	} {
		c := good
		c.Backends = append([]Backend(nil), good.Backends...)
		mutate(&c)
		if err := c.Validate(); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%s: err = %v", name, err)
		}
		if _, err := New(c); err == nil {
			t.Errorf("%s: New accepted it", name)
		}
	}
	// several problems are reported at once
	c := good
	c.Listen, c.ConnectTimeout = "x", 0
	if err := c.Validate(); err == nil || strings.Count(err.Error(), "invalid config") != 2 {
		t.Errorf("want two problems, got %v", err)
	}
}

func TestParseBackend(t *testing.T) {
	b, err := ParseBackend("node1=127.0.0.1:8091")
	if err != nil || b != (Backend{Name: "node1", URL: "http://127.0.0.1:8091"}) {
		t.Fatalf("got %+v %v", b, err)
	}
	for _, s := range []string{"node1", "=http://h:1", "n=http://h", "n m=h:1"} {
		if _, err := ParseBackend(s); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%q: %v", s, err)
		}
	}
}

func TestLifecycle(t *testing.T) {
	c := testConfig(t, Backend{Name: "a", URL: closedPort(t)})
	b, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Stop(context.Background()); err != nil {
		t.Fatalf("Stop before Start: %v", err)
	}
	b, _ = New(c)
	if err := b.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := b.Start(context.Background()); !errors.Is(err, ErrStarted) {
		t.Fatalf("second Start: %v", err)
	}
	if b.Ready() {
		t.Fatal("ready with no live node")
	}
	if err := b.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := b.Stop(context.Background()); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
	// a busy admin port fails Start and leaves nothing open
	busy := startBalancer(t, c)
	c.AdminListen = busy.AdminAddr().String()
	b, _ = New(c)
	if err := b.Start(context.Background()); err == nil {
		t.Fatal("Start on a busy admin port succeeded")
	}
}
