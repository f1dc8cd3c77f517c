package lifecycle

import "errors"

var (
	// ErrStarted is returned by Start on a Group, and Begin on a Runner,
	// already started.
	ErrStarted = errors.New("lifecycle: already started")
	// ErrClosed is returned by Begin on a Runner that was ended.
	ErrClosed = errors.New("lifecycle: closed")
)
