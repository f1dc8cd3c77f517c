package cluster

import (
	"bytes"
	"testing"
)

func TestAnnouncementRoundTrip(t *testing.T) {
	a := announcement{kind: announceAsk, startedAt: 1700000000123, id: [16]byte{1, 2, 3}, port: 4001,
		host: "198.18.0.2", name: "node1", url: "http://198.18.0.2:8091"}
	b := a.append(nil)
	got, err := decodeAnnouncement(b)
	if err != nil || got != a {
		t.Fatalf("decode = %+v, %v; want %+v", got, err, a)
	}
	for i := range b { // every truncation fails
		if _, err := decodeAnnouncement(b[:i]); err == nil {
			t.Fatalf("truncated to %d bytes decoded", i)
		}
	}
	bad := [][]byte{
		append([]byte{2}, b[1:]...),                                                // version
		append([]byte{1, 9}, b[2:]...),                                             // kind
		append(bytes.Clone(b), 0),                                                  // trailing byte
		announcement{kind: 1, port: 1, host: "x", name: "n"}.append(nil),           // host not an IP
		announcement{kind: 1, port: 1, host: "127.0.0.1", name: "a b"}.append(nil), // name
		announcement{kind: 1, port: 0, host: "127.0.0.1", name: "n"}.append(nil),   // port
	}
	for i, p := range bad {
		if _, err := decodeAnnouncement(p); err == nil {
			t.Errorf("bad[%d] decoded", i)
		}
	}
}

func FuzzAnnouncement(f *testing.F) {
	f.Add(announcement{kind: announceAsk, startedAt: 1, port: 4000, host: "127.0.0.1", name: "a"}.append(nil))
	f.Add(announcement{kind: announceReply, startedAt: -1, port: 65535, host: "::1", name: "node-2",
		url: "http://[::1]:8080"}.append(nil))
	f.Add([]byte{1, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := decodeAnnouncement(b)
		if err != nil {
			return
		}
		if again := a.append(nil); !bytes.Equal(again, b) {
			t.Fatalf("re-encoding differs: %x vs %x", again, b)
		}
	})
}
