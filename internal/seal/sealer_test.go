package seal

import (
	"bytes"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/gomcat/gomcat/internal/testkit"
)

var testKey = bytes.Repeat([]byte{7}, 32)

func newTest(t testing.TB, key []byte, c Config) *Sealer {
	t.Helper()
	r, err := NewRing(key)
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewConfig(r, PurposeTransport, c)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (s *Sealer) Seal(dst, pt []byte) []byte         { return s.SealAD(dst, pt, nil) }
func (s *Sealer) Open(dst, b []byte) ([]byte, error) { return s.OpenAD(dst, b, nil) }

func TestRoundTrip(t *testing.T) {
	for _, n := range []int{16, 24, 32} {
		s := newTest(t, bytes.Repeat([]byte{1}, n), Config{})
		for _, msg := range [][]byte{nil, []byte("x"), bytes.Repeat([]byte("heartbeat"), 1000)} {
			sealed := s.Seal([]byte("pre"), msg)
			if !bytes.HasPrefix(sealed, []byte("pre")) || len(sealed) != 3+len(msg)+Overhead {
				t.Fatalf("key %d: bad sealed length %d", n, len(sealed))
			}
			got, err := s.Open([]byte("out:"), sealed[3:])
			if err != nil {
				t.Fatalf("key %d: %v", n, err)
			}
			if !bytes.Equal(got, append([]byte("out:"), msg...)) {
				t.Fatalf("key %d: got %q", n, got)
			}
		}
	}
}

func TestOpenRejects(t *testing.T) {
	s := newTest(t, testKey, Config{})
	other := newTest(t, bytes.Repeat([]byte{8}, 32), Config{})
	good := s.SealAD(nil, []byte("hello"), []byte("gomcat-mcast"))
	flip := bytes.Clone(good)
	flip[len(flip)-1] ^= 1
	tests := []struct {
		name   string
		s      *Sealer
		sealed []byte
		ad     string
		want   error
	}{
		{"empty", s, nil, "gomcat-mcast", ErrAuth},
		{"short", s, good[:Overhead-1], "gomcat-mcast", ErrAuth},
		{"truncated", s, good[:len(good)-1], "gomcat-mcast", ErrAuth},
		{"tampered", s, flip, "gomcat-mcast", ErrAuth},
		{"wrong key", other, good, "gomcat-mcast", ErrUnknownKey},
		{"wrong ad", s, good, "gomcat-transport", ErrAuth},
		{"no ad", s, good, "", ErrAuth},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.s.OpenAD(nil, tt.sealed, []byte(tt.ad))
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
		})
	}
	if _, err := s.OpenAD(nil, good, []byte("gomcat-mcast")); err != nil {
		t.Fatalf("good message after rejects: %v", err)
	}
}

func TestStale(t *testing.T) {
	clk := testkit.NewClock(time.UnixMilli(1_700_000_000_000))
	s := newTest(t, testKey, Config{Now: clk.Now, Window: 10 * time.Second})
	old := s.Seal(nil, []byte("a"))
	edge := s.Seal(nil, []byte("b"))
	clk.Add(-11 * time.Second)
	future := s.Seal(nil, []byte("c"))
	clk.Add(21 * time.Second) // 10 s after old/edge, 21 s after future
	if _, err := s.Open(nil, edge); err != nil {
		t.Fatalf("exactly at the window edge: %v", err)
	}
	clk.Add(time.Millisecond)
	if _, err := s.Open(nil, old); !errors.Is(err, ErrStale) {
		t.Fatalf("old: %v", err)
	}
	clk.Add(-32*time.Second - time.Millisecond) // future's stamp is now 11 s ahead
	if _, err := s.Open(nil, future); !errors.Is(err, ErrStale) {
		t.Fatalf("future: %v", err)
	}
}

func TestReplay(t *testing.T) {
	clk := testkit.NewClock(time.UnixMilli(1_700_000_000_000))
	s := newTest(t, testKey, Config{Now: clk.Now})
	m := s.Seal(nil, []byte("once"))
	if _, err := s.Open(nil, m); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Open(nil, m); !errors.Is(err, ErrReplay) {
		t.Fatalf("second open: %v", err)
	}
	clk.Add(11 * time.Second)
	if _, err := s.Open(nil, m); !errors.Is(err, ErrStale) {
		t.Fatalf("after window: %v", err)
	}
}

