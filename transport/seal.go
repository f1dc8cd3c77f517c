package transport

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"time"

	"github.com/gomcat/gomcat/internal/seal"
)

// Sealed connections (a cluster key is set). The receiver speaks first, so
// that every frame of a connection is bound to it:
//
//	greeting    = frame of sealed body (transport key, AD greetAD) of:
//	              version u8 (2) | receiver unique id [16] | incarnation u64 | challenge [16]
//	sealed body = format u8 (2) | purpose u8 (seal.Purpose) | seal output
//	AD          = "gomcat-transport/2" | dir u8 | purpose u8 |
//	              receiver id [16] | incarnation u64 | challenge [16] | sender id [16] | epoch u64
//
// dir is 'H' for the hello (whose sender part is zero: the hello names the
// sender), 'S' for the sender's frames, 'R' for the receiver's acks. The
// incarnation is random per Receiver, the challenge per connection, so a
// frame recorded on one connection opens on no other: not another node's,
// not a restarted receiver's. Farm-channel data frames use the farm key,
// the rest the transport key (both HKDF-derived from the cluster key). One
// replay cache per Receiver (and per Sender, for acks) catches replays
// within a connection. Unsealed connections have no greeting.
const (
	sealFormat     = 2
	greetVersion   = 2
	greetLen       = 1 + 16 + 8 + 16
	maxGreetBody   = 512
	sealedOverhead = 2 + seal.Overhead // added to a sealed frame body
	adLabel        = "gomcat-transport/2"
	adLen          = len(adLabel) + 2 + 16 + 8 + 16 + 16 + 8
	adPurposeOff   = len(adLabel) + 1
	adSenderOff    = adLen - 24
	dirHello       = 'H'
	dirSender      = 'S'
	dirReceiver    = 'R'
	replayEntries  = 32768 // transport messages within a seal window
)

// ErrWrongReceiver fails a sealed dial whose greeting carries another
// unique id than Config.ExpectedID gives for the address.
var ErrWrongReceiver = errors.New("transport: greeting from an unexpected receiver")

var greetAD = []byte("gomcat-transport/2 greeting")

// sealers holds the Sealers of both transport purposes; their replay
// caches are shared by every connection of the owner.
type sealers struct {
	t, f *seal.Sealer
}

func newSealers(r *seal.Ring) (*sealers, error) {
	c := seal.DefaultConfig()
	c.ReplayEntries = replayEntries
	t, err := seal.NewConfig(r, seal.PurposeTransport, c)
	if err != nil {
		return nil, fmt.Errorf("transport: %w", err)
	}
	f, err := seal.NewConfig(r, seal.PurposeFarm, c)
	if err != nil {
		return nil, fmt.Errorf("transport: %w", err)
	}
	return &sealers{t: t, f: f}, nil
}

// ring returns Keys, or a ring of Key, or nil without a key.
func (c Config) ring() (*seal.Ring, error) {
	switch {
	case c.Keys != nil:
		return c.Keys, nil
	case c.Key != nil:
		r, err := seal.NewRing(c.Key)
		if err != nil {
			return nil, fmt.Errorf("transport: %w", err)
		}
		return r, nil
	}
	return nil, nil
}

// sealersFor builds the sealers of cfg and marks cfg sealed (Key non-nil
// is what the send path tests). nil without a key.
func sealersFor(cfg *Config) (*sealers, error) {
	r, err := cfg.ring()
	if r == nil || err != nil {
		return nil, err
	}
	if cfg.Key == nil {
		cfg.Key = []byte{} // sealed: the keys are in the ring
	}
	return newSealers(r)
}

// greeting is what a receiver tells a sealed connection first.
type greeting struct {
	id        [16]byte // the receiver's unique id
	inc       uint64   // the Receiver's incarnation
	challenge [16]byte // fresh per connection
}

func newGreeting(id [16]byte, inc uint64) greeting {
	g := greeting{id: id, inc: inc}
	_, _ = rand.Read(g.challenge[:])
	return g
}

func appendGreeting(dst []byte, g greeting) []byte {
	dst = append(dst, greetVersion)
	dst = append(dst, g.id[:]...)
	dst = binary.BigEndian.AppendUint64(dst, g.inc)
	return append(dst, g.challenge[:]...)
}

func decodeGreeting(b []byte) (greeting, error) {
	if len(b) != greetLen {
		return greeting{}, &ProtocolError{Reason: "malformed greeting"}
	}
	if b[0] != greetVersion {
		return greeting{}, &ProtocolError{Reason: "unsupported greeting version " + strconv.Itoa(int(b[0]))}
	}
	var g greeting
	copy(g.id[:], b[1:17])
	g.inc = binary.BigEndian.Uint64(b[17:25])
	copy(g.challenge[:], b[25:])
	return g, nil
}

