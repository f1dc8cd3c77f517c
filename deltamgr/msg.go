package deltamgr

import (
	"bytes"
	"fmt"
	"strconv"
	"sync"

	"github.com/fxamacker/cbor/v2"

	"github.com/gomcat/gomcat/runtime/session"
)

// Kind is a session message kind. The numeric codes are Tomcat's
// SessionMessage.EVT_* constants, so an operator's knowledge (and a packet
// capture) maps one to one.
//
// Append only: never renumber or reuse a code.
type Kind uint8

const (
	KindCreated                    Kind = 1  // EVT_SESSION_CREATED
	KindExpired                    Kind = 2  // EVT_SESSION_EXPIRED
	KindAccessed                   Kind = 3  // EVT_SESSION_ACCESSED
	KindGetAllSessions             Kind = 4  // EVT_GET_ALL_SESSIONS
	KindAllSessionData             Kind = 12 // EVT_ALL_SESSION_DATA
	KindDelta                      Kind = 13 // EVT_SESSION_DELTA
	KindAllSessionTransferComplete Kind = 14 // EVT_ALL_SESSION_TRANSFERCOMPLETE
	KindChangeSessionID            Kind = 15 // EVT_CHANGE_SESSION_ID
	KindAllSessionNoContextManager Kind = 16 // EVT_ALL_SESSION_NOCONTEXTMANAGER
)

// kinds lists every known kind, for tests and statistics.
var kinds = []Kind{
	KindCreated, KindExpired, KindAccessed, KindGetAllSessions, KindAllSessionData,
	KindDelta, KindAllSessionTransferComplete, KindChangeSessionID, KindAllSessionNoContextManager,
}

// String returns Tomcat's event type string (SessionMessage.getEventTypeString).
func (k Kind) String() string {
	switch k {
	case KindCreated:
		return "SESSION-MODIFIED"
	case KindExpired:
		return "SESSION-EXPIRED"
	case KindAccessed:
		return "SESSION-ACCESSED"
	case KindGetAllSessions:
		return "SESSION-GET-ALL"
	case KindAllSessionData:
		return "ALL-SESSION-DATA"
	case KindDelta:
		return "SESSION-DELTA"
	case KindAllSessionTransferComplete:
		return "SESSION-STATE-TRANSFERRED"
	case KindChangeSessionID:
		return "SESSION-ID-CHANGED"
	case KindAllSessionNoContextManager:
		return "NO-CONTEXT-MANAGER"
	}
	return "UNKNOWN-" + strconv.Itoa(int(k))
}

// Known reports whether k is a kind this version understands. Unknown kinds
// from newer peers are decoded but ignored.
func (k Kind) Known() bool {
	for _, x := range kinds {
		if x == k {
			return true
		}
	}
	return false
}

// Version is the wire version Encode writes and Decode accepts.
const Version = 1

// Message is the envelope of every session message (Tomcat's SessionMessage),
// CBOR-encoded with integer keys. Which fields are set depends on Kind:
//
//	CREATED, DELTA             SessionID, Created, Delta
//	ACCESSED, EXPIRED          SessionID
//	CHANGE_SESSION_ID          SessionID (old), NewID
//	GET_ALL_SESSIONS           Transfer
//	ALL_SESSION_DATA           Transfer, Seq (1-based chunk number), Sessions; Timestamp = snapshot time
//	TRANSFERCOMPLETE           Transfer, Seq (number of chunks), Count (sessions sent); Timestamp = snapshot time
//	NOCONTEXTMANAGER           Transfer
//
// New fields get new keys; decoders ignore keys they do not know.
type Message struct {
	Version   uint8  `cbor:"0,keyasint"`
	Kind      Kind   `cbor:"1,keyasint"`
	Context   string `cbor:"2,keyasint"`           // manager name, e.g. "localhost#/shop"
	SessionID string `cbor:"3,keyasint,omitempty"` // session id (old id for CHANGE_SESSION_ID)
	Timestamp int64  `cbor:"4,keyasint"`           // unix ms at the sender
	NewID     string `cbor:"5,keyasint,omitempty"` // CHANGE_SESSION_ID: the new id
	Created   int64  `cbor:"6,keyasint,omitempty"` // CREATED, DELTA: session creation time, unix ns
	Delta     *Delta `cbor:"7,keyasint,omitempty"` // CREATED, DELTA: what changed
	Transfer  uint64 `cbor:"8,keyasint,omitempty"` // state transfer id, echoed by the responder
	Seq       int    `cbor:"9,keyasint,omitempty"`
	Count     int    `cbor:"10,keyasint,omitempty"`
	// Sessions is one chunk of the state (session.Record is wire format,
	// owned by runtime/session: integer keys, append only).
	Sessions []session.Record `cbor:"11,keyasint,omitempty"`
}

// String renders the message like Tomcat's SessionMessage.toString.
func (m *Message) String() string {
	return m.Kind.String() + "#" + m.Context + "#" + m.SessionID
}

var (
	encMode cbor.UserBufferEncMode
	decMode cbor.DecMode
)

func init() {
	var err error
	encMode, err = cbor.EncOptions{}.UserBufferEncMode()
	if err != nil {
		panic(err)
	}
	decMode, err = cbor.DecOptions{
		MaxNestedLevels:  16,
		MaxArrayElements: 1 << 20,
		MaxMapPairs:      1 << 20,
		DupMapKey:        cbor.DupMapKeyEnforcedAPF,
	}.DecMode()
	if err != nil {
		panic(err)
	}
}

// Encode returns the wire form of m, stamping Version.
func Encode(m *Message) ([]byte, error) {
	c := *m
	c.Version = Version
	b, err := encMode.Marshal(&c)
	if err != nil {
		return nil, fmt.Errorf("deltamgr: encode %s: %w", m.Kind, err)
	}
	return b, nil
}

// sendBufs are the buffers send and sendTo encode into: the Cluster
// keeps no reference to a message once Send or Broadcast returned, so a
// request's delta costs no allocation for its wire bytes.
var sendBufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// maxPooledBuf: a buffer grown past this (a huge session) is left to the GC.
const maxPooledBuf = 64 << 10

func getBuf() *bytes.Buffer { return sendBufs.Get().(*bytes.Buffer) }

func putBuf(b *bytes.Buffer) {
	if b.Cap() <= maxPooledBuf {
		sendBufs.Put(b)
	}
}

// encodeTo is Encode into buf (reset first), so a caller that encodes many
// large messages (the state transfer's chunks) can reuse its buffers.
func encodeTo(buf *bytes.Buffer, m *Message) error {
	c := *m
	c.Version = Version
	buf.Reset()
	if err := encMode.MarshalToBuffer(&c, buf); err != nil {
		return fmt.Errorf("deltamgr: encode %s: %w", m.Kind, err)
	}
	return nil
}

// Decode parses a message. Errors wrap ErrMalformed or ErrVersion. Unknown
// kinds decode without error (see Kind.Known).
func Decode(b []byte) (*Message, error) {
	var m Message
	if err := decMode.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if m.Version != Version {
		return nil, fmt.Errorf("%w: %d", ErrVersion, m.Version)
	}
	if m.Kind == 0 {
		return nil, fmt.Errorf("%w: no kind", ErrMalformed)
	}
	if m.Seq < 0 || m.Count < 0 {
		return nil, fmt.Errorf("%w: negative count", ErrMalformed)
	}
	return &m, nil
}
