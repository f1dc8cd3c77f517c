//go:build e2e

package e2e

import (
	"net"
	"strconv"
	"testing"
	"time"
)

// TestDNSMembershipIPv6: the DNS membership in IPv6-only namespaces (ULA
// addresses, no IPv4, no default route): dnsmasq answers AAAA records for
// the nodes, each node asks that server (dns:NAME@[IP]:53, whose route
// picks the receiver's "auto" address), the two meet over IPv6 and a
// session set on one is read on the other.
func TestDNSMembershipIPv6(t *testing.T) {
	t.Parallel()
	nt := NewNet6(t, 4) // 0, 1: nodes; 2: dnsmasq; 3: client
	dnsNS, client := nt.NS[2], nt.NS[3]
	srv := dnsNet(t, dnsNS)
	srv.Set(t, dnsName, dnsAddrs(nt.NS[0], nt.NS[1])...)
	spec := "dns:" + dnsName + "@" + net.JoinHostPort(dnsNS.Addr.String(), "53")
	nodes := make([]*Node, 2)
	for i := range nodes {
		nodes[i] = InitNode(t, nt.NS[i], NodeOptions{Route: "node" + strconv.Itoa(i+1), StartArgs: []string{"--membership", spec}})
		nodes[i].Start(t)
	}
	for _, n := range nodes {
		n.WaitStarted(t)
	}
	waitMesh(t, nodes, nil, 30*time.Second)
	for _, n := range nodes {
		for _, p := range nodes {
			if p != n && n.CountLog(addedRE(p)) == 0 {
				t.Errorf("%s has no 'member added' line for %s at [%s]", n.Route, p.Route, p.NS.Addr)
			}
		}
	}

	c := client.HTTPClient(false)
	defer c.CloseIdleConnections()
	id := setNew(t, c, nodes[0], "k", "over-ipv6-dns")
	var r reply
	waitFor(t, 10*time.Second, "node2 to serve the session", func() bool {
		r = getSession(t, c, nodes[1].URL("/get?k=k"), id)
		return r.Code == 200
	})
	if r.Body != "over-ipv6-dns" {
		t.Errorf("node2 /get?k=k: %q, want %q", r.Body, "over-ipv6-dns")
	}
}
