package transport

import (
	"errors"
	"fmt"
)

// Sentinel errors. Callers test them with errors.Is.
var (
	// ErrClosed is returned by a Sender or Receiver that has been stopped.
	ErrClosed = errors.New("transport: closed")
	// ErrPeerClosed fails the messages still pending when a peer is closed
	// with Sender.ClosePeer (the member disappeared).
	ErrPeerClosed = errors.New("transport: peer closed")
	// ErrQueueFull is returned when a peer's queue stayed full for the
	// whole send timeout.
	ErrQueueFull = errors.New("transport: queue full")
	// ErrTimeout is returned when no ack arrived within the send timeout.
	// The message may still have been delivered.
	ErrTimeout = errors.New("transport: timeout")
	// ErrTooLarge is returned for a message whose frame would exceed
	// MaxFrameSize.
	ErrTooLarge = errors.New("transport: message too large")
	// ErrUnreachable fails the messages of a peer that could not be
	// (re)connected within the send timeout, and at once the sync and ack
	// sends to a peer that actively refuses connections (see doc.go).
	ErrUnreachable = errors.New("transport: peer unreachable")
)

// ProtocolError reports bytes from a peer that break the wire protocol:
// a missing marker, an oversized length, a bad version, a frame that does
// not open with the cluster key, a truncated frame. The connection that
// carried them is closed.
type ProtocolError struct {
	Remote string // remote address of the connection, if known
	Reason string // what was wrong
	Err    error  // underlying error, if any
}

func (e *ProtocolError) Error() string {
	s := "transport: protocol error"
	if e.Remote != "" {
		s += " from " + e.Remote
	}
	s += ": " + e.Reason
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *ProtocolError) Unwrap() error { return e.Err }

// RemoteError is returned by a use_ack|sync send when the peer's handler
// failed (Tomcat's FAIL-ACK); Text is the peer's error text.
type RemoteError struct {
	Peer string // address the message was sent to
	ID   uint64 // message id
	Text string // the peer handler's error text
}

func (e *RemoteError) Error() string {
	return fmt.Sprintf("transport: %s failed message %d: %s", e.Peer, e.ID, e.Text)
}
