package mcast

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net"
	"testing"
)

func sampleHeartbeat() Heartbeat {
	return Heartbeat{
		Alive: 1234, Port: 4001, SecurePort: -1, UDPPort: -1,
		Host:     net.IPv4(127, 0, 0, 1),
		UniqueID: [16]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
	}
}

func TestHeartbeatLayout(t *testing.T) {
	h := sampleHeartbeat()
	b, err := h.AppendTo(nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != 77 || h.Size() != 77 {
		t.Fatalf("empty IPv4 heartbeat is %d bytes (Size %d), want 77", len(b), h.Size())
	}
	want := []byte("TRIBES-B\x01\x00")
	want = binary.BigEndian.AppendUint32(want, 53) // body = 77 - 24
	want = binary.BigEndian.AppendUint64(want, 1234)
	want = binary.BigEndian.AppendUint32(want, 4001)
	want = append(want, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff) // securePort, udpPort -1
	want = append(want, 4, 127, 0, 0, 1)
	want = append(want, 0, 0, 0, 0, 0, 0, 0, 0) // command, domain lengths
	want = append(want, h.UniqueID[:]...)
	want = append(want, 0, 0, 0, 0) // payload length
	want = append(want, "TRIBES-E\x01\x00"...)
	if !bytes.Equal(b, want) {
		t.Fatalf("layout\n got %x\nwant %x", b, want)
	}

	h.Command = ShutdownCommand
	if b, _ := h.AppendTo(nil); len(b) != 86 {
		t.Fatalf("shutdown heartbeat is %d bytes, want 86 (Tomcat)", len(b))
	}
}

func TestHeartbeatRoundTrip(t *testing.T) {
	payload, err := EncodePayload(nil, Payload{Protocol: 1, Name: "node1", HTTPURL: "http://198.18.0.2:8091", StartedAt: 1700000000000})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		h    Heartbeat
	}{
		{"empty", sampleHeartbeat()},
		{"ipv6", func() Heartbeat { h := sampleHeartbeat(); h.Host = net.ParseIP("fd00::2"); return h }()},
		{"full", func() Heartbeat {
			h := sampleHeartbeat()
			h.Command, h.Domain, h.Payload, h.Alive = ShutdownCommand, []byte("prod"), payload, 1<<40
			return h
		}()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := tt.h.AppendTo([]byte("junk"))
			if err != nil {
				t.Fatal(err)
			}
			got, err := DecodeHeartbeat(b[4:])
			if err != nil {
				t.Fatal(err)
			}
			if got.Alive != tt.h.Alive || got.Port != tt.h.Port || got.SecurePort != -1 || got.UDPPort != -1 ||
				!got.Host.Equal(tt.h.Host) || !bytes.Equal(got.Command, tt.h.Command) ||
				!bytes.Equal(got.Domain, tt.h.Domain) || got.UniqueID != tt.h.UniqueID || !bytes.Equal(got.Payload, tt.h.Payload) {
				t.Fatalf("round trip: got %+v want %+v", got, tt.h)
			}
			if got.IsShutdown() != bytes.Equal(tt.h.Command, ShutdownCommand) {
				t.Fatal("IsShutdown mismatch")
			}
		})
	}
}

func TestDecodeHeartbeatRejects(t *testing.T) {
	h := sampleHeartbeat()
	h.Domain = []byte("prod")
	good, _ := h.AppendTo(nil)
	mut := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(good)) }
	domLenOff := 35 + 4 + 4 // hostLength at 34, host 4 bytes, command length 4 bytes
	tests := []struct {
		name string
		b    []byte
		want error
	}{
		{"empty", nil, ErrTruncated},
		{"short", good[:40], ErrTruncated},
		{"no begin", mut(func(b []byte) []byte { b[0] = 'X'; return b }), ErrMalformed},
		{"no end", mut(func(b []byte) []byte { b[len(b)-3] = 'X'; return b }), ErrMalformed},
		{"body too long", mut(func(b []byte) []byte { binary.BigEndian.PutUint32(b[10:], 1<<30); return b }), ErrMalformed},
		{"body negative", mut(func(b []byte) []byte { binary.BigEndian.PutUint32(b[10:], 0xffffffff); return b }), ErrMalformed},
		{"trailing", append(bytes.Clone(good), 0), ErrMalformed},
		{"host length 5", mut(func(b []byte) []byte { b[34] = 5; return b }), ErrMalformed},
		{"host length negative", mut(func(b []byte) []byte { b[34] = 0x80; return b }), ErrMalformed},
		{"domain length huge", mut(func(b []byte) []byte { binary.BigEndian.PutUint32(b[domLenOff:], 0x7fffffff); return b }), ErrTruncated},
		{"domain length negative", mut(func(b []byte) []byte { binary.BigEndian.PutUint32(b[domLenOff:], 0x80000000); return b }), ErrTruncated},
		{"domain length short", mut(func(b []byte) []byte { binary.BigEndian.PutUint32(b[domLenOff:], 3); return b }), ErrTruncated},
		{"port out of range", mut(func(b []byte) []byte { binary.BigEndian.PutUint32(b[22:], 70000); return b }), ErrMalformed},
		{"too big", make([]byte, MaxPacket+1), ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := DecodeHeartbeat(tt.b); !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
		})
	}
}

