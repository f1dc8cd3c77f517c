//go:build e2e

package e2e

import (
	"context"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gomcat/gomcat/discovery/dns/dnstest"
)

// Clustering without multicast, through a real DNS server (issue 13):
// Debian's dnsmasq runs in a namespace of its own and serves one name
// (dnsName, a headless service's A records) for the nodes' addresses. Each
// namespace that resolves it gets /etc/netns/<ns>/resolv.conf pointing at
// that server (ip netns exec mounts it over /etc/resolv.conf), so the nodes
// use the system resolver exactly as in a pod. The nodes run no multicast.

const dnsName = "nodes.gomcat.test"

// dnsNet starts dnsmasq in ns and points every namespace of clients at it.
func dnsNet(t *testing.T, ns *NS, clients ...*NS) *dnstest.Server {
	t.Helper()
	srv := dnstest.Start(t, dnstest.Options{Listen: ns.Addr, Port: 53, Command: ns.Command})
	for _, c := range clients {
		dir := filepath.Join("/etc/netns", c.Name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(dir) })
		conf := "nameserver " + ns.Addr.String() + "\noptions timeout:1 attempts:2\n"
		if err := os.WriteFile(filepath.Join(dir, "resolv.conf"), []byte(conf), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return srv
}

// dnsAddrs are the namespaces' addresses, for a record.
func dnsAddrs(nss ...*NS) []netip.Addr {
	out := make([]netip.Addr, len(nss))
	for i, ns := range nss {
		out[i] = ns.Addr
	}
	return out
}

// dnsWaitResolves waits until name resolves to exactly want inside ns.
func dnsWaitResolves(t *testing.T, ns *NS, want ...netip.Addr) {
	t.Helper()
	var ws []string
	for _, a := range want {
		ws = append(ws, a.String())
	}
	waitFor(t, 10*time.Second, dnsName+" → "+strings.Join(ws, ","), func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		out, err := ns.Exec(ctx, "getent", "ahostsv4", dnsName)
		got := map[string]bool{}
		for _, l := range strings.Split(out, "\n") {
			if f := strings.Fields(l); len(f) > 0 {
				got[f[0]] = true
			}
		}
		if len(want) == 0 {
			return err != nil
		}
		if err != nil || len(got) != len(want) {
			return false
		}
		for _, w := range ws {
			if !got[w] {
				return false
			}
		}
		return true
	})
}

// dnsNode is a node whose membership is the DNS name.
func dnsNode(t *testing.T, ns *NS, route string) *Node {
	t.Helper()
	return InitNode(t, ns, NodeOptions{Route: route, StartArgs: []string{"--membership", "dns:" + dnsName}})
}

