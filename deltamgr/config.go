package deltamgr

import (
	"errors"
	"fmt"
	"time"

	"github.com/rs/zerolog"

	"github.com/gomcat/gomcat/runtime/session"
)

// Config configures one Manager (one distributable context). Start from
// DefaultConfig: several defaults are true or non-zero. The field names
// follow Tomcat's DeltaManager attributes.
type Config struct {
	// Name is the manager name, "<host>#<context path>": "localhost#/shop",
	// ROOT is "localhost#". Messages are routed by it. Required.
	Name string
	// Route is the jvmRoute appended to new session ids ("" for none).
	Route string
	// SendOptions are Tomcat's channelSendOptions for session messages:
	// 8 async (returns once queued), 6 sync (RequestCompleted waits until every
	// member processed the delta), 2 ack. Default: 8.
	SendOptions int
	// StateTransferTimeout bounds how long Start waits for the session state
	// of a senior member. Negative waits forever; 0 asks but does not wait.
	// Default: 60s.
	StateTransferTimeout time.Duration
	// StateTransferSeniorTimeout bounds how long one senior may stay silent
	// (before its first reply, and between two chunks) before the next
	// senior is asked; StateTransferTimeout stays the bound of the whole
	// transfer. A member that sends heartbeats but never answers (a dead
	// process behind a live host, a forged member) costs this, not the
	// whole StateTransferTimeout. 0: no per-senior limit. Default: 10s.
	StateTransferSeniorTimeout time.Duration
	// SendAllSessionsSize is the number of sessions per ALL_SESSION_DATA chunk. Default: 1000.
	SendAllSessionsSize int
	// SendAllSessionsBytes bounds one chunk's encoded size; a chunk is cut
	// early when the next session would exceed it. Keep it well under the
	// transport's maximum frame size. Default: 4 MiB.
	SendAllSessionsBytes int
	// StateTimestampDrop drops messages queued during the state transfer
	// that are older than the responder's snapshot. Default: true.
	StateTimestampDrop bool
	// ExpireSessionsOnShutdown tells the cluster about the sessions expired by
	// Stop (they are always expired locally, listeners firing). Default: false.
	ExpireSessionsOnShutdown bool
	// NotifyListenersOnReplication fires attribute listeners when a peer's
	// delta is applied. Default: true.
	NotifyListenersOnReplication bool
	// NotifySessionListenersOnReplication fires created/destroyed listeners
	// for sessions created, expired or transferred by peers. Default: true.
	NotifySessionListenersOnReplication bool
	// MaxActiveSessions limits the sessions this manager holds, replicas
	// included; Create beyond it fails with session.ErrTooManySessions.
	// Negative: unlimited. Default: -1.
	MaxActiveSessions int
	// MaxSessionSize bounds one session's encoded attributes in bytes; 0 keeps
	// the session package's default.
	MaxSessionSize int
	// MaxInactive is the context's session timeout for new sessions; <= 0 never expires.
	// Default: 30m.
	MaxInactive time.Duration
	// SweepInterval is how often idle sessions are expired. Default: 10s.
	SweepInterval time.Duration
	// RenameGrace is how long an id whose route was rewritten by ChangeID
	// (JvmRouteBinderValve) still finds the session, so concurrent requests
	// carrying the old cookie are not lost. Fresh ids (RenewID) get no grace.
	// Default: 10s.
	RenameGrace time.Duration
	// QueueLimit bounds the messages queued while the state transfer runs;
	// the excess is dropped and counted. Default: 100000.
	QueueLimit int
	// ReplicatePrincipal sends a session's principal (user name and auth
	// type) to the members and accepts it from them. Off, a principal set
	// by a peer's DELTA or state transfer is dropped and counted, so a peer
	// cannot log a user in elsewhere. Default: false.
	ReplicatePrincipal bool
	// Listeners receive session and attribute events. Optional.
	Listeners *session.Listeners
	// Logger gets the manager's events. Default: zerolog.Nop().
	Logger zerolog.Logger
	// Now is the clock for session times and expiry. Default: time.Now.
	Now func() time.Time
}

// DefaultConfig returns Tomcat's DeltaManager defaults for the manager named name.
func DefaultConfig(name string) Config {
	return Config{
		Name:                                name,
		SendOptions:                         OptionsAsync,
		StateTransferTimeout:                60 * time.Second,
		StateTransferSeniorTimeout:          10 * time.Second,
		SendAllSessionsSize:                 1000,
		SendAllSessionsBytes:                4 << 20,
		StateTimestampDrop:                  true,
		NotifyListenersOnReplication:        true,
		NotifySessionListenersOnReplication: true,
		MaxActiveSessions:                   -1,
		MaxInactive:                         30 * time.Minute,
		SweepInterval:                       10 * time.Second,
		RenameGrace:                         10 * time.Second,
		QueueLimit:                          100000,
		Logger:                              zerolog.Nop(),
		Now:                                 time.Now,
	}
}

// maxSendAllSessionsSize keeps a chunk inside the decoder's array limit.
const maxSendAllSessionsSize = 1 << 20

// Validate reports every problem in c.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, a ...any) {
		errs = append(errs, fmt.Errorf("deltamgr: config: "+format, a...))
	}
	if c.Name == "" {
		bad("Name is required (e.g. \"localhost#/app\")")
	}
	if c.Route != "" && !session.ValidRoute(c.Route) {
		bad("Route %q: only letters, digits, '_' and '-'", c.Route)
	}
	if c.SendOptions <= 0 {
		bad("SendOptions %d: must be > 0 (8 async, 6 sync, 2 ack)", c.SendOptions)
	}
	if c.SendAllSessionsSize <= 0 || c.SendAllSessionsSize > maxSendAllSessionsSize {
		bad("SendAllSessionsSize %d: must be in 1..%d", c.SendAllSessionsSize, maxSendAllSessionsSize)
	}
	if c.SendAllSessionsBytes <= 0 {
		bad("SendAllSessionsBytes %d: must be > 0", c.SendAllSessionsBytes)
	}
	if c.StateTransferSeniorTimeout < 0 {
		bad("StateTransferSeniorTimeout %v: must be >= 0", c.StateTransferSeniorTimeout)
	}
	if c.SweepInterval <= 0 {
		bad("SweepInterval %v: must be > 0", c.SweepInterval)
	}
	if c.RenameGrace < 0 {
		bad("RenameGrace %v: must be >= 0", c.RenameGrace)
	}
	if c.QueueLimit <= 0 {
		bad("QueueLimit %d: must be > 0", c.QueueLimit)
	}
	if c.MaxSessionSize < 0 {
		bad("MaxSessionSize %d: must be >= 0", c.MaxSessionSize)
	}
	return errors.Join(errs...)
}
