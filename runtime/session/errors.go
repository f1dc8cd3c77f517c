package session

import "errors"

// Sentinel errors. Functions wrap them with context (the attribute name, the
// id); test with errors.Is.
var (
	// ErrUnencodable: Set got a value CBOR cannot encode (chan, func,
	// complex, a cyclic or too deeply nested value), or SetRaw got bytes that
	// are not well-formed CBOR.
	ErrUnencodable = errors.New("session: value cannot be encoded")
	// ErrTooLarge: the attribute would push the session over its size limit.
	ErrTooLarge = errors.New("session: session too large")
	// ErrInvalid: the session was invalidated (or expired).
	ErrInvalid = errors.New("session: session invalidated")
	// ErrTooManySessions: the manager is at MaxActiveSessions. The host
	// answers such a request with 503 Service Unavailable.
	ErrTooManySessions = errors.New("session: too many active sessions")
	// ErrClosed: the manager was stopped.
	ErrClosed = errors.New("session: manager closed")
	// ErrDuplicateID: a session with that id already exists.
	ErrDuplicateID = errors.New("session: duplicate session id")
	// ErrNotFound: the session is not (or no longer) held by the manager.
	ErrNotFound = errors.New("session: session not found")
	// ErrBadID: an empty or malformed session id.
	ErrBadID = errors.New("session: bad session id")
	// ErrNoMiddleware: Ensure or Rebind on a request that did not pass
	// through Middleware.
	ErrNoMiddleware = errors.New("session: request has no session middleware")
)
