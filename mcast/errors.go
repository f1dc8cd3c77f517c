package mcast

import "errors"

var (
	// ErrConfig wraps every Config/StaticConfig validation problem.
	ErrConfig = errors.New("mcast: invalid config")
	// ErrStarted is returned by a second Start.
	ErrStarted = errors.New("mcast: already started")
	// ErrClosed is returned by Start after Stop.
	ErrClosed = errors.New("mcast: closed")
	// ErrNoInterface reports that no interface owns the bind address.
	ErrNoInterface = errors.New("mcast: no interface owns the bind address")
	// ErrNoMulticast reports an interface without the MULTICAST flag.
	ErrNoMulticast = errors.New("mcast: interface does not support multicast")

	// ErrTruncated reports a heartbeat shorter than its length fields claim.
	ErrTruncated = errors.New("mcast: truncated heartbeat")
	// ErrMalformed reports a heartbeat whose markers or lengths are wrong.
	ErrMalformed = errors.New("mcast: malformed heartbeat")
	// ErrForeign reports a heartbeat payload that is not Gomcat's (e.g. a Tomcat node).
	ErrForeign = errors.New("mcast: not a gomcat payload")
	// ErrPayload reports a Gomcat payload that does not decode or validate.
	ErrPayload = errors.New("mcast: bad gomcat payload")
	// ErrSealed reports a datagram that is sealed when no key is configured, or
	// not sealed (or sealed with another key) when one is.
	ErrSealed = errors.New("mcast: datagram rejected by sealing")
)
