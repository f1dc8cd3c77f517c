package transport

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/rs/zerolog"

	"github.com/gomcat/gomcat/internal/seal"
)

// Config configures a Receiver and a Sender. It is passed by value, so it
// cannot change after NewReceiver or NewSender.
type Config struct {
	// Address is the IP the receiver listens on; "" listens on every
	// interface. "auto" is resolved by the caller (runtime/cluster).
	Address string
	// SourceAddress, when set, is the local IP the sender's connections
	// leave from (peers admit a member's connections by their source IP,
	// so a node advertising one of several addresses sends from it).
	// Default: "" (the system picks, by route).
	SourceAddress string
	// Port is the first port tried by the receiver; 0 picks a free one.
	// Default: 4000.
	Port int
	// AutoBind is how many ports are tried from Port upward (Port ..
	// Port+AutoBind-1); values below 1 mean 1. Default: 100.
	AutoBind int
	// MaxFrameSize bounds a frame's body in bytes, both ways. Default: 16 MiB.
	MaxFrameSize int
	// Timeout bounds one send (queue wait, ack wait, reconnect attempts)
	// and a stalled read in the middle of a frame. A peer that refuses
	// connections fails waited-for sends sooner (ErrUnreachable).
	// Default: 3s.
	Timeout time.Duration
	// MaxQueueBytes bounds, per peer, the bytes of messages queued or
	// written but not yet acknowledged. Default: 64 MiB.
	MaxQueueBytes int
	// Key is the cluster key (16, 24 or 32 bytes). When set, every frame
	// body is sealed (AES-GCM) and peers without the key cannot deliver
	// anything. Default: none.
	Key []byte
	// Keys, when set, is used instead of Key: a reloadable ring of cluster
	// keys (the first seals, all open; see internal/seal). Default: nil.
	Keys *seal.Ring
	// BorrowPayload makes the Receiver hand its Handler a payload that
	// aliases the connection's read buffer and is valid only until
	// ServeMessage returns: no allocation or copy per message. Set it
	// only for handlers that copy (or decode) what they keep. Default:
	// false (the handler owns m.Payload).
	BorrowPayload bool
	// Self identifies this member in the hello frame sent on every
	// outgoing connection. A zero UniqueID is replaced by a random one.
	Self Peer
	// MaxConnections bounds the receiver's open connections, those whose
	// hello has not arrived yet included; a connection over the limit is
	// closed at once and counted (ReceiverStats.Refused). Default: 1024.
	MaxConnections int
	// MaxConnectionsPerHost bounds the receiver's open connections from
	// one source IP (a member needs one, plus one while it reconnects;
	// nodes sharing a host share it). Default: 64.
	MaxConnectionsPerHost int
	// IdleTimeout closes a receiver connection that stayed silent between
	// frames this long (ReceiverStats.IdleClosed); senders that want to
	// keep one open ping it (Sender.Ping). 0 never closes one. Default: 0
	// (runtime/cluster sets a multiple of the heartbeat frequency).
	IdleTimeout time.Duration
	// MinFrameRate, in bytes per second, bounds how long one frame may
	// take to arrive: from its first byte, Timeout + length/MinFrameRate
	// for the whole frame, not per read, so a body trickled byte by byte
	// is cut (ReceiverStats.FrameTimeouts). Default: 256 KiB/s (a 16 MiB
	// frame gets 67 s).
	MinFrameRate int
	// Admit, if set, is called with the hello of every accepted
	// connection (its Host is the connection's source IP) before any of
	// its data is read; an error refuses the connection: it is closed
	// without an answer, counted (ReceiverStats.Unadmitted) and logged
	// once per burst. It runs on the connection's goroutine, may block
	// until ctx ends (the receiver stops) and must be safe for concurrent
	// use. Default: nil (every well-formed hello is admitted).
	Admit func(ctx context.Context, from Peer) error
	// ExpectedID, if set, tells a sealed sender the unique id of the
	// receiver it means to reach at addr; a greeting from another unique
	// id fails the dial (ErrWrongReceiver) and the connection is never
	// used. ok false (an id not known yet) accepts any greeting. It must
	// be safe for concurrent use and not block. Default: nil (no check).
	ExpectedID func(addr string) (id [16]byte, ok bool)
	// OnError, if set, is called for every message that failed without a
	// caller waiting for it (async sends): the peer could not be reached
	// within Timeout, or the peer was closed before the message was
	// acknowledged. It runs on the peer's goroutines (or inside a Send
	// that wrote its own frame) and must not block; m.Payload is valid
	// only during the call. Default: nil (the failure is still counted in
	// PeerStats.Failed).
	OnError func(addr string, m *Message, err error)
	// Logger receives the package's logs. Default: zerolog.Nop().
	Logger zerolog.Logger
}

