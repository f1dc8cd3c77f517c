//go:build linux || darwin || freebsd

package balancer

import (
	"errors"
	"net"
	"syscall"
)

// pending reports whether bytes, or the peer's FIN, wait unread in nc's
// socket, without reading them and without taking the read lock that a
// blocked Read holds.
func pending(nc net.Conn) pendingState {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return pendingNone
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return pendingNone
	}
	st := pendingNone
	_ = rc.Control(func(fd uintptr) {
		var b [1]byte
		n, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		switch {
		case n > 0:
			st = pendingData
		case err == nil, err != nil && !errors.Is(err, syscall.EAGAIN) && !errors.Is(err, syscall.EINTR):
			st = pendingEOF
		}
	})
	return st
}
