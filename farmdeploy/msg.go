package farmdeploy

import (
	"errors"
	"fmt"

	"github.com/fxamacker/cbor/v2"
)

// kind is a farm message type. Append only: the numbers are wire format.
type kind uint8

const (
	kindStart       kind = 1 // a transfer begins: name, size, sha256
	kindChunk       kind = 2 // the next chunk of a transfer
	kindEnd         kind = 3 // the transfer is complete: verify, move, install
	kindUndeploy    kind = 4 // remove the named bundle
	kindManifest    kind = 5 // the watching node's bundles: name, size, sha256
	kindManifestReq kind = 6 // ask watching nodes for their manifest
	kindFetch       kind = 7 // ask the watching node to push one bundle
	kindReport      kind = 8 // a member's deploy result for one bundle
)

func (k kind) String() string {
	switch k {
	case kindStart:
		return "FILE-START"
	case kindChunk:
		return "FILE-CHUNK"
	case kindEnd:
		return "FILE-END"
	case kindUndeploy:
		return "UNDEPLOY"
	case kindManifest:
		return "MANIFEST"
	case kindManifestReq:
		return "MANIFEST-REQUEST"
	case kindFetch:
		return "FETCH"
	case kindReport:
		return "REPORT"
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// wireVersion is the farm message format version.
const wireVersion = 1

// message is every farm message; unused fields are omitted on the wire.
type message struct {
	Version  uint8   `cbor:"1,keyasint"`
	Kind     kind    `cbor:"2,keyasint"`
	Transfer uint64  `cbor:"3,keyasint,omitempty"`
	Name     string  `cbor:"4,keyasint,omitempty"`
	Size     int64   `cbor:"5,keyasint,omitempty"`
	SHA256   []byte  `cbor:"6,keyasint,omitempty"`
	Index    int64   `cbor:"7,keyasint,omitempty"`
	Data     []byte  `cbor:"8,keyasint,omitempty"`
	Entries  []entry `cbor:"9,keyasint,omitempty"`
	State    string  `cbor:"10,keyasint,omitempty"`
	Error    string  `cbor:"11,keyasint,omitempty"`
	// Gen orders a watching node's bundle changes (see entry.Gen): on a
	// FILE-START the bundle's, on a MANIFEST the sender's latest change
	// when it took the manifest.
	Gen uint64 `cbor:"12,keyasint,omitempty"`
}

// entry is one bundle in a manifest.
type entry struct {
	Name   string `cbor:"1,keyasint"`
	Size   int64  `cbor:"2,keyasint"`
	SHA256 []byte `cbor:"3,keyasint"`
	// Gen is when the watching node took this version into its bundles:
	// it only grows (max(last+1, now in ns), so a restarted node stays
	// later). A manifest taken before that change cannot undeploy it.
	Gen uint64 `cbor:"4,keyasint,omitempty"`
}

var decMode = func() cbor.DecMode {
	dm, err := cbor.DecOptions{
		MaxArrayElements: 1 << 16,
		MaxMapPairs:      64,
		MaxNestedLevels:  8,
		DupMapKey:        cbor.DupMapKeyEnforcedAPF,
	}.DecMode()
	if err != nil {
		panic(err) // static options; cannot fail
	}
	return dm
}()

func encode(m message) []byte {
	m.Version = wireVersion
	b, err := cbor.Marshal(m)
	if err != nil {
		panic(fmt.Sprintf("farmdeploy: encode %v: %v", m.Kind, err)) // plain struct; cannot fail
	}
	return b
}

func decode(b []byte) (message, error) {
	var m message
	if err := decMode.Unmarshal(b, &m); err != nil {
		return message{}, fmt.Errorf("farmdeploy: decode message: %w", err)
	}
	if m.Version != wireVersion {
		return message{}, fmt.Errorf("farmdeploy: message version %d, want %d", m.Version, wireVersion)
	}
	if m.Kind < kindStart || m.Kind > kindReport {
		return message{}, fmt.Errorf("farmdeploy: unknown message kind %d", m.Kind)
	}
	if m.SHA256 != nil && len(m.SHA256) != 32 {
		return message{}, errors.New("farmdeploy: sha256 must be 32 bytes")
	}
	for _, e := range m.Entries {
		if len(e.SHA256) != 32 {
			return message{}, errors.New("farmdeploy: manifest sha256 must be 32 bytes")
		}
	}
	return m, nil
}
