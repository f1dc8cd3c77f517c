package deltamgr

import "errors"

var (
	// ErrDuplicateContext is returned by Router.Add for a context name already registered.
	ErrDuplicateContext = errors.New("deltamgr: context manager already registered")
	// ErrMalformed wraps every decoding failure of a message.
	ErrMalformed = errors.New("deltamgr: malformed message")
	// ErrVersion is returned when a message has an unsupported wire version.
	ErrVersion = errors.New("deltamgr: unsupported message version")
	// ErrIDInUse is returned by ChangeID when the new id already names a session.
	ErrIDInUse = errors.New("deltamgr: session id already in use")
	// ErrUnknownSession is returned by ChangeID for a session this manager does not hold.
	ErrUnknownSession = errors.New("deltamgr: unknown session")
	// ErrNoCluster is returned by New when the cluster is nil.
	ErrNoCluster = errors.New("deltamgr: no cluster")
)
