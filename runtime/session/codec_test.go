package session

import (
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
)

type cart struct {
	Items []string
	Count int
	At    time.Time
	Tags  map[string]int `cbor:"tags"`
	note  string
}

type node struct {
	Name     string
	Next     *node
	Parent   *node `cbor:"-"`
	Children []*node
}

func newTestSession() *Session {
	return New(NewID("n1"), Options{MaxInactive: time.Minute})
}

func TestGetRoundTrip(t *testing.T) {
	ts := time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.UTC)
	tests := []struct {
		name string
		in   any
		want any
	}{
		{"string", "hello", "hello"},
		{"int", 42, int64(42)},
		{"negative", -7, int64(-7)},
		{"uint8", uint8(3), int64(3)},
		{"huge uint", uint64(math.MaxUint64), uint64(math.MaxUint64)},
		{"float64", 1.25, 1.25},
		{"float32", float32(1.5), 1.5},
		{"bool", true, true},
		{"bytes", []byte{1, 2, 3}, []byte{1, 2, 3}},
		{"time ns", ts, ts},
		{"duration", 90 * time.Second, int64(90 * time.Second)},
		{"map", map[string]int{"a": 1}, map[string]any{"a": int64(1)}},
		{"int-key map", map[int]string{1: "a"}, map[any]any{uint64(1): "a"}},
		{"slice", []string{"x", "y"}, []any{"x", "y"}},
		{"nested any", map[string]any{"l": []any{1, "b"}}, map[string]any{"l": []any{int64(1), "b"}}},
		{"struct", cart{Items: []string{"a"}, Count: 2}, map[string]any{"Items": []any{"a"}, "Count": int64(2), "At": nil, "tags": nil}},
		{"nil", nil, nil},
		{"invalid utf8", "\xff\xfe", "\xff\xfe"},
	}
	s := newTestSession()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := s.Set(tt.name, tt.in); err != nil {
				t.Fatalf("Set: %v", err)
			}
			got, ok := s.Get(tt.name)
			if !ok {
				t.Fatal("Get: not found")
			}
			if g, ok := got.(time.Time); ok {
				if !g.Equal(tt.want.(time.Time)) || g.Nanosecond() != 123456789 {
					t.Fatalf("Get = %v, want %v", g, tt.want)
				}
				return
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Get = %#v (%T), want %#v (%T)", got, got, tt.want, tt.want)
			}
		})
	}
}

func TestGetAsStruct(t *testing.T) {
	in := cart{
		Items: []string{"apple", "pear"},
		Count: 2,
		At:    time.Date(2024, 1, 2, 3, 4, 5, 6, time.UTC),
		Tags:  map[string]int{"x": 1},
		note:  "dropped",
	}
	writer, reader := newTestSession(), newTestSession()
	if err := writer.Set("cart", &in); err != nil {
		t.Fatal(err)
	}
	// What a peer node receives: the raw bytes.
	raw, _ := writer.GetRaw("cart")
	if err := reader.SetRaw("cart", raw); err != nil {
		t.Fatal(err)
	}
	got, ok, err := GetAs[cart](reader, "cart")
	if err != nil || !ok {
		t.Fatalf("GetAs: %v %v", ok, err)
	}
	want := in
	want.note = "" // unexported fields are not stored
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("GetAs = %#v\nwant %#v", got, want)
	}
	if _, ok, err := GetAs[cart](reader, "missing"); ok || err != nil {
		t.Fatalf("missing: %v %v", ok, err)
	}
	if _, ok, err := GetAs[int](reader, "cart"); !ok || err == nil {
		t.Fatalf("wrong type: ok=%v err=%v, want an error", ok, err)
	}
	if _, _, err := GetAs[int64](writer, "cart"); err == nil {
		t.Fatal("GetAs[int64] of a struct: want error")
	}
}

