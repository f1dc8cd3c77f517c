package node

import "errors"

var (
	// ErrNoEngine: the configuration has no Service with an Engine.
	ErrNoEngine = errors.New("node: the configuration has no <Service> with an <Engine>")
	// ErrHomeInUse: Start on a home whose pid file names a live process
	// (see HomeInUseError).
	ErrHomeInUse = errors.New("node: home already running")
	// ErrStopped: Start after Stop.
	ErrStopped = errors.New("node: stopped")
	// ErrNoCluster: the configuration has no <Cluster>.
	ErrNoCluster = errors.New("node: the configuration has no <Cluster>")
	// ErrStaticMembership: the cluster uses a static member list, not multicast.
	ErrStaticMembership = errors.New("node: the cluster uses a static membership (StaticMembershipService), not multicast heartbeats")
)
