package balancer

import "errors"

var (
	// ErrInvalidConfig wraps every problem reported by Config.Validate and GenOptions checks.
	ErrInvalidConfig = errors.New("balancer: invalid config")
	// ErrNoLiveNode means no node could take the request (answered 503).
	ErrNoLiveNode = errors.New("balancer: no live node")
	// ErrNodeBusy means the chosen node had no free connection slot within
	// Config.QueueTimeout (answered 503, counted in NodeStatus.Busy).
	ErrNodeBusy = errors.New("balancer: node busy")
	// ErrStarted is returned by a second Start.
	ErrStarted = errors.New("balancer: already started")
	// ErrUnknownKind is returned by Generate for a config kind it does not know.
	ErrUnknownKind = errors.New("balancer: unknown config kind")
	// errBodyTaken is returned to a failed attempt's late body reads after a retry took the body over.
	errBodyTaken = errors.New("balancer: request body moved to a retry")
)
