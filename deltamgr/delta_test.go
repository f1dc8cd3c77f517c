package deltamgr

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/gomcat/gomcat/runtime/session"
)

func TestDeltaCoalescesLastActionPerName(t *testing.T) {
	var d Delta
	d.Set("a", []byte{1})
	d.Set("b", []byte{2})
	d.Remove("a")
	d.Set("c", []byte{3})
	d.Set("b", []byte{4})
	want := []AttrOp{{Name: "a", Removed: true}, {Name: "c", Value: []byte{3}}, {Name: "b", Value: []byte{4}}}
	if !reflect.DeepEqual(d.Attrs, want) {
		t.Fatalf("attrs = %+v, want %+v", d.Attrs, want)
	}
}

func TestFromChangesRoundTrip(t *testing.T) {
	c := session.Changes{
		Attrs:          []session.AttrChange{{Name: "x", Value: []byte{0x61, 0x61}}, {Name: "y", Removed: true}},
		MaxInactive:    90 * time.Second,
		MaxInactiveSet: true,
		Principal:      "ann",
		AuthType:       "BASIC",
		PrincipalSet:   true,
		New:            true,
	}
	d := FromChanges(c)
	if got := d.Changes(); !reflect.DeepEqual(got, c) {
		t.Fatalf("Changes() = %+v, want %+v", got, c)
	}
	if d.Empty() || !(&Delta{}).Empty() {
		t.Fatal("Empty wrong")
	}
	// A session's own change log coalesces the same way.
	s := session.New("S", session.Options{})
	_ = s.Set("a", 1)
	_ = s.Set("b", 2)
	_ = s.Set("a", 3)
	s.Delete("b")
	d = FromChanges(s.TakeChanges())
	if len(d.Attrs) != 2 || d.Attrs[0].Name != "a" || d.Attrs[1].Name != "b" || !d.Attrs[1].Removed || !d.New {
		t.Fatalf("delta = %+v", d)
	}
}

// randRecord returns a random session state over a small key space, so
// that pairs share, change and miss keys.
func randRecord(r *rand.Rand) session.Record {
	rec := session.Record{ID: "ID", Created: 1, LastAccessed: 2}
	if r.IntN(4) > 0 {
		rec.Attrs = map[string][]byte{}
		for range r.IntN(6) {
			v := make([]byte, r.IntN(4))
			for i := range v {
				v[i] = byte(r.IntN(3))
			}
			rec.Attrs[fmt.Sprintf("k%d", r.IntN(8))] = v
		}
	}
	rec.MaxInactive = time.Duration(r.IntN(3)-1) * time.Minute
	if r.IntN(2) == 0 {
		rec.Principal, rec.AuthType = fmt.Sprintf("u%d", r.IntN(2)), []string{"", "FORM"}[r.IntN(2)]
	}
	return rec
}

func sameRecord(a, b session.Record) bool {
	if a.ID != b.ID || a.MaxInactive != b.MaxInactive || a.Principal != b.Principal || a.AuthType != b.AuthType ||
		len(a.Attrs) != len(b.Attrs) {
		return false
	}
	for k, v := range a.Attrs {
		w, ok := b.Attrs[k]
		if !ok || !bytes.Equal(v, w) {
			return false
		}
	}
	return true
}

// Property: Apply(old, Diff(old, new)) == new, also through the wire and
// through a live session's Apply.
func TestApplyDiffProperty(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	for i := range 5000 {
		old, nw := randRecord(r), randRecord(r)
		d := Diff(old, nw)
		if got := Apply(old, d); !sameRecord(got, nw) {
			t.Fatalf("case %d: Apply(old, Diff(old, new)) = %+v, want %+v (delta %+v)", i, got, nw, d)
		}
		if sameRecord(old, nw) != d.Empty() {
			t.Fatalf("case %d: Empty()=%v for equal=%v", i, d.Empty(), sameRecord(old, nw))
		}
		b, err := Encode(&Message{Kind: KindDelta, Context: "c", SessionID: "ID", Delta: &d})
		if err != nil {
			t.Fatal(err)
		}
		m, err := Decode(b)
		if err != nil {
			t.Fatal(err)
		}
		var wd Delta
		if m.Delta != nil {
			wd = *m.Delta
		}
		s := session.FromRecord(Apply(old, Delta{}), session.Options{})
		s.Apply(wd.Changes(), false)
		if got := s.Snapshot(); !sameRecord(got, nw) {
			t.Fatalf("case %d: live apply = %+v, want %+v", i, got, nw)
		}
	}
}

func TestApplyDoesNotModifyInput(t *testing.T) {
	old := session.Record{ID: "x", Attrs: map[string][]byte{"a": {1}}}
	_ = Apply(old, Delta{Attrs: []AttrOp{{Name: "a", Removed: true}, {Name: "b", Value: []byte{2}}}})
	if len(old.Attrs) != 1 || old.Attrs["a"][0] != 1 {
		t.Fatalf("input modified: %+v", old.Attrs)
	}
}

func FuzzApplyDelta(f *testing.F) {
	for _, m := range sampleMessages() {
		if m.Delta != nil {
			b, _ := encMode.Marshal(m.Delta)
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var d Delta
		if decMode.Unmarshal(b, &d) != nil {
			return
		}
		old := session.Record{ID: "x", Attrs: map[string][]byte{"a": {1}}}
		got := Apply(old, d)
		// Applying the same delta again changes nothing (deltas are idempotent).
		if again := Apply(got, d); !sameRecord(again, got) {
			t.Fatalf("not idempotent: %+v vs %+v", again, got)
		}
		s := session.FromRecord(old, session.Options{})
		s.Apply(d.Changes(), true)
	})
}
