package transport

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"strconv"
)

// Wire format (network byte order):
//
//	frame    = "FLT2002" | int32 length | body (length bytes) | "TLF2003"
//	body     = envelope, or a sealed body (seal.go) when a cluster key is set
//	envelope = version u8 | type u8 | channel u8 | options u16 | id u64 | payload
//	hello    = nameLen u8 | name | uniqueID [16] | epoch u64   (payload of typeHello)
//
// The markers are Tribes' (XByteBuffer), so a capture looks familiar; the
// envelope is Gomcat's own. A fixed 13-byte header measured cheaper to
// encode and decode than CBOR and cannot allocate on decode.

const (
	startMarker = "FLT2002"
	endMarker   = "TLF2003"

	frameHeaderLen = len(startMarker) + 4            // marker + length
	frameOverhead  = frameHeaderLen + len(endMarker) // 18 bytes
	envHeaderLen   = 1 + 1 + 1 + 2 + 8               // 13 bytes
	envIDOffset    = 5                               // offset of the id in the envelope
	minFrameSize   = 256                             // smallest allowed MaxFrameSize
	maxFrameLimit  = 1 << 30                         // largest allowed MaxFrameSize
	maxNameLen     = 255                             // hello name length fits a byte
	helloLen       = 1 + 16 + 8                      // hello payload without the name
	initialBodyCap = 64 << 10                        // first read chunk of a frame body
	maxFailText    = 4 << 10                         // fail-ack error text is cut here
	envVersion     = 1                               // current envelope version
)

// frameType is the kind of an envelope. Wire values: append only.
type frameType uint8

const (
	typeHello   frameType = 1 // first frame of a connection: the sender's identity
	typeData    frameType = 2 // a message for the handler
	typeAck     frameType = 3 // every message up to id was received (and processed if sync)
	typeFailAck frameType = 4 // message id failed in the handler; payload is the error text
	typePing    frameType = 5 // liveness probe; acked, never handed to the handler
)

// envelope is a decoded frame body.
type envelope struct {
	typ     frameType
	ch      Channel
	opts    uint16
	id      uint64
	payload []byte // aliases the decoded buffer
}

// appendEnvelope appends the encoding of e to dst.
func appendEnvelope(dst []byte, e *envelope) []byte {
	dst = append(dst, envVersion, byte(e.typ), byte(e.ch), byte(e.opts>>8), byte(e.opts))
	dst = binary.BigEndian.AppendUint64(dst, e.id)
	return append(dst, e.payload...)
}

// decodeEnvelope decodes b; the payload aliases b.
func decodeEnvelope(b []byte) (envelope, error) {
	if len(b) < envHeaderLen {
		return envelope{}, &ProtocolError{Reason: "short envelope"}
	}
	if b[0] != envVersion {
		return envelope{}, &ProtocolError{Reason: "unsupported envelope version " + strconv.Itoa(int(b[0]))}
	}
	e := envelope{
		typ:     frameType(b[1]),
		ch:      Channel(b[2]),
		opts:    binary.BigEndian.Uint16(b[3:5]),
		id:      binary.BigEndian.Uint64(b[5:13]),
		payload: b[envHeaderLen:],
	}
	if e.typ < typeHello || e.typ > typePing {
		return envelope{}, &ProtocolError{Reason: "unknown frame type " + strconv.Itoa(int(e.typ))}
	}
	return e, nil
}

// hello is the payload of the first frame on a connection.
type hello struct {
	peer  Peer
	epoch uint64 // random per Sender instance: message ids are unique within it
}

func appendHello(dst []byte, h hello) []byte {
	dst = append(dst, byte(len(h.peer.Name)))
	dst = append(dst, h.peer.Name...)
	dst = append(dst, h.peer.UniqueID[:]...)
	return binary.BigEndian.AppendUint64(dst, h.epoch)
}

func decodeHello(b []byte) (hello, error) {
	if len(b) < helloLen || len(b) != helloLen+int(b[0]) {
		return hello{}, &ProtocolError{Reason: "malformed hello"}
	}
	n := int(b[0])
	var h hello
	h.peer.Name = string(b[1 : 1+n])
	copy(h.peer.UniqueID[:], b[1+n:1+n+16])
	h.epoch = binary.BigEndian.Uint64(b[1+n+16:])
	return h, nil
}

// beginFrame appends a frame header with a zero length to dst. The body
// is appended by the caller, then endFrame completes the frame.
func beginFrame(dst []byte) []byte {
	return append(dst, startMarker+"\x00\x00\x00\x00"...)
}

