package mcast

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"syscall"
	"time"
)

// Probe is TcpFailureDetector's check: a TCP connect to a member's receiver
// port within timeout (Tomcat: connectTimeout 1000 ms), closed at once.
// nil means something accepts connections there. Blocks; safe for
// concurrent use.
func Probe(ctx context.Context, host string, port int, timeout time.Duration) error {
	d := net.Dialer{Timeout: timeout}
	addr := net.JoinHostPort(host, strconv.Itoa(port))
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("mcast: probe %s: %w", addr, err)
	}
	_ = c.Close()
	return nil
}

// refused reports a probe answered by "connection refused": the host is up
// and nothing listens, so the member is gone for sure.
func refused(err error) bool { return errors.Is(err, syscall.ECONNREFUSED) }
