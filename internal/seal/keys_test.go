package seal

import (
	"bytes"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func mustRing(t testing.TB, keys ...[]byte) *Ring {
	t.Helper()
	r, err := NewRing(keys...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func mustSealer(t testing.TB, r *Ring, p Purpose) *Sealer {
	t.Helper()
	s, err := New(r, p)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// The derived keys of one cluster key differ by purpose, and a message
// sealed for one purpose opens for no other.
func TestDeriveSeparatesPurposes(t *testing.T) {
	k := bytes.Repeat([]byte{3}, 32)
	seen := map[string]Purpose{}
	for _, p := range []Purpose{PurposeHeartbeat, PurposeTransport, PurposeFarm} {
		d := Derive(k, p)
		if len(d) != 32 || bytes.Equal(d, k) {
			t.Fatalf("%v: derived key %x", p, d)
		}
		if q, dup := seen[string(d)]; dup {
			t.Fatalf("%v and %v derive the same key", p, q)
		}
		seen[string(d)] = p
		if !bytes.Equal(d, Derive(k, p)) {
			t.Fatalf("%v: derivation is not deterministic", p)
		}
	}
	// RFC 5869 HKDF-SHA256, pinned so the derivation never changes by accident
	// (a change would split a cluster of mixed versions).
	if got := hex.EncodeToString(Derive(k, PurposeTransport)); got != pinnedTransport {
		t.Errorf("transport key of 0303…03 = %s, want %s", got, pinnedTransport)
	}
	r := mustRing(t, k)
	sealers := map[Purpose]*Sealer{}
	for _, p := range []Purpose{PurposeHeartbeat, PurposeTransport, PurposeFarm} {
		sealers[p] = mustSealer(t, r, p)
	}
	for p, s := range sealers {
		m := s.SealAD(nil, []byte("x"), []byte("ad"))
		for q, o := range sealers {
			_, err := o.OpenAD(nil, m, []byte("ad"))
			if (p == q) != (err == nil) {
				t.Errorf("sealed for %v, opened for %v: %v", p, q, err)
			}
		}
	}
}

const pinnedTransport = "0644f28459a5e7984ee540a0aecb41973ff1f074688b8b80ef4507303df865e4" // python3 hmac, RFC 5869 by hand

func TestKeyIDs(t *testing.T) {
	a, b := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 16)
	if ID(a) == ID(b) || ID(a) != ID(bytes.Clone(a)) {
		t.Fatalf("ids: %s %s", ID(a), ID(b))
	}
	r := mustRing(t, a, b)
	if ids := r.IDs(); len(ids) != 2 || ids[0] != ID(a) || ids[1] != ID(b) || r.SendID() != ID(a) {
		t.Fatalf("ring ids %v send %v", ids, r.SendID())
	}
	s := mustSealer(t, r, PurposeTransport)
	m := s.SealAD(nil, []byte("x"), nil)
	if KeyID(m[:IDSize]) != ID(a) {
		t.Fatalf("sealed with id %x, want the first key's %s", m[:IDSize], ID(a))
	}
	if _, err := NewRing(a, bytes.Clone(a)); !errors.Is(err, ErrKey) {
		t.Errorf("a key given twice: %v", err)
	}
	if _, err := NewRing(); !errors.Is(err, ErrKey) {
		t.Errorf("no key: %v", err)
	}
	if err := r.Set(a, make([]byte, 3)); !errors.Is(err, ErrKey) || r.SendID() != ID(a) || len(r.IDs()) != 2 {
		t.Errorf("bad Set: %v; ring must keep its keys (%v)", err, r.IDs())
	}
}

// A rotation as the README describes it, between two nodes with rings of
// their own: at every step each one opens what the other seals.
func TestRotationWindow(t *testing.T) {
	old, nu := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32)
	ra, rb := mustRing(t, old), mustRing(t, old)
	a, b := mustSealer(t, ra, PurposeTransport), mustSealer(t, rb, PurposeTransport)
	both := func(step string) {
		t.Helper()
		if _, err := b.OpenAD(nil, a.SealAD(nil, []byte(step), nil), nil); err != nil {
			t.Errorf("%s: a→b: %v", step, err)
		}
		if _, err := a.OpenAD(nil, b.SealAD(nil, []byte(step), nil), nil); err != nil {
			t.Errorf("%s: b→a: %v", step, err)
		}
	}
	both("before")
	// 1. every node accepts the new key, still seals with the old one.
	ra.Set(old, nu)
	both("a accepts new")
	rb.Set(old, nu)
	both("both accept new")
	// 2. every node seals with the new key, still accepts the old one.
	ra.Set(nu, old)
	both("a seals new")
	inFlight := b.SealAD(nil, []byte("sealed with old"), nil)
	rb.Set(nu, old)
	both("both seal new")
	// 3. the old key is dropped: what is still sealed with it no longer opens.
	ra.Set(nu)
	rb.Set(nu)
	both("old dropped")
	if _, err := a.OpenAD(nil, inFlight, nil); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("old-key message after the old key was dropped: %v", err)
	}
	// Skipping step 1 is what breaks: a node sealing with a key the other lacks.
	rc := mustRing(t, bytes.Repeat([]byte{9}, 32), nu)
	c := mustSealer(t, rc, PurposeTransport)
	if _, err := a.OpenAD(nil, c.SealAD(nil, []byte("x"), nil), nil); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("unknown sealing key: %v", err)
	}
}