func TestSetUnencodable(t *testing.T) {
	cyc := &node{Name: "a"}
	cyc.Next = cyc
	selfMap := map[string]any{}
	selfMap["me"] = selfMap
	deep := any("leaf")
	for range maxDepth + 5 {
		deep = []any{deep}
	}
	tests := map[string]any{
		"chan":         make(chan int),
		"func":         func() {},
		"complex":      complex(1, 2),
		"chan field":   struct{ C chan int }{},
		"chan in map":  map[string]any{"c": make(chan int)},
		"cyclic ptr":   cyc,
		"cyclic map":   selfMap,
		"too deep":     deep,
		"cyclic slice": func() any { s := []any{nil}; s[0] = s; return s }(),
	}
	for name, v := range tests {
		t.Run(name, func(t *testing.T) {
			s := newTestSession()
			s.Set("keep", 1)
			s.TakeChanges()
			err := s.Set("bad", v)
			if !errors.Is(err, ErrUnencodable) {
				t.Fatalf("Set = %v, want ErrUnencodable", err)
			}
			if !strings.Contains(err.Error(), `"bad"`) {
				t.Fatalf("error %q does not name the key", err)
			}
			if _, ok := s.Get("bad"); ok {
				t.Fatal("value stored despite error")
			}
			if !s.TakeChanges().Empty() {
				t.Fatal("change recorded despite error")
			}
		})
	}
}

func TestSetAcceptsBoundedRecursiveTypes(t *testing.T) {
	// A tree through a recursive type, an ignored back pointer and a
	// moderately deep value are fine.
	root := &node{Name: "root"}
	child := &node{Name: "child", Parent: root}
	root.Children = []*node{child, {Name: "c2", Next: &node{Name: "c3"}}}
	s := newTestSession()
	if err := s.Set("tree", root); err != nil {
		t.Fatal(err)
	}
	got, _, err := GetAs[node](s, "tree")
	if err != nil || got.Children[1].Next.Name != "c3" || got.Children[0].Parent != nil {
		t.Fatalf("GetAs = %+v, %v", got, err)
	}
	deep := any("leaf")
	for range 50 {
		deep = []any{deep}
	}
	if err := s.Set("deep", deep); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.Get("deep"); !ok {
		t.Fatal("deep value does not decode")
	}
	big := make([]int, 200000) // above cbor's default 131072-element decode limit
	if err := s.Set("big", big); err != nil {
		t.Fatal(err)
	}
	if v, ok := s.Get("big"); !ok || len(v.([]any)) != len(big) {
		t.Fatal("big slice does not decode")
	}
}

func TestSetRawRejectsMalformed(t *testing.T) {
	s := newTestSession()
	for _, b := range [][]byte{nil, {0x18}, {0x01, 0x02}, {0xff}} {
		if err := s.SetRaw("k", b); !errors.Is(err, ErrUnencodable) {
			t.Errorf("SetRaw(%x) = %v, want ErrUnencodable", b, err)
		}
	}
	buf := []byte{0x18, 42}
	if err := s.SetRaw("k", buf); err != nil {
		t.Fatal(err)
	}
	buf[1] = 43 // the session kept a copy
	if v, _ := s.Get("k"); v != int64(42) {
		t.Fatalf("Get = %v, want 42", v)
	}
}

func TestEncodeDeterministic(t *testing.T) {
	m := map[string]int{}
	for i := range 50 {
		m[string(rune('a'+i%26))+string(rune('a'+i/26))] = i
	}
	a, _ := Encode(m)
	for range 20 {
		b, _ := Encode(m)
		if string(a) != string(b) {
			t.Fatal("map encoding is not deterministic")
		}
	}
}

func FuzzDecode(f *testing.F) {
	for _, v := range []any{"s", 1, -1, 1.5, []byte{1}, time.Unix(1, 2), map[string]any{"a": []any{1, "x"}}, cart{Count: 1}, nil} {
		b, err := Encode(v)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		// Peer bytes must never panic Get/GetAs, whatever they hold.
		s := FromRecord(Record{ID: "X", Attrs: map[string][]byte{"k": b}}, Options{})
		s.Get("k")
		GetAs[cart](s, "k")
		GetAs[map[string]any](s, "k")
		if err := wellFormed(b); err == nil {
			if _, err := Decode(b); err == nil {
				// Re-encoding what decoded must work.
				v, _ := s.Get("k")
				if _, err := Encode(v); err != nil && !errors.Is(err, ErrUnencodable) {
					t.Fatalf("re-encode: %v", err)
				}
			}
		}
	})
}
