package transporttest

import (
	"context"
	"slices"
	"strconv"
	"testing"
)

// What a port sees change reaches its subscriber as joined (1), left (2)
// and replaced (3), in order: joins, a partition, a heal, a restart under
// the same name, a leave, Close.
func TestSubscribe(t *testing.T) {
	h := NewHub(1)
	nop := func(context.Context, string, []byte) error { return nil }
	a := h.Join("a", nop)
	h.Join("b", nop)
	var got []string
	cancel := a.Subscribe(func(kind int, member string) {
		got = append(got, strconv.Itoa(kind)+member)
		if kind == MemberLeft && slices.Contains(a.Members(), member) {
			t.Errorf("%s still listed when its leave was reported", member)
		}
	})
	h.Join("c", nop)
	h.Partition([]string{"a"}, []string{"b"})
	h.Heal()
	h.Join("c", nop) // c restarted
	h.Leave("b")
	h.Close()
	want := []string{"1b", "1c", "2b", "1b", "3c", "2b"} // a left in Close: it hears nothing more
	if !slices.Equal(got, want) {
		t.Fatalf("events %v, want %v", got, want)
	}
	cancel()
	cancel()
}

func TestSubscribeCancel(t *testing.T) {
	h := newHub(t, 1)
	nop := func(context.Context, string, []byte) error { return nil }
	a := h.Join("a", nop)
	n := 0
	cancel := a.Subscribe(func(int, string) { n++ })
	h.Join("b", nop)
	cancel()
	h.Join("c", nop)
	if n != 1 {
		t.Fatalf("%d calls, want 1", n)
	}
}