// One Sealer per receiver: a message opened once (on any connection, from
// any goroutine) does not open again.
func TestReplayAcrossUsersOfOneSealer(t *testing.T) {
	r := mustRing(t, testKey)
	send, recv := mustSealer(t, r, PurposeTransport), mustSealer(t, r, PurposeTransport)
	m := send.SealAD(nil, []byte("delta"), []byte("conn-1"))
	if _, err := recv.OpenAD(nil, m, []byte("conn-1")); err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	go func() { _, err := recv.OpenAD(nil, m, []byte("conn-1")); done <- err }()
	if err := <-done; !errors.Is(err, ErrReplay) {
		t.Fatalf("replay from another goroutine: %v", err)
	}
	// A fresh Sealer (a restarted receiver) has an empty cache: what protects
	// it is the associated data binding the receiver's incarnation.
	fresh := mustSealer(t, r, PurposeTransport)
	if _, err := fresh.OpenAD(nil, m, []byte("conn-2")); !errors.Is(err, ErrAuth) {
		t.Fatalf("replay bound to another connection: %v", err)
	}
}

func TestKeyFile(t *testing.T) {
	k1, k2 := NewKey(), NewKey()
	text := FormatKeyFile(k1, k2)
	keys, err := ParseKeyFile(text)
	if err != nil || len(keys) != 2 || !bytes.Equal(keys[0], k1) || !bytes.Equal(keys[1], k2) {
		t.Fatalf("round trip: %v %x", err, keys)
	}
	if !strings.Contains(string(text), "# key id "+ID(k1).String()) {
		t.Errorf("no id comment:\n%s", text)
	}
	bad := []struct{ name, text, want string }{
		{"empty", "", "no key"},
		{"comments only", "# nothing\n\n", "no key"},
		{"not hex", "zz\n", "line 1"},
		{"short", "# c\n0001\n", "line 2"},
		{"duplicate", hex.EncodeToString(k1) + "\n" + hex.EncodeToString(k1) + "\n", "line 1 again"},
		{"too many", strings.Repeat(hex.EncodeToString(k1)+"\n", 1) + func() string {
			var b strings.Builder
			for range MaxFileKeys {
				b.WriteString(hex.EncodeToString(NewKey()) + "\n")
			}
			return b.String()
		}(), "more than"},
		{"too big", strings.Repeat("#", MaxKeyFileSize+1), "at most"},
	}
	for _, tt := range bad {
		_, err := ParseKeyFile([]byte(tt.text))
		if !errors.Is(err, ErrKeyFile) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want ErrKeyFile with %q", tt.name, err, tt.want)
		}
	}

	dir := t.TempDir()
	p := filepath.Join(dir, "cluster.key")
	if err := os.WriteFile(p, text, 0o600); err != nil {
		t.Fatal(err)
	}
	if keys, err := LoadKeyFile(p); err != nil || len(keys) != 2 {
		t.Fatalf("load: %v", err)
	}
	os.Chmod(p, 0o644)
	if _, err := LoadKeyFile(p); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("world-readable key file: %v", err)
	}
	if _, err := LoadKeyFile(filepath.Join(dir, "missing")); !errors.Is(err, ErrKeyFile) || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

func FuzzParseKeyFile(f *testing.F) {
	f.Add(FormatKeyFile(bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 16)))
	f.Add([]byte("# c\n 0x000102030405060708090a0b0c0d0e0f \r\n\n"))
	f.Add([]byte("00 01\n"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		keys, err := ParseKeyFile(b)
		if err != nil {
			if !errors.Is(err, ErrKeyFile) {
				t.Fatalf("error not ErrKeyFile: %v", err)
			}
			return
		}
		if len(keys) == 0 || len(keys) > MaxFileKeys {
			t.Fatalf("%d keys", len(keys))
		}
		if _, err := NewRing(keys...); err != nil {
			t.Fatalf("parsed keys do not make a ring: %v", err)
		}
		again, err := ParseKeyFile(FormatKeyFile(keys...))
		if err != nil || len(again) != len(keys) {
			t.Fatalf("format/parse round trip: %v", err)
		}
	})
}
