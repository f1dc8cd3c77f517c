package session

import (
	"reflect"
	"testing"
	"time"
)

func TestChangesCoalesce(t *testing.T) {
	s := New("X", Options{})
	s.Set("a", 1)
	s.Set("b", 2)
	s.Set("a", 3) // a moves behind b
	s.Set("c", 4)
	s.Delete("b") // b's set is replaced by a removal at the end
	s.SetMaxInactive(time.Hour)
	s.SetPrincipal("bob", "BASIC")
	c := s.TakeChanges()
	var names []string
	for _, a := range c.Attrs {
		n := a.Name
		if a.Removed {
			n = "-" + n
		}
		names = append(names, n)
	}
	if want := []string{"a", "c", "-b"}; !reflect.DeepEqual(names, want) {
		t.Fatalf("attrs = %v, want %v", names, want)
	}
	if v, _ := Decode(c.Attrs[0].Value); v != int64(3) {
		t.Fatalf("a = %v, want the last value 3", v)
	}
	if !c.New || !c.MaxInactiveSet || c.MaxInactive != time.Hour || !c.PrincipalSet || c.Principal != "bob" || c.AuthType != "BASIC" {
		t.Fatalf("changes = %+v", c)
	}
	if !s.TakeChanges().Empty() || s.Dirty() {
		t.Fatal("TakeChanges must reset")
	}
	s.Set("a", 1)
	if c := s.TakeChanges(); c.New || len(c.Attrs) != 1 {
		t.Fatalf("second round = %+v", c)
	}
}

func TestApply(t *testing.T) {
	for _, notify := range []bool{true, false} {
		rec := &recorder{}
		src := New("X", Options{})
		src.Set("keep", "v")
		src.Set("gone", 1)
		src.TakeChanges()
		dst := FromRecord(src.Snapshot(), Options{Listeners: rec.listeners()})

		src.Set("new", []int{1})
		src.Set("keep", "v2")
		src.Delete("gone")
		src.SetMaxInactive(time.Hour)
		src.SetPrincipal("carol", "FORM")
		c := src.TakeChanges()
		dst.Apply(c, notify)

		if !reflect.DeepEqual(dst.Snapshot().Attrs, src.Snapshot().Attrs) || dst.Size() != src.Size() {
			t.Fatalf("notify=%v: replica differs", notify)
		}
		if dst.MaxInactive() != time.Hour {
			t.Fatal("max inactive not applied")
		}
		if n, _ := dst.Principal(); n != "carol" {
			t.Fatal("principal not applied")
		}
		if dst.Dirty() {
			t.Fatal("Apply must not record changes")
		}
		got := rec.take()
		want := []string{"added new", "replaced keep", "removed gone"}
		if !notify {
			want = nil
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("notify=%v: events %v, want %v", notify, got, want)
		}
	}
}

func TestApplyOnInvalidIsIgnored(t *testing.T) {
	s := New("X", Options{})
	s.Invalidate()
	s.Apply(Changes{Attrs: []AttrChange{{Name: "a", Value: []byte{1}}}}, true)
	if _, ok := s.Get("a"); ok {
		t.Fatal("applied to an invalid session")
	}
}
