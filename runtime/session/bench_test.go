package session

import (
	"context"
	"runtime"
	"strings"
	"testing"
)

// BenchmarkSessionMemory reports the heap a LocalManager needs per session
// holding one 1 KiB string, and the overhead beyond the 1 KiB.
func BenchmarkSessionMemory(b *testing.B) {
	const n = 20000
	value := strings.Repeat("x", 1024)
	for b.Loop() {
		m, err := NewLocal(DefaultConfig())
		if err != nil {
			b.Fatal(err)
		}
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		for range n {
			s, err := m.Create(context.Background())
			if err != nil {
				b.Fatal(err)
			}
			if err := s.Set("v", value); err != nil {
				b.Fatal(err)
			}
			m.RequestCompleted(context.Background(), s)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		per := float64(after.HeapAlloc-before.HeapAlloc) / n
		b.ReportMetric(per, "bytes/session")
		b.ReportMetric(per-1024, "overhead-bytes/session")
		runtime.KeepAlive(m)
	}
}

func BenchmarkSet(b *testing.B) {
	s := New("X", Options{})
	v := map[string]any{"user": "alice", "n": 42, "items": []string{"a", "b"}}
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Set("cart", v); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSetString(b *testing.B) {
	s := New("X", Options{})
	b.ReportAllocs()
	for b.Loop() {
		s.Set("name", "alice")
	}
}

func BenchmarkGet(b *testing.B) {
	s := New("X", Options{})
	s.Set("cart", map[string]any{"user": "alice", "n": 42, "items": []string{"a", "b"}})
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := s.Get("cart"); !ok {
			b.Fatal("missing")
		}
	}
}

func BenchmarkGetAsStruct(b *testing.B) {
	s := New("X", Options{})
	s.Set("cart", cart{Items: []string{"a", "b"}, Count: 2})
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := GetAs[cart](s, "cart"); err != nil {
			b.Fatal(err)
		}
	}
}
