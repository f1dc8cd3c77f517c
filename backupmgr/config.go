package backupmgr

import (
	"errors"
	"fmt"
	"time"

	"github.com/rs/zerolog"

	"github.com/gomcat/gomcat/deltamgr"
	"github.com/gomcat/gomcat/runtime/session"
)

// Config configures one Manager (one distributable context). Start from
// DefaultConfig. Field names follow Tomcat's BackupManager attributes.
type Config struct {
	// Name is the manager name, "<host>#<context path>" (ROOT "localhost#").
	// Messages are routed by it. Required.
	Name string
	// Route is the jvmRoute appended to new session ids ("" for none).
	Route string
	// MapSendOptions are Tomcat's channelSendOptions for what goes to the
	// backups at the end of a request: 6 (ack after processing, Tomcat's
	// default: RequestCompleted returns once every backup holds the
	// change), 2 (ack on receipt), 8 (async). Proxy, access and remove
	// messages to the other members are always async. Default: 6.
	MapSendOptions int
	// RPCTimeout bounds one retrieval of a session from the member holding
	// it (a request whose session lives elsewhere) and the map exchange of
	// Start. Default: 15s.
	RPCTimeout time.Duration
	// AccessTimeout is Tomcat's map ping timeout. Gomcat's membership has
	// its own failure detector, so it bounds how long Start waits for the
	// other members' map once the first answer came. Default: 5s.
	AccessTimeout time.Duration
	// TerminateOnStartFailure makes Start fail when a member running the
	// context did not send its map in time; otherwise that is only logged.
	// Default: false.
	TerminateOnStartFailure bool
	// MaxActiveSessions limits the primary sessions of this manager
	// (backups and proxies do not count, as Tomcat); Create beyond it fails
	// with session.ErrTooManySessions. Negative: unlimited. Default: -1.
	MaxActiveSessions int
	// Backups is how many members hold a full copy of each session (Tomcat
	// has exactly 1). With Backups=2 a session survives two members dying
	// at once. Default: 1.
	Backups int
	// RebalanceRate bounds how many sessions per second a member moves to
	// a newly joined member's backup role so the load evens out; 0 turns
	// rebalancing off. Default: 200.
	RebalanceRate int
	// MaxSessionSize bounds one session's encoded attributes in bytes; 0
	// keeps the session package's default.
	MaxSessionSize int
	// MaxInactive is the context's session timeout; <= 0 never expires.
	// Default: 30m.
	MaxInactive time.Duration
	// SweepInterval is how often idle sessions are expired and the
	// rebalancing runs. Default: 10s.
	SweepInterval time.Duration
	// Listeners receive session and attribute events. Optional.
	Listeners *session.Listeners
	// Logger gets the manager's events. Default: zerolog.Nop().
	Logger zerolog.Logger
	// Now is the clock for session times and expiry. Default: time.Now.
	Now func() time.Time
}

// DefaultConfig returns Tomcat's BackupManager defaults for the manager named name.
func DefaultConfig(name string) Config {
	return Config{
		Name:              name,
		MapSendOptions:    deltamgr.OptionsSync,
		RPCTimeout:        15 * time.Second,
		AccessTimeout:     5 * time.Second,
		MaxActiveSessions: -1,
		Backups:           1,
		RebalanceRate:     200,
		MaxInactive:       30 * time.Minute,
		SweepInterval:     10 * time.Second,
		Logger:            zerolog.Nop(),
		Now:               time.Now,
	}
}

// MaxBackups bounds Config.Backups.
const MaxBackups = 8

// Validate reports every problem in c.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, a ...any) {
		errs = append(errs, fmt.Errorf("backupmgr: config: "+format, a...))
	}
	if c.Name == "" {
		bad("Name is required (e.g. \"localhost#/app\")")
	}
	if c.Route != "" && !session.ValidRoute(c.Route) {
		bad("Route %q: only letters, digits, '_' and '-'", c.Route)
	}
	if c.MapSendOptions <= 0 {
		bad("MapSendOptions %d: must be > 0 (6 sync, 2 ack, 8 async)", c.MapSendOptions)
	}
	if c.RPCTimeout <= 0 {
		bad("RPCTimeout %v: must be > 0", c.RPCTimeout)
	}
	if c.AccessTimeout <= 0 {
		bad("AccessTimeout %v: must be > 0", c.AccessTimeout)
	}
	if c.Backups < 1 || c.Backups > MaxBackups {
		bad("Backups %d: must be in 1..%d", c.Backups, MaxBackups)
	}
	if c.RebalanceRate < 0 {
		bad("RebalanceRate %d: must be >= 0", c.RebalanceRate)
	}
	if c.MaxSessionSize < 0 {
		bad("MaxSessionSize %d: must be >= 0", c.MaxSessionSize)
	}
	if c.SweepInterval <= 0 {
		bad("SweepInterval %v: must be > 0", c.SweepInterval)
	}
	return errors.Join(errs...)
}
