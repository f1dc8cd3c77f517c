package cluster

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/rs/zerolog"

	"github.com/gomcat/gomcat/internal/seal"
	"github.com/gomcat/gomcat/mcast"
	"github.com/gomcat/gomcat/transport"
)

// Config configures a Cluster (Tomcat's SimpleTcpCluster). Pass it by value;
// New copies it.
type Config struct {
	// Name is this member's name, the Engine's jvmRoute ([A-Za-z0-9._-],
	// 1..128 bytes). Required.
	Name string
	// Domain is the cluster domain; members of other domains are ignored.
	// It overrides the membership config's Domain. Default: "".
	Domain string
	// HTTPURL is the connector address advertised to balancers, e.g.
	// "http://198.18.0.2:8091"; Cluster.SetHTTPURL changes it (a connector
	// on port 0 knows its port only once started). Default: "".
	HTTPURL string
	// Membership builds the membership once the receiver is bound (its
	// port is what the membership advertises). Default:
	// Multicast{Config: mcast.DefaultConfig()}.
	Membership MembershipConfig
	// Transport configures the receiver and the senders. Address "auto"
	// (or "") advertises the address of the interface the membership is
	// bound to; "auto" also listens only there. Self, Key, Logger and
	// BorrowPayload (always on: see DeliverFunc) are set by the cluster;
	// OnError, if set, is called after the cluster's. Default: transport.DefaultConfig() with Address
	// "auto" (port 4000, autoBind 100).
	Transport transport.Config
	// Advertise is the receiver address members are told, when it is not
	// the one the receiver listens on (NAT, containers, a multi-NIC host
	// binding every interface): an IP literal, or "IP:PORT" when the port
	// is mapped too. Peers admit this member's connections only from that
	// IP, so it must be the source address they see. Default: "" (derived
	// from Transport.Address, see Start).
	Advertise string
	// SendOptions are Tomcat's channelSendOptions used when a Port send
	// passes opts 0: 8 async, 2 use_ack, 6 use_ack|sync. Default: 8.
	SendOptions int
	// FailureDetector confirms membership changes with TCP probes.
	FailureDetector FailureDetectorConfig
	// AdmitWait is how long a transport connection whose hello matches
	// no member yet waits for the membership to catch up (a member may
	// hear this node a heartbeat before this node hears it) before it is
	// refused. Default: 3s.
	AdmitWait time.Duration
	// IdleHeartbeats closes a receiver connection silent for this many
	// heartbeat intervals (the membership's Frequency, or a static
	// membership's Interval); the cluster pings its members' connections
	// four times as often, so only strangers' idle connections are closed.
	// transport.Config.IdleTimeout, if set, takes precedence. 0: never.
	// Default: 20 (10 s at Tomcat's 500 ms).
	IdleHeartbeats int
	// EstablishWait is how long Start sleeps for the membership to form
	// ("Sleeping for N milliseconds to establish cluster membership").
	// 0 (the default) waits instead for the membership's fast join: its
	// solicit answered by every member, those members probed
	// ("Membership established"). Default: 0.
	EstablishWait time.Duration
	// Key (16, 24 or 32 bytes) seals heartbeats and frames; it overrides
	// the Key of the membership and transport configs. nil: the cluster
	// trusts its network (one warning at Start). Default: nil.
	Key []byte
	// Keys, when set, is used instead of Key: the reloadable ring of
	// cluster keys (the first seals, all open) shared by the membership
	// and the transport, so a key file reload applies to both. Default: nil.
	Keys *seal.Ring
	// Logger receives the cluster's logs, and is handed to the membership
	// and transport. Default: zerolog.Nop().
	Logger zerolog.Logger
}

// FailureDetectorConfig is Tomcat's TcpFailureDetector.
type FailureDetectorConfig struct {
	// Enabled: when false, Added members join at once and Disappeared ones
	// leave at once, unverified. Default: true.
	Enabled bool
	// ConnectTimeout bounds one TCP connect of a probe. A probe makes up
	// to 3 connects, stopping at the first that succeeds (a lost SYN must
	// not drop a live member); a refusal ends it at once. Default: 1000ms.
	ConnectTimeout time.Duration
	// RecheckInterval is how often members whose receiver did not answer
	// (not added) and suspects are probed again. Default: 500ms (the
	// heartbeat frequency, as Tomcat re-checks on every heartbeat).
	RecheckInterval time.Duration
	// SuspectTimeout is how long a member whose heartbeats stopped but
	// whose receiver still answers is kept. After it the member is removed
	// even though something listens on its port: heartbeats are the source
	// of truth, the probe only bridges heartbeat loss (and a process that
	// took over the port must not keep a dead member as a ghost). Tomcat's
	// removeSuspectsTimeout is 300 s but only stops re-checking (the member
	// stays forever); Gomcat removes it. Default: 30s.
	SuspectTimeout time.Duration
	// Probe replaces mcast.Probe (tests). Default: nil = mcast.Probe.
	Probe func(ctx context.Context, host string, port int, timeout time.Duration) error
}

