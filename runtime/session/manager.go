package session

import "context"

// Manager owns a web application's sessions (Tomcat Manager). LocalManager
// is the single-node one; deltamgr.Manager replicates to the cluster,
// backupmgr.Manager keeps a primary and backups per session. All
// methods are safe for concurrent use.
type Manager interface {
	// Start makes the manager ready and starts its background goroutines;
	// a replicated manager also runs state transfer and blocks until it is
	// done or timed out.
	Start(ctx context.Context) error
	// Stop stops the background goroutines and waits for them (or for ctx).
	// Idempotent.
	Stop(ctx context.Context) error
	// Create makes and registers a new session and fires Created. It fails
	// with ErrTooManySessions at MaxActiveSessions and ErrClosed after
	// Stop. A replicated manager may block to announce the session.
	Create(ctx context.Context) (*Session, error)
	// Find returns the live session with id, or nil when it is unknown,
	// invalid or idle past its timeout (which expires it). LocalManager's
	// and deltamgr's do not block. A manager holding a session on another
	// member (backupmgr) may: it fetches the value and takes the session
	// over, bounded by its own timeout (rpcTimeout), so Find may take one
	// round trip to the cluster.
	Find(id string) *Session
	// ChangeID renames s to newID atomically: afterwards Find(old) is nil
	// and Find(newID) is s. Fires IDChanged; replicated by deltamgr.
	// ErrDuplicateID, ErrNotFound, ErrBadID.
	ChangeID(s *Session, newID string) error
	// Expire invalidates s (Destroyed fires once) and unregisters it;
	// replicated by deltamgr. Idempotent.
	Expire(s *Session)
	// RequestCompleted runs at the end of every request that used s: a
	// replicated manager sends the pending changes (blocking until the
	// members acked in sync mode); LocalManager just drops them.
	RequestCompleted(ctx context.Context, s *Session) error
	// Count returns the number of registered sessions.
	Count() int
	// Route returns the jvmRoute appended to new ids ("" for none).
	Route() string
}

// Loader is a Manager whose sessions live in an external store (redismgr):
// looking one up may fail. The middleware calls Load instead of Find and
// answers 503 Service Unavailable when it fails, without running the
// handler; the host holds such a context's responses until
// RequestCompleted succeeded (a failed write is a 503 too).
type Loader interface {
	Manager
	// Load returns the live session with id, nil when there is none, or
	// an error when the store cannot answer (bounded in time by ctx and
	// the manager's own timeout).
	Load(ctx context.Context, id string) (*Session, error)
}
