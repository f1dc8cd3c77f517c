//go:build linux || darwin || freebsd

package balancer

import (
	"errors"
	"net"
	"syscall"
)

// peeker looks into a connection's socket without reading from it. It is
// built once per connection, so a look costs no allocation.
type peeker struct {
	rc syscall.RawConn
	st pendingState
	fn func(fd uintptr)
}

func newPeeker(nc net.Conn) *peeker {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	p := &peeker{rc: rc}
	p.fn = func(fd uintptr) {
		var b [1]byte
		n, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		switch {
		case n > 0:
			p.st = pendingData
		case err == nil, err != nil && !errors.Is(err, syscall.EAGAIN) && !errors.Is(err, syscall.EINTR):
			p.st = pendingEOF
		default:
			p.st = pendingNone
		}
	}
	return p
}

// pending reports whether bytes, or the peer's FIN, wait unread in the
// socket, without reading them and without taking the read lock that a
// blocked Read holds. Callers serialise calls (guardConn.mu).
func (p *peeker) pending() pendingState {
	if p == nil {
		return pendingNone
	}
	p.st = pendingNone
	if p.rc.Control(p.fn) != nil {
		return pendingNone
	}
	return p.st
}
