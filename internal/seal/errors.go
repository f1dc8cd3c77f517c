package seal

import (
	"errors"
	"fmt"
)

var (
	// ErrKey reports a key that is not 16, 24 or 32 bytes (or not hex, for ParseKey).
	ErrKey = errors.New("seal: key must be 16, 24 or 32 bytes")
	// ErrKeyFile reports a key file that cannot be used.
	ErrKeyFile = errors.New("seal: key file")
	// ErrAuth reports a message that is too short, was sealed with another key
	// or associated data, or was altered.
	ErrAuth = errors.New("seal: message authentication failed")
	// ErrUnknownKey reports a message sealed with a key id the ring does not
	// hold (another cluster, or a key rotated out). It wraps ErrAuth.
	ErrUnknownKey = fmt.Errorf("%w: unknown key id", ErrAuth)
	// ErrStale reports a timestamp outside now ± Window.
	ErrStale = errors.New("seal: timestamp outside the replay window")
	// ErrReplay reports a nonce already seen, or a timestamp not newer than
	// the newest one evicted from the replay cache.
	ErrReplay = errors.New("seal: replayed message")
	// ErrConfig reports an invalid Config.
	ErrConfig = errors.New("seal: invalid config")
)