func TestReplayCacheBounded(t *testing.T) {
	clk := testkit.NewClock(time.UnixMilli(1_700_000_000_000))
	s := newTest(t, testKey, Config{Now: clk.Now, ReplayEntries: 4})
	var msgs [][]byte
	for range 6 {
		msgs = append(msgs, s.Seal(nil, []byte("m")))
		clk.Add(time.Millisecond)
	}
	for i, m := range msgs[:5] {
		if _, err := s.Open(nil, m); err != nil {
			t.Fatalf("msg %d: %v", i, err)
		}
	}
	if n := len(s.replay.byTime); n != 4 || len(s.replay.seen) != 4 {
		t.Fatalf("cache holds %d/%d entries, want 4", n, len(s.replay.seen))
	}
	// msgs[0] was evicted: its nonce is forgotten but its timestamp is at the floor.
	if _, err := s.Open(nil, msgs[0]); !errors.Is(err, ErrReplay) {
		t.Fatalf("evicted replay: %v", err)
	}
	if _, err := s.Open(nil, msgs[5]); err != nil {
		t.Fatalf("newer message: %v", err)
	}
	// Entries leave the cache once they are older than the window.
	clk.Add(20 * time.Second)
	fresh := s.Seal(nil, []byte("later"))
	if _, err := s.Open(nil, fresh); err != nil {
		t.Fatal(err)
	}
	if n := len(s.replay.byTime); n != 1 {
		t.Fatalf("cache holds %d entries after the window passed, want 1", n)
	}
}

func TestConcurrent(t *testing.T) {
	s := newTest(t, testKey, Config{})
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			for range 200 {
				if _, err := s.Open(nil, s.Seal(nil, []byte("concurrent"))); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func TestKeys(t *testing.T) {
	tests := []struct {
		in   string
		n    int
		fail bool
	}{
		{"000102030405060708090a0b0c0d0e0f", 16, false},
		{"0x000102030405060708090A0B0C0D0E0F1011121314151617", 24, false},
		{" 00010203 04050607 08090a0b 0c0d0e0f 00010203 04050607 08090a0b 0c0d0e0f ", 32, false},
		{"0001", 0, true},
		{"zz0102030405060708090a0b0c0d0e0f", 0, true},
		{"", 0, true},
	}
	for _, tt := range tests {
		k, err := ParseKey(tt.in)
		if tt.fail {
			if !errors.Is(err, ErrKey) {
				t.Errorf("ParseKey(%q) = %v, want ErrKey", tt.in, err)
			}
			continue
		}
		if err != nil || len(k) != tt.n {
			t.Errorf("ParseKey(%q) = %d bytes, %v", tt.in, len(k), err)
		}
	}
	if _, err := NewRing(make([]byte, 15)); !errors.Is(err, ErrKey) {
		t.Errorf("NewRing(15 bytes) = %v", err)
	}
	r, _ := NewRing(testKey)
	if _, err := NewConfig(r, PurposeTransport, Config{Window: -1}); !errors.Is(err, ErrConfig) {
		t.Errorf("negative window = %v", err)
	}
	if _, err := New(r, 0); !errors.Is(err, ErrConfig) {
		t.Errorf("purpose 0 = %v", err)
	}
}

func FuzzOpen(f *testing.F) {
	clk := testkit.NewClock(time.UnixMilli(1_700_000_000_000))
	s := newTest(f, testKey, Config{Now: clk.Now, ReplayEntries: 64})
	f.Add(s.Seal(nil, []byte("seed")), []byte(nil))
	f.Add(s.SealAD(nil, []byte("heartbeat"), []byte("gomcat-mcast")), []byte("gomcat-mcast"))
	f.Add([]byte{}, []byte{})
	f.Fuzz(func(t *testing.T, sealed, ad []byte) {
		pt, err := s.OpenAD(nil, sealed, ad)
		if err == nil && len(pt) != len(sealed)-Overhead {
			t.Fatalf("plaintext %d bytes from %d sealed", len(pt), len(sealed))
		}
	})
}

func BenchmarkSeal(b *testing.B) {
	s := newTest(b, testKey, Config{})
	msg := make([]byte, 200)
	buf := make([]byte, 0, 512)
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		buf = s.Seal(buf[:0], msg)
	}
}

func BenchmarkOpen(b *testing.B) {
	s := newTest(b, testKey, Config{})
	msg := make([]byte, 200)
	sealed := make([][]byte, 4096)
	for i := range sealed {
		sealed[i] = s.Seal(nil, msg)
	}
	b.SetBytes(int64(len(msg)))
	i := 0
	for b.Loop() {
		if i == len(sealed) { // a fresh cache per round so every Open succeeds
			b.StopTimer()
			s.replay = newReplayCache(8192)
			i = 0
			b.StartTimer()
		}
		if _, err := s.Open(nil, sealed[i]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
