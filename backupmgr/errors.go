package backupmgr

import "errors"

var (
	// ErrMalformed wraps every decoding failure of a message.
	ErrMalformed = errors.New("backupmgr: malformed message")
	// ErrVersion is returned when a message has an unsupported wire version.
	ErrVersion = errors.New("backupmgr: unsupported message version")
	// ErrDuplicateContext is returned by Router.Add for a name already registered.
	ErrDuplicateContext = errors.New("backupmgr: context manager already registered")
	// ErrNoCluster is returned by New when the cluster is nil.
	ErrNoCluster = errors.New("backupmgr: no cluster")
	// ErrStart is returned by Start with TerminateOnStartFailure when a
	// member did not send its map in time.
	ErrStart = errors.New("backupmgr: map state not received")
)
