package session

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gomcat/gomcat/internal/testkit"
)

// newClock is a test's manual clock.
func newClock() *testkit.Clock { return testkit.NewClock(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)) }

// recorder collects listener events as strings.
type recorder struct {
	mu     sync.Mutex
	events []string
}

func (r *recorder) add(format string, args ...any) {
	r.mu.Lock()
	r.events = append(r.events, fmt.Sprintf(format, args...))
	r.mu.Unlock()
}

func (r *recorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	e := r.events
	r.events = nil
	return e
}

func (r *recorder) listeners() *Listeners {
	return &Listeners{
		Created:           func(s *Session) { r.add("created") },
		Destroyed:         func(s *Session) { v, _ := s.Get("a"); r.add("destroyed a=%v", v) },
		AttributeAdded:    func(s *Session, n string) { r.add("added %s", n) },
		AttributeReplaced: func(s *Session, n string) { r.add("replaced %s", n) },
		AttributeRemoved:  func(s *Session, n string) { r.add("removed %s", n) },
		IDChanged:         func(s *Session, old string) { r.add("id changed") },
	}
}

func TestSessionBasics(t *testing.T) {
	c := newClock()
	rec := &recorder{}
	s := New("ID1", Options{MaxInactive: time.Minute, Listeners: rec.listeners(), Now: c.Now})
	if s.ID() != "ID1" || !s.IsNew() || !s.Valid() || s.MaxInactive() != time.Minute {
		t.Fatal("bad new session")
	}
	if !s.CreatedAt().Equal(c.Now()) || !s.LastAccessedAt().Equal(c.Now()) {
		t.Fatal("bad times")
	}
	s.Set("b", 1)
	s.Set("a", 1)
	s.Set("a", 2)
	s.Delete("b")
	s.Delete("missing")
	if got := s.Keys(); !reflect.DeepEqual(got, []string{"a"}) {
		t.Fatalf("Keys = %v", got)
	}
	want := []string{"added b", "added a", "replaced a", "removed b"}
	if got := rec.take(); !reflect.DeepEqual(got, want) {
		t.Fatalf("events = %v, want %v", got, want)
	}
	s.SetPrincipal("alice", "FORM")
	if n, a := s.Principal(); n != "alice" || a != "FORM" {
		t.Fatalf("Principal = %q %q", n, a)
	}

	c.Add(time.Second)
	s.Access(c.Now())
	c.Add(time.Second)
	if !s.IsNew() || !s.InUse() {
		t.Fatal("IsNew must hold until EndAccess")
	}
	s.EndAccess()
	if s.IsNew() || s.InUse() || !s.LastAccessedAt().Equal(c.Now()) {
		t.Fatal("EndAccess must clear IsNew and bump the access time")
	}

	s.Invalidate() // standalone: Expire(true)
	if s.Valid() {
		t.Fatal("still valid")
	}
	if got := rec.take(); !reflect.DeepEqual(got, []string{"destroyed a=2"}) {
		t.Fatalf("events = %v (Destroyed must see attributes)", got)
	}
	if err := s.Set("a", 3); !errors.Is(err, ErrInvalid) {
		t.Fatalf("Set after invalidate = %v", err)
	}
	if _, ok := s.Get("a"); ok || len(s.Keys()) != 0 {
		t.Fatal("attributes must be dropped")
	}
	s.Invalidate()
	if got := rec.take(); len(got) != 0 {
		t.Fatalf("second invalidate fired %v", got)
	}
}

func TestExpiredAndInUse(t *testing.T) {
	c := newClock()
	s := New("X", Options{MaxInactive: time.Minute, Now: c.Now})
	c.Add(59 * time.Second)
	if s.Expired(c.Now()) {
		t.Fatal("expired early")
	}
	s.Access(c.Now())
	c.Add(2 * time.Minute)
	if s.Expired(c.Now()) {
		t.Fatal("a session in use must not expire")
	}
	s.EndAccess()
	c.Add(time.Minute)
	if !s.Expired(c.Now()) || s.Idle(c.Now()) != time.Minute {
		t.Fatalf("want expired after 1 min idle, idle=%v", s.Idle(c.Now()))
	}
	s.SetMaxInactive(-1)
	c.Add(24 * time.Hour)
	if s.Expired(c.Now()) {
		t.Fatal("MaxInactive<0 must never expire")
	}
}

