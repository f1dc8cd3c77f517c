package deltamgr

import "context"

// Cluster is what the manager needs from the cluster (Contract B). It uses
// builtin types only, so one adapter in runtime/node (mcast + transport,
// channel 1) and transporttest's in-memory Port both satisfy it.
//
// All methods must be safe for concurrent use.
type Cluster interface {
	// Self returns this member's name (its jvmRoute). Does not block.
	Self() string
	// Members returns the live peers, oldest first, excluding Self. Does not block.
	Members() []string
	// Seniors returns the live peers that started before Self, oldest first.
	// Both sides of a pair agree on who is older. Does not block.
	Seniors() []string
	// Send sends msg to one member. opts are Tomcat's channelSendOptions bits
	// (SendAsync returns once queued; SendUseAck once received; SendUseAck|SendSyncAck
	// once the peer's Deliver returned, with its error). Send must not keep
	// msg after it returns: the state transfer reuses its chunk buffers.
	Send(ctx context.Context, to string, msg []byte, opts int) error
	// Broadcast sends msg to every member with opts; the error is
	// errors.Join of the per-peer failures.
	Broadcast(ctx context.Context, msg []byte, opts int) error
	// Subscribe calls fn with MemberJoined for every current member before
	// it returns, then once per membership change (MemberJoined,
	// MemberLeft, MemberReplaced: the name's old incarnation is gone), in
	// order, one call at a time; when fn runs, Members and Seniors already
	// show the change. fn must not block and must not call Subscribe or
	// cancel. Once cancel returns fn is not called again; cancel is
	// idempotent.
	Subscribe(fn func(kind int, member string)) (cancel func())
}

// Membership event kinds given to a Subscribe callback (runtime/cluster's
// EventKind values). Append only.
const (
	MemberJoined   = 1
	MemberLeft     = 2
	MemberReplaced = 3
)

// Tomcat's channelSendOptions bits (org.apache.catalina.tribes.Channel).
const (
	SendUseAck  = 2 // the receiver acknowledges receipt
	SendSyncAck = 4 // the receiver acknowledges after processing
	SendAsync   = 8 // return once queued
)

// Send option combinations used by the manager.
const (
	OptionsAsync = SendAsync                // 8: Tomcat's default channelSendOptions
	OptionsAck   = SendUseAck               // 2
	OptionsSync  = SendUseAck | SendSyncAck // 6: used for ALL_SESSION_DATA
)

// waits reports whether opts make a send wait for the peer.
func waits(opts int) bool { return opts&(SendUseAck|SendSyncAck) != 0 }
