package cluster

import (
	"context"
	"errors"
	"net"
	"strconv"
	"time"

	"github.com/rs/zerolog"

	"github.com/gomcat/gomcat/internal/seal"
	"github.com/gomcat/gomcat/mcast"
	"github.com/gomcat/gomcat/transport"
)

// Membership is what the cluster needs from mcast's Service or Static (or a
// test's fake): their common interface plus Local, this member as peers see
// it (UniqueID from New; StartedAt from Start).
type Membership interface {
	mcast.Membership
	Local() mcast.Member
}

// Local is what a MembershipConfig needs to build the membership.
type Local struct {
	Member mcast.LocalMember // name, advertised receiver host:port, HTTP URL
	Domain string
	Key    []byte     // nil: clear heartbeats
	Keys   *seal.Ring // when set, used instead of Key
	Logger zerolog.Logger
}

// MembershipConfig builds the membership once the receiver is bound.
type MembershipConfig interface {
	// Bind is the IP of the interface the membership uses ("" = the
	// interface of the route to Target). A receiver Address of "auto"
	// resolves to it (mcast.AdvertiseAddress).
	Bind() string
	// Target is where the membership sends: the multicast group, or a
	// static or discovered peer. With Bind "" the receiver's "auto" is the
	// source address of the route to it ("" = the default group).
	Target() string
	// NewMembership allocates the membership for l; no sockets, no
	// goroutines (its Start opens them).
	NewMembership(l Local) (Membership, error)
}

// Multicast is multicast membership (Tomcat's McastService). Config.Local,
// Domain, Key, Logger and EstablishWait are set by the cluster (the cluster
// does the establish wait itself).
type Multicast struct{ Config mcast.Config }

// Bind returns the multicast bind address.
func (m Multicast) Bind() string { return m.Config.Bind }

// Target is the multicast group.
func (m Multicast) Target() string { return m.Config.Address }

// NewMembership returns an mcast.Service for l.
func (m Multicast) NewMembership(l Local) (Membership, error) {
	c := m.Config
	c.Local = l.Member
	c.Domain = l.Domain
	c.Key, c.Keys = l.Key, l.Keys
	c.Logger = l.Logger
	c.EstablishWait = 0
	return mcast.New(c)
}

// Static is a fixed member list with TCP-probe liveness (Tomcat's
// StaticMembershipService), or, with Config.Discover set, a list
// discovered at run time and probed the same way (Tomcat's
// CloudMembershipService: DNS, the Kubernetes API). Config.Local, Domain
// and Logger are set by the cluster. Peers learn each other's names and
// start times over the transport (the cluster's announce on
// ChannelProbe), and a stopping member says goodbye there.
type Static struct {
	Config mcast.StaticConfig
	// Via is the address a discovered membership's peers are reached
	// through (the DNS server, the Kubernetes API host): without Members,
	// the receiver's "auto" is the source address of the route to it.
	// Default: "" (the default route).
	Via string
}

// Bind is "" (no multicast interface): "auto" is the route's source address.
func (s Static) Bind() string { return "" }

// Target is the first member's host, else Via: the interface peers are
// reached through is the one to advertise.
func (s Static) Target() string {
	if len(s.Config.Members) == 0 {
		return s.Via
	}
	return s.Config.Members[0].Host
}

// ErrDiscoverNeedsKey refuses a discovered membership without a cluster
// key: the receiver's sealed greeting is what proves that a discovered
// address is a node of this cluster.
var ErrDiscoverNeedsKey = errors.New("cluster: a discovered membership (DNS, Kubernetes) needs a cluster key: " +
	"the receiver's sealed greeting is what proves an address is a node of this cluster " +
	"(<Cluster key=\"…\">, --cluster-key or GOMCAT_CLUSTER_KEY)")

// NewMembership returns an mcast.Static for l. A discovered membership
// (Config.Discover set) probes with transport.Greet, so an address is a
// member only while the receiver there proves the cluster key; a TCP
// service that is not this cluster's never is. It needs a key
// (ErrDiscoverNeedsKey).
func (s Static) NewMembership(l Local) (Membership, error) {
	c := s.Config
	c.Local = l.Member
	c.Domain = l.Domain
	c.Logger = l.Logger
	if c.Discover != nil && c.Probe == nil {
		if l.Key == nil && l.Keys == nil {
			return nil, ErrDiscoverNeedsKey
		}
		key, keys := l.Key, l.Keys
		c.Probe = func(ctx context.Context, host string, port int, timeout time.Duration) error {
			return transport.Greet(ctx, net.JoinHostPort(host, strconv.Itoa(port)), key, keys, timeout)
		}
	}
	return mcast.NewStatic(c)
}

// learner is mcast.Static's Learn: what a peer told about itself.
type learner interface {
	Learn(host string, port int, name, httpURL string, startedAt int64) bool
}

// leaver is mcast.Static's Leave: a peer's goodbye.
type leaver interface {
	Leave(host string, port int) bool
}

var (
	_ Membership = (*mcast.Service)(nil)
	_ Membership = (*mcast.Static)(nil)
	_ learner    = (*mcast.Static)(nil)
	_ leaver     = (*mcast.Static)(nil)
	_ joiner     = (*mcast.Static)(nil)
)
