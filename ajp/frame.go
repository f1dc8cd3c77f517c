package ajp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Packet sizes (bytes, the 4-byte header included).
const (
	// DefaultPacketSize is AJP13's packet size (Tomcat's and mod_jk's
	// max_packet_size default).
	DefaultPacketSize = 8192
	// MaxPacketSize is the largest packetSize mod_jk and Tomcat accept.
	MaxPacketSize = 65536
	// HeaderLen is the magic plus the length.
	HeaderLen = 4
)

// Direction says who sent a packet, which decides its magic.
type Direction uint8

// Directions.
const (
	// ToContainer packets come from the web server (magic 0x12 0x34).
	ToContainer Direction = iota
	// ToServer packets come from the container (magic 'A' 'B').
	ToServer
)

func (d Direction) magic() [2]byte {
	if d == ToServer {
		return [2]byte{'A', 'B'}
	}
	return [2]byte{0x12, 0x34}
}

// ReadFrame reads one packet sent in direction dir into buf and returns
// its payload (a slice of buf, valid until the next read). len(buf) is the
// packet size: a longer packet fails with ErrTooLarge (its payload is not
// read, so the connection must be closed). io.EOF means the stream ended
// cleanly between packets.
func ReadFrame(r io.Reader, dir Direction, buf []byte) ([]byte, error) {
	if len(buf) < HeaderLen {
		return nil, fmt.Errorf("%w: buffer of %d bytes", ErrTooLarge, len(buf))
	}
	if _, err := io.ReadFull(r, buf[:HeaderLen]); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fmt.Errorf("%w: in the header", ErrTruncated)
		}
		return nil, err
	}
	if m := dir.magic(); buf[0] != m[0] || buf[1] != m[1] {
		return nil, fmt.Errorf("%w: %#02x%02x", ErrBadMagic, buf[0], buf[1])
	}
	n := int(binary.BigEndian.Uint16(buf[2:4]))
	if n > len(buf)-HeaderLen {
		return nil, fmt.Errorf("%w: %d bytes of payload, packet size %d", ErrTooLarge, n, len(buf))
	}
	if _, err := io.ReadFull(r, buf[HeaderLen:HeaderLen+n]); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fmt.Errorf("%w: want %d bytes of payload", ErrTruncated, n)
		}
		return nil, err
	}
	return buf[HeaderLen : HeaderLen+n], nil
}

// AppendFrame appends a packet header for a payload of n bytes sent in
// direction dir. The caller appends the payload itself.
func AppendFrame(dst []byte, dir Direction, n int) []byte {
	m := dir.magic()
	return append(dst, m[0], m[1], byte(n>>8), byte(n))
}

// Frame returns payload wrapped in a packet sent in direction dir, or
// ErrTooLarge when it would exceed packetSize.
func Frame(dir Direction, payload []byte, packetSize int) ([]byte, error) {
	if len(payload)+HeaderLen > packetSize || len(payload) > 0xFFFF {
		return nil, fmt.Errorf("%w: %d bytes of payload, packet size %d", ErrTooLarge, len(payload), packetSize)
	}
	out := AppendFrame(make([]byte, 0, HeaderLen+len(payload)), dir, len(payload))
	return append(out, payload...), nil
}

// SetFrameLength fills in the length of a packet built in place: pkt
// starts with the 4-byte header written by AppendFrame(dst, dir, 0).
func SetFrameLength(pkt []byte) {
	binary.BigEndian.PutUint16(pkt[2:4], uint16(len(pkt)-HeaderLen))
}
