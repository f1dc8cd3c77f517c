package admin

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
)

// Config configures a Server. Pass by value.
type Config struct {
	// Addr is the listen address, "HOST:PORT" (port 0: a free port).
	// Default: "127.0.0.1:9080".
	Addr string
	// Token, when set, is required on every request but /livez and
	// /readyz. Required when Addr is not a loopback address. Default: "".
	Token string
	// Source provides readiness, the status page and the sessions. Required.
	Source Source
	// Gatherer serves /metrics. Default: none (/metrics answers 404).
	Gatherer prometheus.Gatherer
	// Refresh is the status page's automatic reload interval; 0 turns it
	// off. Default: 5s.
	Refresh time.Duration
	// Now is the clock (ages, idle times, rates). Default: time.Now.
	Now func() time.Time
	// Logger. Default: zerolog.Nop().
	Logger zerolog.Logger
}

// DefaultConfig returns the defaults (Source still to be set).
func DefaultConfig() Config {
	return Config{Addr: "127.0.0.1:9080", Refresh: 5 * time.Second, Now: time.Now, Logger: zerolog.Nop()}
}

// Validate checks the config: an address, a Source, a token off loopback.
func (c Config) Validate() error {
	if c.Source == nil {
		return errors.New("admin: Config.Source is required")
	}
	host, _, err := net.SplitHostPort(c.Addr)
	if err != nil {
		return fmt.Errorf("admin: address %q: %w", c.Addr, err)
	}
	if c.Token == "" && !loopback(host) {
		return fmt.Errorf("%w (listening on %q)", ErrNoToken, c.Addr)
	}
	if c.Refresh < 0 {
		return fmt.Errorf("admin: Refresh %v is negative", c.Refresh)
	}
	return nil
}

func (c *Config) fill() {
	d := DefaultConfig()
	if c.Addr == "" {
		c.Addr = d.Addr
	}
	if c.Now == nil {
		c.Now = d.Now
	}
}

// loopback reports whether host only accepts local connections.
func loopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
