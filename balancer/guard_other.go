//go:build !(linux || darwin || freebsd)

package balancer

import "net"

// pending cannot look into the socket here; the framer still refuses bytes
// outside a response once the reader meets them.
func pending(net.Conn) pendingState { return pendingNone }