// writeGreeting sends g on nc, sealed, within timeout.
func (s *sealers) writeGreeting(nc net.Conn, g greeting, timeout time.Duration) error {
	frame := beginFrame(make([]byte, 0, frameOverhead+greetLen+seal.Overhead))
	frame = s.t.SealAD(frame, appendGreeting(nil, g), greetAD)
	frame = endFrame(frame, 0)
	nc.SetWriteDeadline(time.Now().Add(timeout))
	_, err := nc.Write(frame)
	return err
}

// readGreeting reads exactly one greeting frame from nc within timeout
// (nothing beyond it: the receiver sends nothing else before the hello).
func (s *sealers) readGreeting(nc net.Conn, timeout time.Duration) (greeting, error) {
	nc.SetReadDeadline(time.Now().Add(timeout))
	defer nc.SetReadDeadline(time.Time{})
	var hdr [frameHeaderLen]byte
	if _, err := io.ReadFull(nc, hdr[:]); err != nil {
		return greeting{}, fmt.Errorf("no greeting from the receiver (a gomcat before key ids, or no key?): %w", truncated(err))
	}
	n, err := frameLength(hdr[:], maxGreetBody)
	if err != nil {
		return greeting{}, err
	}
	buf := make([]byte, n+len(endMarker))
	if _, err := io.ReadFull(nc, buf); err != nil {
		return greeting{}, truncated(err)
	}
	if string(buf[n:]) != endMarker {
		return greeting{}, &ProtocolError{Reason: "missing end marker"}
	}
	pt, err := s.t.OpenAD(nil, buf[:n], greetAD)
	if err != nil {
		return greeting{}, &ProtocolError{Reason: "greeting does not open with the cluster key", Err: err}
	}
	return decodeGreeting(pt)
}

// connSeal seals or opens one direction of one connection: the associated
// data of both purposes, built once. Immutable, so safe for concurrent use.
type connSeal struct {
	s  *sealers
	ad [2][adLen]byte // [0] transport, [1] farm
}

// newConnSeal binds dir of the connection greeted by g, from sender (zero
// for the hello).
func newConnSeal(s *sealers, dir byte, g greeting, sender [16]byte, epoch uint64) *connSeal {
	c := &connSeal{s: s}
	for i, p := range []seal.Purpose{seal.PurposeTransport, seal.PurposeFarm} {
		b := append(c.ad[i][:0], adLabel...)
		b = append(b, dir, byte(p))
		b = append(b, g.id[:]...)
		b = binary.BigEndian.AppendUint64(b, g.inc)
		b = append(b, g.challenge[:]...)
		b = append(b, sender[:]...)
		binary.BigEndian.AppendUint64(b, epoch)
	}
	return c
}

// farmEnvelope reports whether an encoded envelope is farm data.
func farmEnvelope(env []byte) bool {
	return len(env) > 2 && frameType(env[1]) == typeData && Channel(env[2]) == ChannelFarm
}

// seal appends the sealed body of the envelope env to dst.
func (c *connSeal) seal(dst, env []byte) []byte {
	i, sl, p := 0, c.s.t, seal.PurposeTransport
	if farmEnvelope(env) {
		i, sl, p = 1, c.s.f, seal.PurposeFarm
	}
	dst = append(dst, sealFormat, byte(p))
	return sl.SealAD(dst, env, c.ad[i][:])
}

// open verifies a sealed body and appends its envelope to dst.
func (c *connSeal) open(dst, body []byte) ([]byte, error) {
	if len(body) < 2 {
		return nil, &ProtocolError{Reason: "short sealed frame", Err: seal.ErrAuth}
	}
	if body[0] != sealFormat {
		return nil, &ProtocolError{Reason: "frame not sealed in format " + strconv.Itoa(sealFormat) +
			" (a peer without the cluster key, or a gomcat before key ids)", Err: seal.ErrAuth}
	}
	var i int
	var sl *seal.Sealer
	switch seal.Purpose(body[1]) {
	case seal.PurposeTransport:
		i, sl = 0, c.s.t
	case seal.PurposeFarm:
		i, sl = 1, c.s.f
	default:
		return nil, &ProtocolError{Reason: "sealed frame of unknown purpose " + strconv.Itoa(int(body[1])), Err: seal.ErrAuth}
	}
	env, err := sl.OpenAD(dst, body[2:], c.ad[i][:])
	if err != nil {
		return nil, &ProtocolError{Reason: "frame does not open with the cluster key", Err: err}
	}
	if farmEnvelope(env[len(dst):]) != (i == 1) {
		return nil, &ProtocolError{Reason: "sealed frame's purpose does not match its channel", Err: seal.ErrAuth}
	}
	return env, nil
}
