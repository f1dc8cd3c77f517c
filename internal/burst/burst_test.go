package burst

import (
	"fmt"
	"testing"
	"time"
)

func TestLimiter(t *testing.T) {
	l := New(time.Second)
	t0 := time.Unix(1000, 0)
	steps := []struct {
		at         time.Duration
		ok         bool
		suppressed uint64
	}{
		{0, true, 0},
		{10 * time.Millisecond, false, 0},
		{500 * time.Millisecond, false, 0},
		{999 * time.Millisecond, false, 0},
		{time.Second, true, 3},
		{1500 * time.Millisecond, false, 0},
		{5 * time.Second, true, 1},
		{7 * time.Second, true, 0},
	}
	for _, s := range steps {
		ok, n := l.Allow(t0.Add(s.at))
		if ok != s.ok || n != s.suppressed {
			t.Errorf("Allow(+%v) = %v, %d; want %v, %d", s.at, ok, n, s.ok, s.suppressed)
		}
	}
}

func TestLimiterDefaultInterval(t *testing.T) {
	l := New(0)
	t0 := time.Unix(1000, 0)
	if ok, _ := l.Allow(t0); !ok {
		t.Fatal("first event not allowed")
	}
	if ok, _ := l.Allow(t0.Add(DefaultInterval - time.Nanosecond)); ok {
		t.Fatal("second event within the interval allowed")
	}
	if ok, n := l.Allow(t0.Add(DefaultInterval)); !ok || n != 1 {
		t.Fatalf("after the interval: %v, %d; want true, 1", ok, n)
	}
}

func TestLimiterN(t *testing.T) {
	l := NewN(time.Second, 3)
	t0 := time.Unix(1000, 0)
	var got []bool
	for i := range 5 {
		ok, _ := l.Allow(t0.Add(time.Duration(i) * time.Millisecond))
		got = append(got, ok)
	}
	if want := []bool{true, true, true, false, false}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	if ok, n := l.Allow(t0.Add(time.Second)); !ok || n != 2 {
		t.Fatalf("next interval: %v, %d; want true, 2", ok, n)
	}
}
