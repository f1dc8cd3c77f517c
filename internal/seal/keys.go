package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"sync/atomic"
)

// Purpose names what a derived key seals. Wire values: append only.
type Purpose uint8

const (
	PurposeHeartbeat Purpose = 1 // multicast heartbeats (mcast)
	PurposeTransport Purpose = 2 // transport frames, acks and hellos
	PurposeFarm      Purpose = 3 // transport frames of the farm channel
	nPurposes                = 4
)

// String is the purpose's HKDF info label.
func (p Purpose) String() string {
	switch p {
	case PurposeHeartbeat:
		return "heartbeat"
	case PurposeTransport:
		return "transport"
	case PurposeFarm:
		return "farm"
	}
	return fmt.Sprintf("purpose(%d)", uint8(p))
}

func (p Purpose) valid() bool { return p >= PurposeHeartbeat && p < nPurposes }

// IDSize is the length of a key id on the wire.
const IDSize = 4

// KeyID names a cluster key on the wire without revealing it: the first
// IDSize bytes of HKDF-SHA256(key, info "gomcat/v2/key-id").
type KeyID [IDSize]byte

func (id KeyID) String() string { return hex.EncodeToString(id[:]) }

// hkdfSalt is fixed: the cluster keys are random, the salt only separates
// Gomcat's derivations from anyone else's use of the same bytes.
var hkdfSalt = []byte("gomcat cluster key")

// ID returns the key id of a cluster key.
func ID(key []byte) KeyID {
	b, err := hkdf.Key(sha256.New, key, hkdfSalt, "gomcat/v2/key-id", IDSize)
	if err != nil {
		panic(err) // only for lengths HKDF cannot produce; IDSize is tiny
	}
	return KeyID(b)
}

// Derive returns the 32-byte AES-256 key for purpose p:
// HKDF-SHA256(key, salt "gomcat cluster key", info "gomcat/v2/<purpose>").
// Keys of different purposes are independent: one cannot open what the
// other sealed.
func Derive(key []byte, p Purpose) []byte {
	b, err := hkdf.Key(sha256.New, key, hkdfSalt, "gomcat/v2/"+p.String(), 32)
	if err != nil {
		panic(err)
	}
	return b
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

// derived is one cluster key's AEADs, by purpose.
type derived struct {
	id   KeyID
	aead [nPurposes]cipher.AEAD
}

func derive(key []byte) (*derived, error) {
	if !validKeyLen(len(key)) {
		return nil, fmt.Errorf("%w: got %d bytes", ErrKey, len(key))
	}
	d := &derived{id: ID(key)}
	for p := PurposeHeartbeat; p < nPurposes; p++ {
		block, err := aes.NewCipher(Derive(key, p))
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrKey, err)
		}
		if d.aead[p], err = cipher.NewGCM(block); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrKey, err)
		}
	}
	return d, nil
}

// keySet is one immutable generation of a Ring.
type keySet struct {
	send *derived
	byID map[KeyID]*derived
	ids  []KeyID // send first
}

// Ring is the set of cluster keys a node holds: the first key seals, every
// key opens (a rotation window). Set replaces the set atomically, so a key
// file can be reloaded while messages flow. Safe for concurrent use.
type Ring struct {
	cur atomic.Pointer[keySet]
}

// NewRing returns a Ring of keys (at least one; the first seals).
func NewRing(keys ...[]byte) (*Ring, error) {
	r := &Ring{}
	if err := r.Set(keys...); err != nil {
		return nil, err
	}
	return r, nil
}

// Set replaces the keys: keys[0] seals from now on, all of them open.
// Messages sealed with a key no longer in the set stop opening at once.
// On error the ring keeps its previous keys.
func (r *Ring) Set(keys ...[]byte) error {
	if len(keys) == 0 {
		return fmt.Errorf("%w: no key", ErrKey)
	}
	ks := &keySet{byID: make(map[KeyID]*derived, len(keys))}
	for i, k := range keys {
		d, err := derive(k)
		if err != nil {
			return fmt.Errorf("key %d: %w", i+1, err)
		}
		if _, dup := ks.byID[d.id]; dup {
			return fmt.Errorf("%w: key %d (id %s) given twice", ErrKey, i+1, d.id)
		}
		ks.byID[d.id] = d
		ks.ids = append(ks.ids, d.id)
		if i == 0 {
			ks.send = d
		}
	}
	r.cur.Store(ks)
	return nil
}

// IDs returns the ids of the keys, the sealing key first.
func (r *Ring) IDs() []KeyID { return append([]KeyID(nil), r.cur.Load().ids...) }

// SendID returns the id of the sealing key.
func (r *Ring) SendID() KeyID { return r.cur.Load().send.id }
