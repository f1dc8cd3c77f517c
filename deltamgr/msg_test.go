package deltamgr

import (
	"bytes"
	"errors"
	"reflect"
	"testing"

	"github.com/gomcat/gomcat/runtime/session"
)

func TestKindCodesAreTomcats(t *testing.T) {
	want := map[Kind]struct {
		code int
		name string
	}{
		KindCreated:                    {1, "SESSION-MODIFIED"},
		KindExpired:                    {2, "SESSION-EXPIRED"},
		KindAccessed:                   {3, "SESSION-ACCESSED"},
		KindGetAllSessions:             {4, "SESSION-GET-ALL"},
		KindAllSessionData:             {12, "ALL-SESSION-DATA"},
		KindDelta:                      {13, "SESSION-DELTA"},
		KindAllSessionTransferComplete: {14, "SESSION-STATE-TRANSFERRED"},
		KindChangeSessionID:            {15, "SESSION-ID-CHANGED"},
		KindAllSessionNoContextManager: {16, "NO-CONTEXT-MANAGER"},
	}
	if len(kinds) != len(want) {
		t.Fatalf("kinds has %d entries, want %d", len(kinds), len(want))
	}
	for k, w := range want {
		if int(k) != w.code || k.String() != w.name || !k.Known() {
			t.Errorf("kind %d: code %d name %q known %v, want %d %q", k, int(k), k.String(), k.Known(), w.code, w.name)
		}
	}
	if Kind(5).Known() || Kind(5).String() != "UNKNOWN-5" {
		t.Errorf("kind 5: %v %q", Kind(5).Known(), Kind(5).String())
	}
}

// sampleMessages has one message of every kind, fully populated.
func sampleMessages() []*Message {
	d := &Delta{New: true, MaxInactive: 1800e9, MaxInactiveSet: true, Principal: "ann", AuthType: "FORM", PrincipalSet: true,
		Attrs: []AttrOp{{Name: "a", Value: []byte{0x01}}, {Name: "b", Removed: true}}}
	return []*Message{
		{Kind: KindCreated, Context: "localhost#/", SessionID: "ABC.n1", Timestamp: 1700000000000, Created: 1700000000000000000, Delta: &Delta{New: true, MaxInactive: 60e9, MaxInactiveSet: true}},
		{Kind: KindExpired, Context: "localhost#/", SessionID: "ABC.n1", Timestamp: 1},
		{Kind: KindAccessed, Context: "localhost#", SessionID: "ABC.n1", Timestamp: 2},
		{Kind: KindGetAllSessions, Context: "localhost#/shop", SessionID: "GET-ALL", Timestamp: 3, Transfer: 99},
		{Kind: KindAllSessionData, Context: "localhost#/shop", SessionID: "SESSION-STATE", Timestamp: 4, Transfer: 99, Seq: 1,
			Sessions: []session.Record{{ID: "A.n1", Created: 1, LastAccessed: 2, MaxInactive: 3, New: true, Principal: "p", AuthType: "FORM",
				Attrs: map[string][]byte{"k": {0x01}}}, {ID: "B.n1"}}},
		{Kind: KindDelta, Context: "localhost#/", SessionID: "ABC.n1", Timestamp: 5, Created: 7, Delta: d},
		{Kind: KindAllSessionTransferComplete, Context: "localhost#/shop", SessionID: "SESSION-STATE-TRANSFERRED", Timestamp: 4, Transfer: 99, Seq: 3, Count: 2500},
		{Kind: KindChangeSessionID, Context: "localhost#/", SessionID: "ABC.n1", NewID: "ABC.n2", Timestamp: 6},
		{Kind: KindAllSessionNoContextManager, Context: "localhost#/x", SessionID: "NO-CONTEXT-MANAGER", Timestamp: 7, Transfer: 99},
	}
}

func TestMessageRoundTripEveryKind(t *testing.T) {
	for _, m := range sampleMessages() {
		t.Run(m.Kind.String(), func(t *testing.T) {
			b, err := Encode(m)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Decode(b)
			if err != nil {
				t.Fatal(err)
			}
			want := *m
			want.Version = Version
			if !reflect.DeepEqual(got, &want) {
				t.Fatalf("round trip:\n got %+v\nwant %+v", got, &want)
			}
			if got.String() != m.Kind.String()+"#"+m.Context+"#"+m.SessionID {
				t.Errorf("String() = %q", got.String())
			}
		})
	}
}

func TestDecodeRejects(t *testing.T) {
	good, _ := Encode(&Message{Kind: KindAccessed, Context: "c", SessionID: "s"})
	v2, _ := encMode.Marshal(map[int]any{0: 2, 1: 3, 2: "c"})
	noKind, _ := encMode.Marshal(map[int]any{0: 1, 2: "c"})
	dup := []byte{0xa2, 0x00, 0x01, 0x00, 0x01}
	for name, tc := range map[string]struct {
		b    []byte
		want error
	}{
		"empty":      {nil, ErrMalformed},
		"garbage":    {[]byte("FLT2002"), ErrMalformed},
		"truncated":  {good[:len(good)-1], ErrMalformed},
		"version 2":  {v2, ErrVersion},
		"no kind":    {noKind, ErrMalformed},
		"dup key":    {dup, ErrMalformed},
		"wrong type": {[]byte{0x83, 0x01, 0x02, 0x03}, ErrMalformed},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := Decode(tc.b); !errors.Is(err, tc.want) {
				t.Fatalf("Decode = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestDecodeIgnoresUnknownFieldsAndKinds(t *testing.T) {
	// A newer peer may add keys and kinds: both decode.
	b, _ := encMode.Marshal(map[int]any{0: 1, 1: 200, 2: "c", 99: "future"})
	m, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if m.Kind.Known() {
		t.Fatal("kind 200 known")
	}
}

func FuzzDecodeMessage(f *testing.F) {
	for _, m := range sampleMessages() {
		b, err := Encode(m)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Decode(b)
		if err != nil {
			return
		}
		// Whatever decodes re-encodes, and that encoding is stable.
		b2, err := Encode(m)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		m2, err := Decode(b2)
		if err != nil {
			t.Fatalf("decode of re-encoding: %v", err)
		}
		b3, err := Encode(m2)
		if err != nil || !bytes.Equal(b2, b3) {
			t.Fatalf("unstable encoding: %v\n%x\n%x", err, b2, b3)
		}
		if m.Delta != nil {
			_ = Apply(session.Record{ID: "x", Attrs: map[string][]byte{"a": {1}}}, *m.Delta)
			_ = m.Delta.Changes()
		}
		for _, r := range m.Sessions {
			_ = session.FromRecord(r, session.Options{}).Keys()
		}
	})
}