// endFrame sets the length of the frame starting at start and appends the
// end marker.
func endFrame(dst []byte, start int) []byte {
	binary.BigEndian.PutUint32(dst[start+len(startMarker):], uint32(len(dst)-start-frameHeaderLen))
	return append(dst, endMarker...)
}

// appendFrame appends body framed with Tribes' markers.
func appendFrame(dst, body []byte) []byte {
	start := len(dst)
	dst = beginFrame(dst)
	dst = append(dst, body...)
	return endFrame(dst, start)
}

// errShortFrame is returned by decodeFrame when b holds only part of a frame.
var errShortFrame = errors.New("transport: short frame")

// decodeFrame decodes the frame at the start of b. It returns the body
// (aliasing b) and the number of bytes the frame used, or errShortFrame
// when b ends before the frame does, or a *ProtocolError.
func decodeFrame(b []byte, maxBody int) (body []byte, n int, err error) {
	if len(b) < frameHeaderLen {
		if !bytes.HasPrefix([]byte(startMarker), b[:min(len(b), len(startMarker))]) {
			return nil, 0, &ProtocolError{Reason: "missing start marker"}
		}
		return nil, 0, errShortFrame
	}
	size, err := frameLength(b[:frameHeaderLen], maxBody)
	if err != nil {
		return nil, 0, err
	}
	end := frameHeaderLen + size
	if len(b) < end+len(endMarker) {
		return nil, 0, errShortFrame
	}
	if string(b[end:end+len(endMarker)]) != endMarker {
		return nil, 0, &ProtocolError{Reason: "missing end marker"}
	}
	return b[frameHeaderLen:end], end + len(endMarker), nil
}

// frameLength checks a frame header and returns the body length.
func frameLength(hdr []byte, maxBody int) (int, error) {
	if string(hdr[:len(startMarker)]) != startMarker {
		return 0, &ProtocolError{Reason: "missing start marker"}
	}
	n := int32(binary.BigEndian.Uint32(hdr[len(startMarker):]))
	if n <= 0 {
		return 0, &ProtocolError{Reason: "bad frame length " + strconv.Itoa(int(n))}
	}
	if int(n) > maxBody {
		return 0, &ProtocolError{Reason: "frame length " + strconv.Itoa(int(n)) + " exceeds maxFrameSize " + strconv.Itoa(maxBody)}
	}
	return int(n), nil
}

// readFrame reads one frame from r and returns its body, stored in buf
// (grown as needed; the result aliases it). The claimed length is never
// allocated up front: the buffer grows with the bytes that actually
// arrive, at most doubling. io.EOF means the stream ended cleanly between
// frames; armed, if not nil, is called once the first byte of a frame
// is there (the caller starts its mid-frame read timeout).
func readFrame(r *bufio.Reader, buf []byte, maxBody int, armed func()) ([]byte, error) {
	if _, err := r.Peek(1); err != nil {
		return buf[:0], err
	}
	if armed != nil {
		armed()
	}
	hdr, err := r.Peek(frameHeaderLen)
	if err != nil {
		if n := min(len(hdr), len(startMarker)); string(hdr[:n]) != startMarker[:n] {
			return buf[:0], &ProtocolError{Reason: "missing start marker"}
		}
		return buf[:0], truncated(err)
	}
	n, err := frameLength(hdr, maxBody)
	if err != nil {
		return buf[:0], err
	}
	_, _ = r.Discard(frameHeaderLen) // cannot fail: the bytes were peeked
	buf = buf[:0]
	for len(buf) < n {
		if len(buf) == cap(buf) {
			c := max(2*cap(buf), min(n, initialBodyCap))
			nb := make([]byte, len(buf), min(c, n))
			copy(nb, buf)
			buf = nb
		}
		k, err := io.ReadFull(r, buf[len(buf):min(n, cap(buf))])
		buf = buf[:len(buf)+k]
		if err != nil {
			return buf[:0], truncated(err)
		}
	}
	tr, err := r.Peek(len(endMarker))
	if err != nil {
		return buf[:0], truncated(err)
	}
	if string(tr) != endMarker {
		return buf[:0], &ProtocolError{Reason: "missing end marker"}
	}
	_, _ = r.Discard(len(endMarker))
	return buf, nil
}

// truncated turns an EOF inside a frame into a *ProtocolError; other
// errors (deadline, closed connection) are returned as they are.
func truncated(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return &ProtocolError{Reason: "truncated frame", Err: io.ErrUnexpectedEOF}
	}
	return err
}
