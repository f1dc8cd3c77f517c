package backupmgr

import (
	"errors"
	"reflect"
	"testing"

	"github.com/gomcat/gomcat/runtime/session"
)

func sampleMessages() []*Message {
	e := &Entry{ID: "ABC.n1", Primary: "n1", Backups: []string{"n2"}, Ver: 3}
	rec := &session.Record{ID: "ABC.n1", Created: 1, LastAccessed: 2, Attrs: map[string][]byte{"k": {0x01}}}
	return []*Message{
		{Kind: KindBackup, Context: "localhost#/app", Entry: e, Record: rec, Gen: 4},
		{Kind: KindRetrieve, Context: "localhost#/app", Entry: &Entry{ID: "ABC.n1"}, Req: 9},
		{Kind: KindRetrieveReply, Context: "localhost#/app", Req: 9, Entry: e, Record: rec, Gen: 4},
		{Kind: KindProxy, Context: "localhost#/app", Entry: e},
		{Kind: KindRemove, Context: "localhost#/app", Entry: &Entry{ID: "ABC.n1"}},
		{Kind: KindState, Context: "localhost#/app", Entries: []Entry{*e}},
		{Kind: KindInit, Context: "localhost#/app"},
		{Kind: KindAccess, Context: "localhost#/app", Entry: &Entry{ID: "ABC.n1"}, Accessed: 77},
		{Kind: KindRename, Context: "localhost#/app", Entry: &Entry{ID: "ABC.n1"}, NewID: "ABC.n2"},
		{Kind: KindNoContext, Context: "localhost#/app"},
	}
}

func TestMessageRoundTrip(t *testing.T) {
	msgs := sampleMessages()
	if len(msgs) != len(kinds) {
		t.Fatalf("%d samples for %d kinds", len(msgs), len(kinds))
	}
	for _, m := range msgs {
		b, err := Encode(m)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Decode(b)
		if err != nil {
			t.Fatalf("%s: %v", m.Kind, err)
		}
		want := *m
		want.Version = Version
		if !reflect.DeepEqual(got, &want) {
			t.Fatalf("%s: got %+v, want %+v", m.Kind, got, &want)
		}
		if !m.Kind.Known() || m.Kind.String() == "" {
			t.Fatalf("%s not known", m.Kind)
		}
	}
}

func TestDecodeRefuses(t *testing.T) {
	long := make([]byte, maxIDLen+1)
	for i := range long {
		long[i] = 'a'
	}
	for name, m := range map[string]*Message{
		"no kind":      {Context: "c"},
		"empty id":     {Kind: KindProxy, Entry: &Entry{}},
		"long id":      {Kind: KindProxy, Entry: &Entry{ID: string(long)}},
		"many backups": {Kind: KindProxy, Entry: &Entry{ID: "x", Backups: make([]string, maxOwners+1)}},
		"record no id": {Kind: KindBackup, Entry: &Entry{ID: "x"}, Record: &session.Record{}},
	} {
		b, err := Encode(m)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Decode(b); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: err %v, want ErrMalformed", name, err)
		}
	}
	if _, err := Decode([]byte{0xa1, 0x00, 0x09, 0x01, 0x01}); !errors.Is(err, ErrVersion) && !errors.Is(err, ErrMalformed) {
		t.Errorf("bad version: %v", err)
	}
}

func FuzzDecode(f *testing.F) {
	for _, m := range sampleMessages() {
		b, _ := Encode(m)
		f.Add(b)
	}
	f.Add([]byte{0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Decode(b)
		if err != nil {
			return
		}
		out, err := Encode(m)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		if _, err := Decode(out); err != nil {
			t.Fatalf("decode of re-encoded: %v", err)
		}
	})
}
