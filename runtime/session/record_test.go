package session

import (
	"reflect"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"
)

func TestRecordRoundTrip(t *testing.T) {
	c := newClock()
	s := New(NewID("n1"), Options{MaxInactive: time.Minute, Now: c.Now})
	s.Set("s", "x")
	s.Set("t", time.Date(2020, 1, 1, 0, 0, 0, 7, time.UTC))
	s.SetPrincipal("u", "BASIC")
	c.Add(time.Second)
	s.Access(c.Now())

	b, err := cbor.Marshal(s.Snapshot())
	if err != nil {
		t.Fatal(err)
	}
	var r Record
	if err := cbor.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(r, s.Snapshot()) {
		t.Fatalf("record changed on the wire:\n%+v\n%+v", r, s.Snapshot())
	}
	cp := FromRecord(r, Options{})
	if cp.ID() != s.ID() || !cp.CreatedAt().Equal(s.CreatedAt()) || !cp.LastAccessedAt().Equal(s.LastAccessedAt()) ||
		cp.MaxInactive() != time.Minute || !cp.IsNew() || cp.Size() != s.Size() || !cp.Valid() || cp.Dirty() {
		t.Fatalf("FromRecord mismatch: %+v", cp.Snapshot())
	}
	if n, a := cp.Principal(); n != "u" || a != "BASIC" {
		t.Fatal("principal lost")
	}
	if v, _ := cp.Get("t"); !v.(time.Time).Equal(time.Date(2020, 1, 1, 0, 0, 0, 7, time.UTC)) {
		t.Fatalf("time = %v", v)
	}
	// Small and stable: integer keys, so a 1 KiB value costs ~1 KiB plus
	// a few dozen bytes of envelope.
	big := New(NewID("n1"), Options{})
	big.Set("v", string(make([]byte, 1024)))
	b, _ = cbor.Marshal(big.Snapshot())
	if len(b) > 1024+100 {
		t.Fatalf("record of a 1 KiB session is %d bytes", len(b))
	}
}

func FuzzRecord(f *testing.F) {
	s := New(NewID("n1"), Options{})
	s.Set("a", map[string]any{"x": 1})
	s.SetPrincipal("p", "FORM")
	b, _ := cbor.Marshal(s.Snapshot())
	f.Add(b)
	f.Add([]byte{0xa0})
	f.Fuzz(func(t *testing.T, b []byte) {
		var r Record
		if cbor.Unmarshal(b, &r) != nil {
			return
		}
		cp := FromRecord(r, Options{})
		for _, k := range cp.Keys() {
			cp.Get(k)
		}
		cp.Snapshot()
		cp.Set("z", 1)
		cp.Invalidate()
	})
}
