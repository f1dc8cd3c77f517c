package mcast

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net"
)

// Tribes' heartbeat markers and shutdown command (MemberImpl, §1.2).
var (
	mbrBegin = []byte{'T', 'R', 'I', 'B', 'E', 'S', '-', 'B', 0x01, 0x00}
	mbrEnd   = []byte{'T', 'R', 'I', 'B', 'E', 'S', '-', 'E', 0x01, 0x00}
	// ShutdownCommand is the command a node sends once when it stops.
	ShutdownCommand = []byte("BABY-ALEX")
)

const (
	// MaxPacket bounds a datagram (Tribes' MAX_PACKET_SIZE).
	MaxPacket = 65535
	// offsets into a heartbeat
	offBodyLen = 10
	offAlive   = 14
	fixedLen   = 10 + 4 + 8 + 4 + 4 + 4 + 1 + 4 + 4 + 16 + 4 + 10 // 73 + host bytes
)

// Heartbeat is one Tribes membership packet:
//
//	TRIBES-B\x01\x00 | bodyLength i32 | alive i64 | port i32 | securePort i32 |
//	udpPort i32 | hostLength i8 | host | cmdLen i32 | cmd | domLen i32 | domain |
//	uniqueId [16] | payloadLen i32 | payload | TRIBES-E\x01\x00
//
// all big-endian; bodyLength = total − 24. IPv4 with empty command, domain
// and payload is 77 bytes.
type Heartbeat struct {
	Alive      int64  // ms since the sender's membership started
	Port       int    // receiver TCP port
	SecurePort int    // -1: none (Gomcat always sends -1)
	UDPPort    int    // -1: none (Gomcat always sends -1)
	Host       net.IP // 4 bytes for IPv4, 16 for IPv6
	Command    []byte // empty, or ShutdownCommand
	Domain     []byte
	UniqueID   [16]byte
	Payload    []byte // Gomcat: EncodePayload; Tomcat: usually empty
}

// IsShutdown reports whether the heartbeat announces its sender's stop.
func (h *Heartbeat) IsShutdown() bool { return bytes.Equal(h.Command, ShutdownCommand) }

// Size is the encoded length.
func (h *Heartbeat) Size() int {
	return fixedLen + len(hostBytes(h.Host)) + len(h.Command) + len(h.Domain) + len(h.Payload)
}

func hostBytes(ip net.IP) []byte {
	if v4 := ip.To4(); v4 != nil {
		return v4
	}
	return ip.To16()
}

// AppendTo appends the encoded heartbeat to dst.
func (h *Heartbeat) AppendTo(dst []byte) ([]byte, error) {
	host := hostBytes(h.Host)
	if host == nil {
		return dst, fmt.Errorf("%w: host %v is not an IP", ErrMalformed, h.Host)
	}
	if h.Port < 0 || h.Port > 65535 {
		return dst, fmt.Errorf("%w: port %d", ErrMalformed, h.Port)
	}
	n := h.Size()
	if n > MaxPacket {
		return dst, fmt.Errorf("%w: %d bytes exceeds %d", ErrMalformed, n, MaxPacket)
	}
	be := binary.BigEndian
	dst = append(dst, mbrBegin...)
	dst = be.AppendUint32(dst, uint32(n-24))
	dst = be.AppendUint64(dst, uint64(h.Alive))
	dst = be.AppendUint32(dst, uint32(int32(h.Port)))
	dst = be.AppendUint32(dst, uint32(int32(h.SecurePort)))
	dst = be.AppendUint32(dst, uint32(int32(h.UDPPort)))
	dst = append(dst, byte(len(host)))
	dst = append(dst, host...)
	for _, f := range [][]byte{h.Command, h.Domain} {
		dst = be.AppendUint32(dst, uint32(len(f)))
		dst = append(dst, f...)
	}
	dst = append(dst, h.UniqueID[:]...)
	dst = be.AppendUint32(dst, uint32(len(h.Payload)))
	dst = append(dst, h.Payload...)
	return append(dst, mbrEnd...), nil
}