// DefaultConfig returns Tomcat's defaults: port 4000, autoBind 100,
// timeout 3000 ms, a 64 MiB queue per peer and 16 MiB frames; and
// Gomcat's receiver bounds: 1024 connections, 64 per source IP, frames
// arriving at 256 KiB/s at least.
func DefaultConfig() Config {
	return Config{
		Port:          4000,
		AutoBind:      100,
		MaxFrameSize:  16 << 20,
		Timeout:       3 * time.Second,
		MaxQueueBytes: 64 << 20,
		Logger:        zerolog.Nop(),

		MaxConnections:        1024,
		MaxConnectionsPerHost: 64,
		MinFrameRate:          256 << 10,
	}
}

// DefaultLocalConfig returns DefaultConfig listening on 127.0.0.1 on a
// free port, for tests.
func DefaultLocalConfig() Config {
	c := DefaultConfig()
	c.Address = "127.0.0.1"
	c.Port = 0
	c.AutoBind = 1
	return c
}

// Validate reports every problem in c.
func (c Config) Validate() error {
	var errs []error
	if c.Address != "" && net.ParseIP(c.Address) == nil {
		errs = append(errs, fmt.Errorf("transport: address %q is not an IP", c.Address))
	}
	if c.SourceAddress != "" && net.ParseIP(c.SourceAddress) == nil {
		errs = append(errs, fmt.Errorf("transport: source address %q is not an IP", c.SourceAddress))
	}
	if c.Port < 0 || c.Port > 65535 {
		errs = append(errs, fmt.Errorf("transport: port %d out of range", c.Port))
	}
	if c.Port > 0 && c.AutoBind > 1 && c.Port+c.AutoBind-1 > 65535 {
		errs = append(errs, fmt.Errorf("transport: port range %d-%d exceeds 65535", c.Port, c.Port+c.AutoBind-1))
	}
	if c.MaxFrameSize < minFrameSize {
		errs = append(errs, fmt.Errorf("transport: maxFrameSize %d below %d", c.MaxFrameSize, minFrameSize))
	}
	if c.MaxFrameSize > maxFrameLimit {
		errs = append(errs, fmt.Errorf("transport: maxFrameSize %d above %d", c.MaxFrameSize, maxFrameLimit))
	}
	if c.Timeout <= 0 {
		errs = append(errs, fmt.Errorf("transport: timeout %v must be positive", c.Timeout))
	}
	if c.MaxQueueBytes < c.MaxFrameSize+frameOverhead {
		errs = append(errs, fmt.Errorf("transport: maxQueueBytes %d below one full frame (%d)", c.MaxQueueBytes, c.MaxFrameSize+frameOverhead))
	}
	if c.MaxConnections < 1 {
		errs = append(errs, fmt.Errorf("transport: maxConnections %d must be >= 1", c.MaxConnections))
	}
	if c.MaxConnectionsPerHost < 1 || c.MaxConnectionsPerHost > c.MaxConnections {
		errs = append(errs, fmt.Errorf("transport: maxConnectionsPerHost %d must be 1..maxConnections (%d)", c.MaxConnectionsPerHost, c.MaxConnections))
	}
	if c.IdleTimeout < 0 {
		errs = append(errs, fmt.Errorf("transport: idleTimeout %v must be >= 0", c.IdleTimeout))
	}
	if c.MinFrameRate < 1<<10 {
		errs = append(errs, fmt.Errorf("transport: minFrameRate %d below 1024 bytes/s", c.MinFrameRate))
	}
	if c.Key != nil {
		if n := len(c.Key); n != 16 && n != 24 && n != 32 {
			errs = append(errs, fmt.Errorf("transport: key is %d bytes, want 16, 24 or 32", n))
		}
	}
	if len(c.Self.Name) > maxNameLen {
		errs = append(errs, fmt.Errorf("transport: member name longer than %d bytes", maxNameLen))
	}
	return errors.Join(errs...)
}
