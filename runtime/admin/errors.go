package admin

import "errors"

var (
	// ErrStarted is returned by a second Start.
	ErrStarted = errors.New("admin: already started")
	// ErrNoToken is returned by Validate for a listener off loopback
	// without a token.
	ErrNoToken = errors.New("admin: a listener off loopback needs a token")
	// ErrNoSession is returned by Expire for an id the context does not hold.
	ErrNoSession = errors.New("admin: no such session")
	// ErrNoContext is returned for a context path no host serves.
	ErrNoContext = errors.New("admin: no such context")
)
