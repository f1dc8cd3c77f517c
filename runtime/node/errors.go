package node

import "errors"

var (
	// ErrNoEngine: the configuration has no Service with an Engine.
	ErrNoEngine = errors.New("node: the configuration has no <Service> with an <Engine>")
	// ErrStopped: Start after Stop.
	ErrStopped = errors.New("node: stopped")
)
