//go:build !(linux || darwin || freebsd)

package balancer

import "net"

// peeker cannot look into the socket here; the framer still refuses bytes
// outside a response once the reader meets them.
type peeker struct{}

func newPeeker(net.Conn) *peeker { return nil }

func (p *peeker) pending() pendingState { return pendingNone }