// DefaultConfig returns Tomcat's SimpleTcpCluster defaults; Name is empty
// and must be set.
func DefaultConfig() Config {
	tc := transport.DefaultConfig()
	tc.Address = "auto"
	return Config{
		Membership:      Multicast{Config: mcast.DefaultConfig()},
		Transport:       tc,
		SendOptions:     transport.OptAsync,
		FailureDetector: DefaultFailureDetectorConfig(),
		AdmitWait:       3 * time.Second,
		IdleHeartbeats:  20,
		Logger:          zerolog.Nop(),
	}
}

// DefaultFailureDetectorConfig returns TcpFailureDetector's defaults.
func DefaultFailureDetectorConfig() FailureDetectorConfig {
	return FailureDetectorConfig{
		Enabled:         true,
		ConnectTimeout:  time.Second,
		RecheckInterval: 500 * time.Millisecond,
		SuspectTimeout:  30 * time.Second,
	}
}

// DefaultLocalConfig is DefaultConfig for one host and tests: multicast on
// 127.0.0.1 with TTL 0 and fast timers (mcast.DefaultLocalConfig), the
// receiver on 127.0.0.1 on a free port, no establish wait, re-checks every
// 50ms and suspects kept 2s.
func DefaultLocalConfig(name string) Config {
	c := DefaultConfig()
	c.Name = name
	c.Membership = Multicast{Config: mcast.DefaultLocalConfig()}
	c.Transport = transport.DefaultLocalConfig()
	c.EstablishWait = 0
	c.FailureDetector.ConnectTimeout = 500 * time.Millisecond
	c.FailureDetector.RecheckInterval = 50 * time.Millisecond
	c.FailureDetector.SuspectTimeout = 2 * time.Second
	return c
}

// Validate reports every problem in c (errors.Join of ErrConfig-wrapped
// errors), including those of the transport config.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, a ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrConfig}, a...)...))
	}
	if err := validName(c.Name); err != nil {
		bad("Name: %v", err)
	}
	if c.SendOptions < 0 {
		bad("SendOptions %d must be >= 0", c.SendOptions)
	}
	if c.AdmitWait <= 0 {
		bad("AdmitWait %v must be > 0", c.AdmitWait)
	}
	if c.IdleHeartbeats < 0 {
		bad("IdleHeartbeats %d must be >= 0", c.IdleHeartbeats)
	}
	if c.Advertise != "" {
		if _, _, err := parseAdvertise(c.Advertise); err != nil {
			bad("Advertise: %v", err)
		}
	}
	if c.EstablishWait < 0 {
		bad("EstablishWait %v must be >= 0", c.EstablishWait)
	}
	if n := len(c.Key); n != 0 && n != 16 && n != 24 && n != 32 {
		bad("Key is %d bytes, want 16, 24 or 32", n)
	}
	fd := c.FailureDetector
	if fd.Enabled {
		if fd.ConnectTimeout <= 0 {
			bad("FailureDetector.ConnectTimeout %v must be > 0", fd.ConnectTimeout)
		}
		if fd.RecheckInterval <= 0 {
			bad("FailureDetector.RecheckInterval %v must be > 0", fd.RecheckInterval)
		}
		if fd.SuspectTimeout <= 0 {
			bad("FailureDetector.SuspectTimeout %v must be > 0", fd.SuspectTimeout)
		}
	}
	if err := c.transportConfig("").Validate(); err != nil {
		bad("Transport: %v", err)
	}
	return errors.Join(errs...)
}

// transportConfig is c.Transport with the cluster's fields filled in and
// "auto" replaced by listen.
func (c Config) transportConfig(listen string) transport.Config {
	tc := c.Transport
	if tc.Address == "auto" {
		tc.Address = listen
	}
	tc.Key, tc.Keys = c.Key, c.Keys
	tc.Logger = c.Logger
	tc.Self.Name = c.Name
	tc.BorrowPayload = true // DeliverFuncs get msg for the call only (see DeliverFunc)
	return tc
}

// validName accepts jvmRoute-like names, as mcast does.
func validName(s string) error {
	if s == "" || len(s) > 128 {
		return fmt.Errorf("must be 1..128 bytes, got %d", len(s))
	}
	for i := 0; i < len(s); i++ {
		b := s[i]
		if !(b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '.' || b == '_' || b == '-') {
			return fmt.Errorf("%q has %q; want [A-Za-z0-9._-]", s, b)
		}
	}
	return nil
}

// parseAdvertise splits an Advertise value: an IP literal with an optional
// port (0: the receiver's own). IPv6 with a port is bracketed.
func parseAdvertise(a string) (net.IP, int, error) {
	if a == "" {
		return nil, 0, nil
	}
	if ip, err := netip.ParseAddr(a); err == nil {
		if ip.IsUnspecified() {
			return nil, 0, fmt.Errorf("%q is unspecified: advertise an address peers can reach", a)
		}
		return net.IP(ip.Unmap().AsSlice()), 0, nil
	}
	ap, err := netip.ParseAddrPort(a)
	if err != nil || ap.Port() == 0 {
		return nil, 0, fmt.Errorf("%q is not an IP address or IP:PORT", a)
	}
	if ap.Addr().IsUnspecified() {
		return nil, 0, fmt.Errorf("%q is unspecified: advertise an address peers can reach", a)
	}
	return net.IP(ap.Addr().Unmap().AsSlice()), int(ap.Port()), nil
}
