package mcast

import (
	"bytes"
	"fmt"

	"github.com/fxamacker/cbor/v2"
)

// payloadMagic starts every Gomcat heartbeat payload, followed by one format
// byte and a CBOR map. A payload without it is foreign (a Tomcat node).
var payloadMagic = []byte("GOMCAT")

const (
	// PayloadFormat is the format byte this version writes. Readers accept
	// any format ≥ 1: the CBOR map has integer keys and unknown keys are
	// ignored, so fields are only ever added.
	PayloadFormat = 1
	// ProtocolVersion is the cluster protocol spoken by this build
	// (transport envelope, messages); peers may refuse other versions.
	ProtocolVersion = 1
	maxPayload      = 4096
)

// Payload is Gomcat's part of a heartbeat. CBOR keys: append only.
type Payload struct {
	Protocol  uint64 `cbor:"1,keyasint"`           // ProtocolVersion of the sender
	Name      string `cbor:"2,keyasint"`           // jvmRoute
	HTTPURL   string `cbor:"3,keyasint,omitempty"` // connector address for balancers
	StartedAt int64  `cbor:"4,keyasint"`           // unix ms
	Flags     uint64 `cbor:"5,keyasint,omitempty"` // FlagSolicit, FlagAnswer; other bits 0
	// Members is, in an answer (FlagAnswer), how many Gomcat members the
	// sender knows besides itself, the solicitor included.
	Members uint64 `cbor:"6,keyasint,omitempty"`
}

// Payload flags. Unknown bits are ignored by readers.
const (
	// FlagSolicit asks every member that hears it to heartbeat at once
	// (a starting member's "who is there"); answers are rate-limited.
	FlagSolicit uint64 = 1 << iota
	// FlagAnswer marks a heartbeat sent in answer to a solicit; its
	// Members count tells the solicitor how many members to expect.
	FlagAnswer
)

var (
	encMode = func() cbor.EncMode {
		m, err := cbor.CoreDetEncOptions().EncMode()
		if err != nil {
			panic(err) // static options
		}
		return m
	}()
	decMode = func() cbor.DecMode {
		m, err := cbor.DecOptions{
			MaxNestedLevels:  4,
			MaxArrayElements: 16,
			MaxMapPairs:      32,
			DupMapKey:        cbor.DupMapKeyEnforcedAPF,
			IndefLength:      cbor.IndefLengthForbidden,
			TagsMd:           cbor.TagsForbidden,
		}.DecMode()
		if err != nil {
			panic(err) // static options
		}
		return m
	}()
)

// EncodePayload appends the magic, format byte and CBOR map to dst.
func EncodePayload(dst []byte, p Payload) ([]byte, error) {
	b, err := encMode.Marshal(p)
	if err != nil {
		return dst, fmt.Errorf("%w: %v", ErrPayload, err)
	}
	dst = append(dst, payloadMagic...)
	dst = append(dst, PayloadFormat)
	return append(dst, b...), nil
}

// DecodePayload parses a heartbeat payload. ErrForeign: no Gomcat magic;
// ErrPayload: magic present but the rest is unusable.
func DecodePayload(b []byte) (Payload, error) {
	var p Payload
	if !bytes.HasPrefix(b, payloadMagic) {
		return p, ErrForeign
	}
	b = b[len(payloadMagic):]
	if len(b) == 0 || b[0] < 1 {
		return p, fmt.Errorf("%w: format byte missing or 0", ErrPayload)
	}
	if len(b) > maxPayload {
		return p, fmt.Errorf("%w: %d bytes", ErrPayload, len(b))
	}
	if err := decMode.Unmarshal(b[1:], &p); err != nil {
		return Payload{}, fmt.Errorf("%w: %v", ErrPayload, err)
	}
	if err := validName(p.Name); err != nil {
		return Payload{}, fmt.Errorf("%w: %v", ErrPayload, err)
	}
	if err := validURL(p.HTTPURL); err != nil {
		return Payload{}, fmt.Errorf("%w: %v", ErrPayload, err)
	}
	return p, nil
}
