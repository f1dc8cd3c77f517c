package session

import (
	"errors"
	"fmt"
	"time"

	"github.com/rs/zerolog"
)

// Config configures a LocalManager (Tomcat StandardManager). Zero durations
// take their defaults in NewLocal.
type Config struct {
	// Route is the jvmRoute appended to new ids; "" for none. Must match
	// [A-Za-z0-9_-]+ when set.
	Route string
	// MaxInactive is the idle timeout of new sessions; negative: never.
	// Default: 30 min (Tomcat conf/web.xml session-timeout).
	MaxInactive time.Duration
	// MaxActiveSessions caps registered sessions; Create fails with
	// ErrTooManySessions beyond it. <= 0: unlimited. Default: -1.
	MaxActiveSessions int
	// MaxSessionSize caps each session's attribute bytes (names + CBOR
	// values). <= 0: unlimited. Default: 0.
	MaxSessionSize int
	// SweepInterval is how often idle sessions are expired. Default: 10 s.
	SweepInterval time.Duration
	// ExpireOnStop expires every session (Destroyed fires) on Stop.
	// Default: false.
	ExpireOnStop bool
	// Listeners fire for every session of the manager.
	Listeners Listeners
	// Logger; default zerolog.Nop(). Session ids are logged hashed.
	Logger zerolog.Logger
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// Defaults.
const (
	DefaultMaxInactive   = 30 * time.Minute
	DefaultSweepInterval = 10 * time.Second
)

// DefaultConfig returns the defaults (no route).
func DefaultConfig() Config {
	return Config{
		MaxInactive:       DefaultMaxInactive,
		MaxActiveSessions: -1,
		SweepInterval:     DefaultSweepInterval,
		Logger:            zerolog.Nop(),
		Now:               time.Now,
	}
}

// Validate checks c; it returns every problem joined.
func (c Config) Validate() error {
	var errs []error
	if c.Route != "" && !ValidRoute(c.Route) {
		errs = append(errs, fmt.Errorf("session: route %q: only [A-Za-z0-9_-] allowed", c.Route))
	}
	if c.SweepInterval < 0 {
		errs = append(errs, fmt.Errorf("session: sweep interval %v is negative", c.SweepInterval))
	}
	return errors.Join(errs...)
}

func (c Config) withDefaults() Config {
	if c.MaxInactive == 0 {
		c.MaxInactive = DefaultMaxInactive
	}
	if c.SweepInterval == 0 {
		c.SweepInterval = DefaultSweepInterval
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}