// DecodeHeartbeat parses one datagram. It trusts no length: every field is
// bounds-checked against the datagram, and the END marker must close it
// exactly. The result's slices alias b.
func DecodeHeartbeat(b []byte) (Heartbeat, error) {
	var h Heartbeat
	if len(b) > MaxPacket {
		return h, fmt.Errorf("%w: %d bytes exceeds %d", ErrMalformed, len(b), MaxPacket)
	}
	if len(b) < fixedLen+4 {
		return h, fmt.Errorf("%w: %d bytes", ErrTruncated, len(b))
	}
	if !bytes.Equal(b[:len(mbrBegin)], mbrBegin) {
		return h, fmt.Errorf("%w: no TRIBES-B marker", ErrMalformed)
	}
	body := int64(int32(binary.BigEndian.Uint32(b[offBodyLen:])))
	if body < 0 || body+24 != int64(len(b)) {
		return h, fmt.Errorf("%w: bodyLength %d in a %d-byte datagram", ErrMalformed, body, len(b))
	}
	if !bytes.Equal(b[len(b)-len(mbrEnd):], mbrEnd) {
		return h, fmt.Errorf("%w: no TRIBES-E marker", ErrMalformed)
	}
	r := reader{b: b[:len(b)-len(mbrEnd)], off: offAlive}
	h.Alive = int64(r.u64())
	h.Port = int(int32(r.u32()))
	h.SecurePort = int(int32(r.u32()))
	h.UDPPort = int(int32(r.u32()))
	hl := int(int8(r.u8()))
	if r.err == nil && hl != 4 && hl != 16 {
		return h, fmt.Errorf("%w: hostLength %d", ErrMalformed, hl)
	}
	if host := r.bytes(hl); host != nil {
		h.Host = net.IP(host)
	}
	h.Command = r.field()
	h.Domain = r.field()
	copy(h.UniqueID[:], r.bytes(16))
	h.Payload = r.field()
	if r.err != nil {
		return Heartbeat{}, r.err
	}
	if r.off != len(r.b) {
		return Heartbeat{}, fmt.Errorf("%w: %d stray bytes before TRIBES-E", ErrMalformed, len(r.b)-r.off)
	}
	if h.Port < 0 || h.Port > 65535 {
		return Heartbeat{}, fmt.Errorf("%w: port %d", ErrMalformed, h.Port)
	}
	return h, nil
}

// reader reads big-endian fields; the first overrun sets err and every later
// read returns zero values.
type reader struct {
	b   []byte
	off int
	err error
}

func (r *reader) bytes(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || n > len(r.b)-r.off {
		r.err = fmt.Errorf("%w: field of %d bytes at offset %d, %d left", ErrTruncated, n, r.off, len(r.b)-r.off)
		return nil
	}
	p := r.b[r.off : r.off+n : r.off+n]
	r.off += n
	return p
}

func (r *reader) u8() byte {
	if p := r.bytes(1); p != nil {
		return p[0]
	}
	return 0
}

func (r *reader) u32() uint32 {
	if p := r.bytes(4); p != nil {
		return binary.BigEndian.Uint32(p)
	}
	return 0
}

func (r *reader) u64() uint64 {
	if p := r.bytes(8); p != nil {
		return binary.BigEndian.Uint64(p)
	}
	return 0
}

// field reads an int32 length and that many bytes.
func (r *reader) field() []byte {
	n := int64(int32(r.u32()))
	if r.err != nil {
		return nil
	}
	if n < 0 || n > int64(len(r.b)-r.off) {
		r.err = fmt.Errorf("%w: length %d at offset %d, %d left", ErrTruncated, n, r.off-4, len(r.b)-r.off)
		return nil
	}
	return r.bytes(int(n))
}
