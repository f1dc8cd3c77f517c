package backupmgr

import (
	"fmt"
	"strconv"

	"github.com/fxamacker/cbor/v2"

	"github.com/gomcat/gomcat/runtime/session"
)

// Kind is a map message kind. Codes 1..13 are Tomcat's MapMessage.MSG_*
// numbers; Gomcat's own kinds start at 20. Append only.
type Kind uint8

const (
	KindBackup        Kind = 1  // MSG_BACKUP: full record + roles, to a backup
	KindRetrieve      Kind = 2  // MSG_RETRIEVE_BACKUP: ask a holder for the record (Req)
	KindProxy         Kind = 3  // MSG_PROXY: roles of one id, no value
	KindRemove        Kind = 4  // MSG_REMOVE: the session expired
	KindState         Kind = 5  // MSG_STATE: the sender's primary entries (ids and owners, no values)
	KindInit          Kind = 8  // MSG_INIT: "I run this context, send me your map"
	KindAccess        Kind = 11 // MSG_ACCESS: the session was used; LastAccessed
	KindRetrieveReply Kind = 20 // answer to KindRetrieve (Req echoed; Record nil when not held)
	KindRename        Kind = 21 // the primary renamed ID to NewID (JvmRouteBinderValve, RenewID)
	KindNoContext     Kind = 22 // answer to KindInit from a member without this context
)

var kinds = []Kind{KindBackup, KindRetrieve, KindProxy, KindRemove, KindState, KindInit,
	KindAccess, KindRetrieveReply, KindRename, KindNoContext}

// String names the kind as Tomcat's MapMessage type names do.
func (k Kind) String() string {
	switch k {
	case KindBackup:
		return "MSG_BACKUP"
	case KindRetrieve:
		return "MSG_RETRIEVE_BACKUP"
	case KindProxy:
		return "MSG_PROXY"
	case KindRemove:
		return "MSG_REMOVE"
	case KindState:
		return "MSG_STATE"
	case KindInit:
		return "MSG_INIT"
	case KindAccess:
		return "MSG_ACCESS"
	case KindRetrieveReply:
		return "RETRIEVE_REPLY"
	case KindRename:
		return "RENAME"
	case KindNoContext:
		return "NO_CONTEXT"
	}
	return "UNKNOWN-" + strconv.Itoa(int(k))
}

// Known reports whether k is a kind this version understands.
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

// Limits of a decoded message; beyond them Decode fails (and the Router counts it).
const (
	maxEntries = 1 << 20 // entries of one KindState
	maxOwners  = MaxBackups
	maxIDLen   = 256
)

// Entry is one session's roles: who holds the value as primary and as
// backups. Ver orders role changes of one id (higher wins).
type Entry struct {
	ID      string   `cbor:"1,keyasint"`
	Primary string   `cbor:"2,keyasint"`
	Backups []string `cbor:"3,keyasint,omitempty"`
	Ver     uint64   `cbor:"4,keyasint,omitempty"`
}

// Message is a map message, CBOR with integer keys. Fields by Kind:
//
//	BACKUP          Entry, Record, Gen
//	PROXY           Entry
//	RETRIEVE        Entry.ID, Req
//	RETRIEVE_REPLY  Req, Entry, Record, Gen (Entry and Record nil when not held)
//	REMOVE          Entry.ID
//	ACCESS          Entry.ID, Accessed
//	RENAME          Entry.ID (old), NewID
//	STATE           Entries
//	INIT, NO_CONTEXT nothing more
type Message struct {
	Version  uint8           `cbor:"0,keyasint"`
	Kind     Kind            `cbor:"1,keyasint"`
	Context  string          `cbor:"2,keyasint"`
	Entry    *Entry          `cbor:"3,keyasint,omitempty"`
	Record   *session.Record `cbor:"4,keyasint,omitempty"`
	Req      uint64          `cbor:"5,keyasint,omitempty"`
	Accessed int64           `cbor:"6,keyasint,omitempty"` // unix ns
	NewID    string          `cbor:"7,keyasint,omitempty"`
	Entries  []Entry         `cbor:"8,keyasint,omitempty"`
	Gen      uint64          `cbor:"9,keyasint,omitempty"` // BACKUP, RETRIEVE_REPLY: value generation (higher is newer)
}

var (
	encMode cbor.EncMode
	decMode cbor.DecMode
)

func init() {
	var err error
	if encMode, err = (cbor.EncOptions{}).EncMode(); err != nil {
		panic(err)
	}
	decMode, err = cbor.DecOptions{
		MaxNestedLevels:  16,
		MaxArrayElements: maxEntries,
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
		return nil, fmt.Errorf("backupmgr: encode %s: %w", m.Kind, err)
	}
	return b, nil
}

// Decode parses and bounds a message. Errors wrap ErrMalformed or
// ErrVersion; unknown kinds decode without error (see Kind.Known).
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
	if m.Entry != nil {
		if err := m.Entry.check(); err != nil {
			return nil, err
		}
	}
	for i := range m.Entries {
		if err := m.Entries[i].check(); err != nil {
			return nil, err
		}
	}
	if len(m.NewID) > maxIDLen {
		return nil, fmt.Errorf("%w: id too long", ErrMalformed)
	}
	if m.Record != nil && (m.Record.ID == "" || len(m.Record.ID) > maxIDLen) {
		return nil, fmt.Errorf("%w: bad record id", ErrMalformed)
	}
	return &m, nil
}

func (e *Entry) check() error {
	switch {
	case e.ID == "" || len(e.ID) > maxIDLen:
		return fmt.Errorf("%w: bad session id", ErrMalformed)
	case len(e.Backups) > maxOwners:
		return fmt.Errorf("%w: %d backups", ErrMalformed, len(e.Backups))
	}
	return nil
}
