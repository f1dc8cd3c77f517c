package transport

import (
	"context"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// Channel routes a message to its consumer on the receiving node.
// Wire values: append only.
type Channel uint8

const (
	ChannelSessions Channel = 1 // session replication (deltamgr)
	ChannelFarm     Channel = 2 // farm deployer
	ChannelProbe    Channel = 3 // probes and status
	ChannelBackup   Channel = 4 // BackupManager's map messages (backupmgr)
)

// Send option bits, Tomcat's channelSendOptions numbers.
const (
	OptUseAck = 2 // wait until the peer received the message
	OptSync   = 4 // with OptUseAck: wait until the peer's handler returned
	OptAsync  = 8 // return once queued; no per-message ack
)

// Peer identifies the member at the other end of a connection, as sent in
// its hello frame.
type Peer struct {
	Name     string   // member name (the jvmRoute)
	UniqueID [16]byte // member unique id; a restarted member has a new one
	// Host is the connection's source IP, set by the Receiver (not sent:
	// ignored in Config.Self).
	Host netip.Addr
}

// Message is one unit handed to Sender.Send and to a Handler.
type Message struct {
	Channel Channel // consumer on the receiving node
	// Options are Tomcat send flags: OptAsync (8) returns once queued;
	// OptUseAck|OptSync (6) waits for the peer's handler and returns its
	// error as a *RemoteError; otherwise (2, or 0 = Tomcat's default)
	// waits until the peer received the message.
	Options int
	ID      uint64 // set by the Sender; unique per Sender, increasing per peer
	// Payload: Send copies it; a Handler owns it, unless the Receiver's
	// Config.BorrowPayload is set: then it is valid only during
	// ServeMessage.
	Payload []byte
}

func (m *Message) async() bool { return m.Options&OptAsync != 0 }
func (m *Message) sync() bool  { return m.Options&OptAsync == 0 && m.Options&OptSync != 0 }

// Handler handles the messages a Receiver gets, like http.Handler.
// ServeMessage is called on the connection's goroutine, one message at a
// time per connection, in the order sent; different peers are served
// concurrently. The handler owns m.Payload (with Config.BorrowPayload,
// only until it returns) but must not keep m itself after returning. For a use_ack|sync message its error goes back to the
// sender as a FAIL-ACK; for other modes it is only counted and logged.
// ctx ends when the Receiver stops.
type Handler interface {
	ServeMessage(ctx context.Context, from Peer, m *Message) error
}

// HandlerFunc adapts a function to a Handler.
type HandlerFunc func(ctx context.Context, from Peer, m *Message) error

// ServeMessage calls f.
func (f HandlerFunc) ServeMessage(ctx context.Context, from Peer, m *Message) error {
	return f(ctx, from, m)
}

// ParseSendOptions parses Tomcat's channelSendOptions: an integer, or
// comma-separated names (asynchronous|async, synchronized_ack|sync,
// use_ack, byte_message|byte, multicast, secure, udp) OR-ed together.
func ParseSendOptions(s string) (int, error) {
	s = strings.TrimSpace(s)
	if n, err := strconv.Atoi(s); err == nil {
		if n < 0 {
			return 0, fmt.Errorf("transport: send options %d negative", n)
		}
		return n, nil
	}
	var opts int
	for _, f := range strings.Split(s, ",") {
		switch strings.ToLower(strings.TrimSpace(f)) {
		case "asynchronous", "async":
			opts |= OptAsync
		case "synchronized_ack", "sync":
			opts |= OptSync
		case "use_ack":
			opts |= OptUseAck
		case "byte_message", "byte":
			opts |= 1
		case "secure":
			opts |= 16
		case "udp":
			opts |= 32
		case "multicast":
			opts |= 64
		default:
			return 0, fmt.Errorf("transport: unknown send option %q", f)
		}
	}
	return opts, nil
}
