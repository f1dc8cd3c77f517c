package transport

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/gomcat/gomcat/internal/seal"
)

// ErrNoKey is returned by Greet without a cluster key.
var ErrNoKey = errors.New("transport: greet: no cluster key")

// Greet dials the receiver at addr and reads its greeting: nil means a
// Gomcat receiver of this cluster answers there (the greeting opens with
// the cluster key, key or keys). It sends no hello and closes the
// connection (the receiver counts it as a frame timeout or close).
// Discovered members (DNS, Kubernetes) are probed with it, so an address
// whose service is not this cluster's never becomes a member. It blocks
// up to timeout or until ctx ends.
func Greet(ctx context.Context, addr string, key []byte, keys *seal.Ring, timeout time.Duration) error {
	cfg := Config{Key: key, Keys: keys}
	s, err := sealersFor(&cfg)
	if err != nil {
		return err
	}
	if s == nil {
		return ErrNoKey
	}
	d := net.Dialer{Timeout: timeout}
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer nc.Close()
	if _, err := s.readGreeting(nc, timeout); err != nil {
		return fmt.Errorf("transport: greet %s: %w", addr, err)
	}
	return nil
}
