package farmdeploy

import "context"

// Cluster is what the deployer needs from the cluster. runtime/cluster
// implements it; transport/transporttest fakes it.
type Cluster interface {
	// Self returns this member's name. Never blocks.
	Self() string
	// Members returns the live peers, oldest first, excluding Self. Never blocks.
	Members() []string
	// Send delivers msg to one member. opts are Tomcat's channelSendOptions
	// bits: 8 returns once queued, 2 once received, 6 once the peer's Deliver
	// returned (its error comes back). Blocks until then or ctx ends.
	Send(ctx context.Context, to string, msg []byte, opts int) error
	// Subscribe calls fn with kind 1 (joined) for every current member
	// before it returns, then once per change (1 joined, 2 left, 3
	// replaced), in order, one call at a time. fn must not block nor call
	// Subscribe or cancel; once cancel returns fn is not called again.
	Subscribe(fn func(kind int, member string)) (cancel func())
}

// memberLeft is the Subscribe kind of a departure (runtime/cluster's
// MemberLeft).
const memberLeft = 2

// Installer deploys bundles on this node; runtime/host implements it.
type Installer interface {
	// Install deploys (or redeploys) the bundle at path, which lies in the
	// deploy directory. It must be idempotent for an unchanged file and must
	// leave the previous version running when it fails.
	Install(ctx context.Context, path string) error
	// Uninstall undeploys the bundle that was installed from path.
	Uninstall(ctx context.Context, path string) error
}

// Send options, as Tomcat's channelSendOptions.
const (
	optAsync = 8
	optAck   = 2
)
