package seal

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"sync"
	"time"
)

const (
	// NonceSize is the length of the random GCM nonce after the key id.
	NonceSize = 12
	tsSize    = 8
	tagSize   = 16
	// Overhead is len(sealed) - len(plaintext).
	Overhead = IDSize + NonceSize + tsSize + tagSize
)

// Sealer seals with a Ring's sealing key and opens with any of its keys,
// all derived for one Purpose, and holds one bounded replay cache for
// everything it opens: give one Sealer to every connection of a receiver so
// a message cannot be replayed on another connection within the window.
// Safe for concurrent use.
type Sealer struct {
	ring    *Ring
	purpose Purpose
	window  time.Duration
	now     func() time.Time
	mu      sync.Mutex // guards replay
	replay  replayCache
}

// New returns a Sealer for purpose p over ring r with DefaultConfig.
func New(r *Ring, p Purpose) (*Sealer, error) { return NewConfig(r, p, DefaultConfig()) }

// NewConfig returns a Sealer for purpose p over ring r tuned by c (zero
// fields take defaults).
func NewConfig(r *Ring, p Purpose, c Config) (*Sealer, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if r == nil || r.cur.Load() == nil {
		return nil, fmt.Errorf("%w: no key ring", ErrKey)
	}
	if !p.valid() {
		return nil, fmt.Errorf("%w: %v", ErrConfig, p)
	}
	c = c.withDefaults()
	return &Sealer{ring: r, purpose: p, window: c.Window, now: c.Now, replay: newReplayCache(c.ReplayEntries)}, nil
}

// Ring returns the sealer's key ring.
func (s *Sealer) Ring() *Ring { return s.ring }

// SealAD appends key id ‖ nonce ‖ GCM(now ‖ plaintext) to dst, bound to the
// associated data ad (which OpenAD must be given too), and returns it.
func (s *Sealer) SealAD(dst, plaintext, ad []byte) []byte {
	d := s.ring.cur.Load().send
	var nonce [NonceSize]byte
	_, _ = rand.Read(nonce[:]) // never fails (crypto/rand crashes the program instead)
	dst = append(dst, d.id[:]...)
	dst = append(dst, nonce[:]...)
	// GCM seals in place: put the timestamp and plaintext where the
	// ciphertext goes, so nothing else is allocated.
	off := len(dst)
	dst = binary.BigEndian.AppendUint64(dst, uint64(s.now().UnixMilli()))
	dst = append(dst, plaintext...)
	return d.aead[s.purpose].Seal(dst[:off], nonce[:], dst[off:], ad)
}

// OpenAD verifies sealed against ad, its key id against the ring, its
// timestamp against now ± Window and its nonce against the replay cache,
// and appends the plaintext to dst. Errors: ErrAuth (also an unknown key
// id: ErrUnknownKey wraps it), ErrStale, ErrReplay.
func (s *Sealer) OpenAD(dst, sealed, ad []byte) ([]byte, error) {
	if len(sealed) < Overhead {
		return nil, ErrAuth
	}
	d := s.ring.cur.Load().byID[KeyID(sealed[:IDSize])]
	if d == nil {
		return nil, ErrUnknownKey
	}
	var nonce [NonceSize]byte
	copy(nonce[:], sealed[IDSize:])
	start := len(dst)
	out, err := d.aead[s.purpose].Open(dst, nonce[:], sealed[IDSize+NonceSize:], ad)
	if err != nil || len(out)-start < tsSize {
		return nil, ErrAuth
	}
	ts := int64(binary.BigEndian.Uint64(out[start:]))
	now := s.now().UnixMilli()
	w := s.window.Milliseconds()
	if ts < now-w || ts > now+w {
		return nil, ErrStale
	}
	s.mu.Lock()
	err = s.replay.check(nonce, ts, now-w)
	s.mu.Unlock()
	if err != nil {
		return nil, err
	}
	n := copy(out[start:], out[start+tsSize:])
	return out[:start+n], nil
}