// TestDNSMembership: 3 nodes find each other through dnsmasq; a record for
// a TCP service that is not Gomcat (a second dnsmasq on the receiver port)
// never becomes a member; a 4th node's record added at runtime → it joins
// and receives the session state; a record removed and its node killed →
// dropped everywhere.
func TestDNSMembership(t *testing.T) {
	t.Parallel()
	nt := NewNet(t, 7) // 0-3: nodes; 4: dnsmasq; 5: decoy; 6: client
	nodesNS, dnsNS, decoy, client := nt.NS[:4], nt.NS[4], nt.NS[5], nt.NS[6]
	srv := dnsNet(t, dnsNS, append(append([]*NS{}, nodesNS...), client)...)
	// The decoy answers TCP on the receiver port (DNS over TCP), not Gomcat.
	dnstest.Start(t, dnstest.Options{Listen: decoy.Addr, Port: DefaultReceiverPort, Command: decoy.Command})
	srv.Set(t, dnsName, dnsAddrs(nodesNS[0], nodesNS[1], nodesNS[2], decoy)...)
	dnsWaitResolves(t, nodesNS[0], dnsAddrs(nodesNS[0], nodesNS[1], nodesNS[2], decoy)...)

	a := make([]*Node, 3)
	for i := range a {
		a[i] = dnsNode(t, nodesNS[i], "node"+strconv.Itoa(i+1))
	}
	for _, n := range a {
		n.Start(t)
	}
	for _, n := range a {
		n.WaitStarted(t)
	}
	waitMesh(t, a, nil, 30*time.Second)

	// A session through node1, read through node2 and node3.
	c := client.HTTPClient(false)
	defer c.CloseIdleConnections()
	id := setNew(t, c, a[0], "k", "through-dns")
	for _, n := range a[1:] {
		var r reply
		waitFor(t, 10*time.Second, n.Route+" to serve the session", func() bool {
			r = getSession(t, c, n.URL("/get?k=k"), id)
			return r.Code == 200
		})
		if r.SetCookie != "" { // the JvmRouteBinderValve moved it to this node's route
			id = r.SetCookie
		}
		if r.Body != "through-dns" {
			t.Errorf("%s /get?k=k: %q, want %q", n.Route, r.Body, "through-dns")
		}
	}

	// node4's record appears; it joins and receives the state.
	marks := []int{a[0].LogMark(), a[1].LogMark(), a[2].LogMark()}
	added := time.Now()
	srv.Set(t, dnsName, dnsAddrs(nodesNS[0], nodesNS[1], nodesNS[2], nodesNS[3], decoy)...)
	n4 := dnsNode(t, nodesNS[3], "node4")
	n4.Start(t)
	n4.WaitLog(t, receivedRE, StartTimeout)
	n4.WaitStarted(t)
	for i, n := range a {
		n.WaitLogAfter(t, marks[i], addedRE(n4), 30*time.Second)
	}
	t.Logf("node4: record added → member on nodes 1-3 and state received in %v", time.Since(added).Round(time.Millisecond))
	if r := getSession(t, c, n4.URL("/get?k=k"), id); r.Code != 200 || r.Body != "through-dns" {
		t.Errorf("node4 /get?k=k after state transfer: %d %q", r.Code, r.Body)
	}
	all := append(a, n4)

	// node3 leaves DNS and dies: dropped by the others.
	marks = []int{all[0].LogMark(), all[1].LogMark(), all[3].LogMark()}
	srv.Set(t, dnsName, dnsAddrs(nodesNS[0], nodesNS[1], nodesNS[3], decoy)...)
	killed := time.Now()
	a[2].Kill(t)
	for i, n := range []*Node{all[0], all[1], all[3]} {
		n.WaitLogAfter(t, marks[i], goneRE(a[2]), 30*time.Second)
	}
	t.Logf("node3: kill -9 → dropped on every node in %v", time.Since(killed).Round(time.Millisecond))

	// The decoy was never a member, on any node.
	decoyRE := `Replication member added: tcp://` + regexp.QuoteMeta(net.JoinHostPort(decoy.Addr.String(), strconv.Itoa(DefaultReceiverPort)))
	for _, n := range all {
		if k := n.CountLog(decoyRE); k != 0 {
			t.Errorf("%s added the non-Gomcat service at %s as a member", n.Route, decoy.Addr)
		}
	}
	// And the session still reads on the survivors.
	for _, n := range []*Node{all[0], all[1], all[3]} {
		if r := getSession(t, c, n.URL("/get?k=k"), id); r.Code != 200 || r.Body != "through-dns" {
			t.Errorf("%s /get?k=k after node3 died: %d %q", n.Route, r.Code, r.Body)
		}
	}
}

// TestDNSBalancerFailover: two DNS-membership nodes behind the gomcat
// balancer; the sticky-failover scenario of the multicast front ends,
// unchanged (the session survives its node through replication between
// members that found each other in DNS).
func TestDNSBalancerFailover(t *testing.T) {
	t.Parallel()
	nt := NewNet(t, 5) // 0, 1: nodes; 2: dnsmasq; 3: balancer; 4: client
	srv := dnsNet(t, nt.NS[2], nt.NS[0], nt.NS[1], nt.NS[3])
	srv.Set(t, dnsName, dnsAddrs(nt.NS[0], nt.NS[1])...)
	dnsWaitResolves(t, nt.NS[3], dnsAddrs(nt.NS[0], nt.NS[1])...)
	nodes := map[string]*Node{}
	for i := range 2 {
		n := dnsNode(t, nt.NS[i], "node"+strconv.Itoa(i+1))
		nodes[n.Route] = n
		n.Start(t)
	}
	for _, n := range nodes {
		n.WaitStarted(t)
	}
	waitMesh(t, []*Node{nodes["node1"], nodes["node2"]}, nil, 30*time.Second)

	lbNS, client := nt.NS[3], nt.NS[4]
	listen := net.JoinHostPort(lbNS.Addr.String(), strconv.Itoa(balFrontPort))
	admin := net.JoinHostPort(lbNS.Addr.String(), strconv.Itoa(balFrontPort+1))
	lb := StartGomcat(t, lbNS, "balancer", nil, "balancer", "--listen", listen, "--admin", admin,
		"--backend", "node1="+strings.TrimSuffix(nodes["node1"].URL("/"), "/"),
		"--backend", "node2="+strings.TrimSuffix(nodes["node2"].URL("/"), "/"),
		"--health-path", "/node", "--log-format", "json")
	lb.WaitLog(t, `"message":"balancer started"`, 30*time.Second)
	balWaitLive(t, client, "http://"+admin, 2)
	first, other := balStickyFailover(t, "http://"+listen, client, nodes)
	lb.WaitLog(t, `"from":"`+first+`","to":"`+other+`".*"message":"failover: route `, 10*time.Second)
}
