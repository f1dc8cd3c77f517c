package transport

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"
	"testing/iotest"
)

func validFrames() [][]byte {
	envs := []envelope{
		{typ: typeData, ch: ChannelSessions, opts: OptAsync, id: 1, payload: []byte("hello")},
		{typ: typeData, ch: ChannelFarm, opts: OptUseAck | OptSync, id: 1 << 40, payload: bytes.Repeat([]byte{0xab}, 1000)},
		{typ: typeAck, id: 7},
		{typ: typeFailAck, id: 8, payload: []byte("boom")},
		{typ: typePing, opts: OptUseAck, id: 9},
		{typ: typeHello, payload: appendHello(nil, hello{peer: Peer{Name: "node1", UniqueID: [16]byte{1, 2, 3}}, epoch: 42})},
	}
	var out [][]byte
	for i := range envs {
		out = append(out, appendFrame(nil, appendEnvelope(nil, &envs[i])))
	}
	return out
}

func TestFrameRoundTrip(t *testing.T) {
	e := envelope{typ: typeData, ch: ChannelProbe, opts: 6, id: 123456789, payload: []byte("payload")}
	f := appendFrame(nil, appendEnvelope(nil, &e))
	if len(f) != frameOverhead+envHeaderLen+len(e.payload) {
		t.Fatalf("frame is %d bytes", len(f))
	}
	body, n, err := decodeFrame(append(f, "next"...), 1<<20)
	if err != nil || n != len(f) {
		t.Fatalf("decodeFrame: n=%d err=%v", n, err)
	}
	got, err := decodeEnvelope(body)
	if err != nil {
		t.Fatal(err)
	}
	if got.typ != e.typ || got.ch != e.ch || got.opts != e.opts || got.id != e.id || string(got.payload) != "payload" {
		t.Fatalf("got %+v", got)
	}
	// The same through the incremental reader, one byte at a time.
	r := bufio.NewReaderSize(iotest.OneByteReader(bytes.NewReader(append(f, f...))), 16)
	var buf []byte
	for range 2 {
		if buf, err = readFrame(r, buf, 1<<20, nil); err != nil || !bytes.Equal(buf, body) {
			t.Fatalf("readFrame: %q %v", buf, err)
		}
	}
	if _, err := readFrame(r, buf, 1<<20, nil); err != io.EOF {
		t.Fatalf("at end: %v", err)
	}
	// And through the receiver's frameReader, with a tiny buffer that
	// must compact and grow.
	fr := newFrameReader(iotest.OneByteReader(bytes.NewReader(append(f, f...))), nil, 0, 1<<20)
	fr.buf = make([]byte, 8)
	for range 2 {
		if b, err := fr.next(true); err != nil || !bytes.Equal(b, body) {
			t.Fatalf("frameReader: %q %v", b, err)
		}
	}
	if _, err := fr.next(true); err != io.EOF {
		t.Fatalf("frameReader at end: %v", err)
	}
	h, err := decodeHello(appendHello(nil, hello{peer: Peer{Name: "n", UniqueID: [16]byte{9}}, epoch: 5}))
	if err != nil || h.peer.Name != "n" || h.peer.UniqueID[0] != 9 || h.epoch != 5 {
		t.Fatalf("hello %+v %v", h, err)
	}
}

