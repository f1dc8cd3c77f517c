// Package discovery is how a node finds where its cluster's members may be
// when multicast is not available: a Provider lists addresses (from DNS, the
// Kubernetes API, …) and the membership contacts each one. An address is
// never a member by itself: it becomes one only after the peer at it proves
// it is a node of this cluster (the transport's hello, sealed with the
// cluster key when one is configured).
//
// The providers live in subpackages (discovery/dns, discovery/kubernetes);
// this package holds only the contract they share, so the membership that
// consumes them depends on no provider.
package discovery

import (
	"context"
	"fmt"
	"net/netip"
)

// Target is one address where a member's replication receiver may listen.
type Target struct {
	// Addr is the IP (IPv4 or IPv6, zone-free).
	Addr netip.Addr
	// Port is the receiver's TCP port; 0 means the cluster's own receiver
	// port (a provider such as DNS A/AAAA or a pod list knows no port).
	Port int
}

// String is "IP:PORT", or the bare IP when Port is 0 (IPv6 in brackets
// when a port follows).
func (t Target) String() string {
	if t.Port == 0 {
		return t.Addr.String()
	}
	return netip.AddrPortFrom(t.Addr, uint16(t.Port)).String()
}

// Provider lists the current targets. Contract:
//   - Targets is called once per membership refresh, from one goroutine; it
//     must honour ctx (the caller bounds it with the refresh's timeout).
//   - It returns every target it knows now, in any order, duplicates
//     allowed; the caller removes duplicates and its own address.
//   - An error means "no answer this round" (the caller keeps the previous
//     list and retries with back-off); it must say what failed, e.g.
//     `dns: lookup gomcat.default.svc: no such host`.
//   - String names the provider and what it asks for, for logs:
//     "dns:gomcat.default.svc", "kubernetes:default/app=gomcat".
type Provider interface {
	Targets(ctx context.Context) ([]Target, error)
	String() string
}

// ParseTarget reads "IP", "IP:PORT" or "[IPv6]:PORT".
func ParseTarget(s string) (Target, error) {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		if ap.Port() == 0 {
			return Target{}, fmt.Errorf("discovery: target %q: port 0", s)
		}
		return Target{Addr: ap.Addr().Unmap().WithZone(""), Port: int(ap.Port())}, nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return Target{}, fmt.Errorf("discovery: target %q: not IP or IP:PORT", s)
	}
	return Target{Addr: a.Unmap().WithZone("")}, nil
}