func TestAppendRejects(t *testing.T) {
	h := sampleHeartbeat()
	h.Host = nil
	if _, err := h.AppendTo(nil); !errors.Is(err, ErrMalformed) {
		t.Fatalf("nil host: %v", err)
	}
	h = sampleHeartbeat()
	h.Payload = make([]byte, MaxPacket)
	if _, err := h.AppendTo(nil); !errors.Is(err, ErrMalformed) {
		t.Fatalf("oversized: %v", err)
	}
}

func TestPayload(t *testing.T) {
	p := Payload{Protocol: ProtocolVersion, Name: "node-1.a_b", HTTPURL: "http://198.18.0.2:8091", StartedAt: 1700000000123, Flags: 0}
	b, err := EncodePayload(nil, p)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodePayload(b)
	if err != nil || got != p {
		t.Fatalf("round trip: %+v, %v", got, err)
	}

	// A later format with extra keys still decodes (append-only CBOR map).
	fb, _ := encMode.Marshal(struct {
		Protocol  uint64 `cbor:"1,keyasint"`
		Name      string `cbor:"2,keyasint"`
		StartedAt int64  `cbor:"4,keyasint"`
		Zone      string `cbor:"99,keyasint"`
	}{2, "node2", 5, "eu"})
	got, err = DecodePayload(append([]byte("GOMCAT\x02"), fb...))
	if err != nil || got.Name != "node2" || got.Protocol != 2 || got.StartedAt != 5 {
		t.Fatalf("future format: %+v, %v", got, err)
	}

	tests := []struct {
		name string
		b    []byte
		want error
	}{
		{"empty (Tomcat)", nil, ErrForeign},
		{"tomcat bytes", []byte{1, 2, 3}, ErrForeign},
		{"format 0", append([]byte("GOMCAT\x00"), b[7:]...), ErrPayload},
		{"no format", []byte("GOMCAT"), ErrPayload},
		{"not cbor", []byte("GOMCAT\x01\xff\xff"), ErrPayload},
		{"trailing", append(bytes.Clone(b), 0), ErrPayload},
		{"bad name", mustPayload(t, Payload{Name: "a b"}), ErrPayload},
		{"no name", mustPayload(t, Payload{}), ErrPayload},
		{"bad url", mustPayload(t, Payload{Name: "n", HTTPURL: "http://x\n"}), ErrPayload},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := DecodePayload(tt.b); !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
		})
	}
}

func mustPayload(t *testing.T, p Payload) []byte {
	t.Helper()
	b, err := EncodePayload(nil, p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func FuzzDecodeHeartbeat(f *testing.F) {
	h := sampleHeartbeat()
	b, _ := h.AppendTo(nil)
	f.Add(b)
	h.Domain, h.Command, h.Host = []byte("prod"), ShutdownCommand, net.ParseIP("fd00::1")
	h.Payload, _ = EncodePayload(nil, Payload{Protocol: 1, Name: "n1", StartedAt: 1})
	b, _ = h.AppendTo(nil)
	f.Add(b)
	f.Add([]byte("TRIBES-B\x01\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := DecodeHeartbeat(b)
		if err != nil {
			return
		}
		again, err := h.AppendTo(nil)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		// Byte-exact except an IPv4-mapped IPv6 host, which re-encodes as IPv4 (as Java would).
		if len(h.Host) == 16 && h.Host.To4() != nil {
			return
		}
		if !bytes.Equal(again, b) {
			t.Fatalf("re-encode differs:\n%x\n%x", again, b)
		}
	})
}

func FuzzDecodePayload(f *testing.F) {
	b, _ := EncodePayload(nil, Payload{Protocol: 1, Name: "node1", HTTPURL: "http://127.0.0.1:8091", StartedAt: 1700000000000})
	f.Add(b)
	f.Add([]byte("GOMCAT\x01\xa0"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := DecodePayload(b)
		if err != nil {
			return
		}
		if validName(p.Name) != nil || validURL(p.HTTPURL) != nil {
			t.Fatalf("accepted invalid payload %+v", p)
		}
		if _, err := EncodePayload(nil, p); err != nil {
			t.Fatalf("re-encode: %v", err)
		}
	})
}

func BenchmarkEncodeHeartbeat(b *testing.B) {
	s := benchService(b, nil)
	var n int
	for b.Loop() {
		p, err := s.heartbeat(0)
		if err != nil {
			b.Fatal(err)
		}
		n = len(p)
	}
	b.ReportMetric(float64(n), "bytes/heartbeat")
}

func BenchmarkEncodeHeartbeatSealed(b *testing.B) {
	s := benchService(b, bytes.Repeat([]byte{1}, 32))
	var n int
	for b.Loop() {
		p, _ := s.heartbeat(0)
		n = len(p)
	}
	b.ReportMetric(float64(n), "bytes/heartbeat")
}

func BenchmarkDecodeHeartbeat(b *testing.B) {
	s := benchService(b, nil)
	p, _ := s.heartbeat(0)
	b.SetBytes(int64(len(p)))
	for b.Loop() {
		h, err := DecodeHeartbeat(p)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := DecodePayload(h.Payload); err != nil {
			b.Fatal(err)
		}
	}
}

func benchService(b *testing.B, key []byte) *Service {
	cfg := DefaultConfig()
	cfg.Key = key
	cfg.Local = LocalMember{Name: "node1", Host: "198.18.0.2", Port: 4001, HTTPURL: "http://198.18.0.2:8091"}
	s, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	return s
}