func TestFrameMalformed(t *testing.T) {
	good := validFrames()[0]
	huge := append([]byte(startMarker), 0x7f, 0xff, 0xff, 0xff)
	neg := append([]byte(startMarker), 0xff, 0xff, 0xff, 0xff)
	badEnd := bytes.Clone(good)
	badEnd[len(badEnd)-1] = 'X'
	tests := []struct {
		name      string
		in        []byte
		truncated bool
	}{
		{"bad start marker", append([]byte("XLT2002"), good[7:]...), false},
		{"garbage", []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), false},
		{"huge length", huge, false},
		{"negative length", neg, false},
		{"zero length", append([]byte(startMarker), 0, 0, 0, 0), false},
		{"bad end marker", badEnd, false},
		{"truncated body", good[:len(good)-9], true},
		{"truncated header", good[:9], true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := readFrame(bufio.NewReader(bytes.NewReader(tt.in)), nil, 1<<20, nil)
			_, ferr := newFrameReader(bytes.NewReader(tt.in), nil, 0, 1<<20).next(true)
			for _, err := range []error{err, ferr} {
				var pe *ProtocolError
				if !errors.As(err, &pe) {
					t.Fatalf("got %v, want *ProtocolError", err)
				}
				if got := errors.Is(err, io.ErrUnexpectedEOF); got != tt.truncated {
					t.Fatalf("truncated=%v: %v", got, err)
				}
			}
		})
	}
	for _, b := range [][]byte{{}, {envVersion}, append([]byte{2, 2, 1, 0, 0}, make([]byte, 8)...), append([]byte{1, 99, 1, 0, 0}, make([]byte, 8)...)} {
		if _, err := decodeEnvelope(b); err == nil {
			t.Fatalf("decodeEnvelope(%x) accepted", b)
		}
	}
}

// A frame claiming the maximum length must not allocate it before the
// bytes arrive.
func TestReadFrameGrowsWithData(t *testing.T) {
	const claimed = 16 << 20
	in := binary.BigEndian.AppendUint32([]byte(startMarker), claimed)
	in = append(in, make([]byte, 1000)...)
	buf, err := readFrame(bufio.NewReader(bytes.NewReader(in)), nil, claimed, nil)
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("got %v", err)
	}
	if cap(buf) > initialBodyCap {
		t.Fatalf("allocated %d bytes for 1000 received", cap(buf))
	}
	// The frameReader grows at most to twice what arrived.
	in = append(in, make([]byte, 3*readBufSize)...)
	fr := newFrameReader(bytes.NewReader(in), nil, 0, claimed)
	if _, err := fr.next(true); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("got %v", err)
	}
	if len(fr.buf) > 2*len(in) {
		t.Fatalf("frameReader allocated %d bytes for %d received", len(fr.buf), len(in))
	}
}

func FuzzDecodeFrame(f *testing.F) {
	for _, fr := range validFrames() {
		f.Add(fr)
		f.Add(append(bytes.Clone(fr), fr...))
	}
	f.Add([]byte("FLT2002\x7f\xff\xff\xffxx"))
	f.Fuzz(func(t *testing.T, b []byte) {
		const maxBody = 1 << 16
		body, n, err := decodeFrame(b, maxBody)
		r := bufio.NewReader(bytes.NewReader(b))
		rbody, rerr := readFrame(r, nil, maxBody, nil)
		fr := newFrameReader(bytes.NewReader(b), nil, 0, maxBody)
		fr.buf = make([]byte, 64) // small: exercise compaction and growth
		fbody, ferr := fr.next(true)
		if (ferr == nil) != (rerr == nil) || !bytes.Equal(fbody, rbody) {
			t.Fatalf("frameReader disagrees with readFrame: %v / %v", ferr, rerr)
		}
		if err == nil {
			if len(body) > maxBody || n != len(body)+frameOverhead {
				t.Fatalf("body %d n %d", len(body), n)
			}
			if !bytes.Equal(appendFrame(nil, body), b[:n]) {
				t.Fatal("re-encoding differs")
			}
			if rerr != nil || !bytes.Equal(rbody, body) {
				t.Fatalf("readFrame disagrees: %v", rerr)
			}
			_, _ = decodeEnvelope(body)
		} else if rerr == nil {
			t.Fatalf("readFrame accepted what decodeFrame refused: %v", err)
		}
	})
}

func FuzzDecodeEnvelope(f *testing.F) {
	for _, fr := range validFrames() {
		body, _, _ := decodeFrame(fr, 1<<20)
		f.Add(body)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := decodeEnvelope(b)
		if err != nil {
			return
		}
		if got := appendEnvelope(nil, &e); !bytes.Equal(got, b) {
			t.Fatalf("re-encoding differs: %x vs %x", got, b)
		}
		if e.typ == typeHello {
			if h, err := decodeHello(e.payload); err == nil {
				if got := appendHello(nil, h); !bytes.Equal(got, e.payload) {
					t.Fatal("hello re-encoding differs")
				}
			}
		}
	})
}