func TestSizeLimit(t *testing.T) {
	s := New("X", Options{MaxSize: 100})
	if err := s.Set("a", make([]byte, 50)); err != nil {
		t.Fatal(err)
	}
	s.TakeChanges()
	size := s.Size()
	err := s.Set("b", make([]byte, 60))
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("Set = %v, want ErrTooLarge", err)
	}
	if _, ok := s.Get("b"); ok || s.Size() != size || !s.TakeChanges().Empty() {
		t.Fatal("failed Set changed the session")
	}
	// Replacing counts the difference, not the sum.
	if err := s.Set("a", make([]byte, 90)); err != nil {
		t.Fatalf("replace within the limit: %v", err)
	}
	if err := s.Set("a", "small"); err != nil {
		t.Fatal(err)
	}
	if s.Size() != len("a")+len("small")+1 {
		t.Fatalf("Size = %d", s.Size())
	}
}

func TestRenewIDStandalone(t *testing.T) {
	s := New("AAAA.node1", Options{})
	id, err := s.RenewID()
	if err != nil || id == "AAAA.node1" || s.ID() != id {
		t.Fatalf("RenewID = %q, %v", id, err)
	}
	if _, r := SplitID(id); r != "node1" {
		t.Fatalf("route lost: %s", id)
	}
	s.Invalidate()
	if _, err := s.RenewID(); !errors.Is(err, ErrInvalid) {
		t.Fatalf("RenewID on invalid = %v", err)
	}
}

func TestConcurrentSetGet(t *testing.T) {
	s := New("X", Options{MaxInactive: time.Minute})
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 500 {
				key := fmt.Sprintf("k%d", i%10)
				if err := s.Set(key, map[string]int{"w": w, "i": i}); err != nil {
					t.Error(err)
					return
				}
				if v, ok := s.Get(key); ok {
					if _, isMap := v.(map[string]any); !isMap {
						t.Errorf("Get = %T", v)
						return
					}
				}
				s.Keys()
				if i%50 == 0 {
					s.TakeChanges()
					s.Snapshot()
					s.Delete(key)
				}
			}
		})
	}
	wg.Wait()
}

func TestNote(t *testing.T) {
	s := New("X", Options{})
	if s.Note() != nil {
		t.Fatal("note set")
	}
	s.SetNote(true)
	if s.Note() != true || len(s.Keys()) != 0 || s.Dirty() != true /* New */ {
		t.Fatal("note")
	}
	if r := s.Snapshot(); len(r.Attrs) != 0 {
		t.Fatal("note in the record")
	}
}

func TestAttrsSorted(t *testing.T) {
	var a attrs
	for _, k := range []string{"m", "a", "z", "b"} {
		if _, had := a.set(k, []byte(k)); had {
			t.Fatalf("set %q: had", k)
		}
	}
	if old, had := a.set("a", []byte("A")); !had || string(old) != "a" {
		t.Fatalf("replace a: %q %v", old, had)
	}
	if old, had := a.del("m"); !had || string(old) != "m" {
		t.Fatalf("del m: %q %v", old, had)
	}
	if _, had := a.del("m"); had {
		t.Fatal("del m twice")
	}
	var names []string
	for _, x := range a {
		names = append(names, x.name)
	}
	if !slices.Equal(names, []string{"a", "b", "z"}) {
		t.Fatalf("names %v", names)
	}
	if v, ok := a.get("a"); !ok || string(v) != "A" {
		t.Fatalf("get a: %q %v", v, ok)
	}
	b := attrsOf(map[string][]byte{"z": nil, "a": nil, "b": nil})
	if len(b) != 3 || b[0].name != "a" || b[2].name != "z" {
		t.Fatalf("attrsOf %v", b)
	}
}
