package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
	"time"
)

const (
	// NonceSize is the length of the random GCM nonce that starts a sealed message.
	NonceSize = 12
	tsSize    = 8
	tagSize   = 16
	// Overhead is len(sealed) - len(plaintext).
	Overhead = NonceSize + tsSize + tagSize
)

// Sealer seals and opens messages with one key. Safe for concurrent use.
type Sealer struct {
	aead   cipher.AEAD
	window time.Duration
	now    func() time.Time

	mu     sync.Mutex // guards replay
	replay replayCache
}

// ParseKey decodes a hex key (Tomcat's encryptionKey spelling; spaces and an
// optional 0x prefix are ignored) and checks its size.
func ParseKey(s string) ([]byte, error) {
	s = strings.TrimPrefix(strings.TrimPrefix(strings.TrimSpace(s), "0x"), "0X")
	s = strings.ReplaceAll(s, " ", "")
	k, err := hex.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrKey, err)
	}
	if !validKeyLen(len(k)) {
		return nil, fmt.Errorf("%w: got %d bytes", ErrKey, len(k))
	}
	return k, nil
}

func validKeyLen(n int) bool { return n == 16 || n == 24 || n == 32 }

// New returns a Sealer for an AES-128/192/256 key with DefaultConfig.
func New(key []byte) (*Sealer, error) { return NewConfig(key, DefaultConfig()) }

// NewConfig returns a Sealer for key tuned by c (zero fields take defaults).
func NewConfig(key []byte, c Config) (*Sealer, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if !validKeyLen(len(key)) {
		return nil, fmt.Errorf("%w: got %d bytes", ErrKey, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrKey, err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrKey, err)
	}
	c = c.withDefaults()
	return &Sealer{aead: aead, window: c.Window, now: c.Now, replay: newReplayCache(c.ReplayEntries)}, nil
}

// Seal appends nonce ‖ ciphertext of (now ‖ plaintext) to dst and returns it.
func (s *Sealer) Seal(dst, plaintext []byte) []byte { return s.SealAD(dst, plaintext, nil) }

// Open verifies a message made by Seal and appends its plaintext to dst.
func (s *Sealer) Open(dst, sealed []byte) ([]byte, error) { return s.OpenAD(dst, sealed, nil) }

// SealAD is Seal with associated data ad, which OpenAD must be given too.
func (s *Sealer) SealAD(dst, plaintext, ad []byte) []byte {
	var nonce [NonceSize]byte
	_, _ = rand.Read(nonce[:]) // never fails (crypto/rand crashes the program instead)
	pt := make([]byte, tsSize+len(plaintext))
	binary.BigEndian.PutUint64(pt, uint64(s.now().UnixMilli()))
	copy(pt[tsSize:], plaintext)
	dst = append(dst, nonce[:]...)
	return s.aead.Seal(dst, nonce[:], pt, ad)
}

// OpenAD verifies sealed against ad, its timestamp against now ± Window and its
// nonce against the replay cache, and appends the plaintext to dst. Errors:
// ErrAuth, ErrStale, ErrReplay.
func (s *Sealer) OpenAD(dst, sealed, ad []byte) ([]byte, error) {
	if len(sealed) < Overhead {
		return nil, ErrAuth
	}
	var nonce [NonceSize]byte
	copy(nonce[:], sealed)
	pt, err := s.aead.Open(nil, nonce[:], sealed[NonceSize:], ad)
	if err != nil || len(pt) < tsSize {
		return nil, ErrAuth
	}
	ts := int64(binary.BigEndian.Uint64(pt))
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
	return append(dst, pt[tsSize:]...), nil
}
