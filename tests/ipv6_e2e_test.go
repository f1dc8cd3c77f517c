//go:build e2e

package e2e

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// IPv6 end to end (issue 13): nodes in IPv6-only namespaces (NewNet6: ULA
// addresses, no IPv4, no default route) with a static membership listing
// every node by its fd00:: address and the receiver on "auto" (the source
// of the route to the first member).
//
//   - TestIPv6StaticCluster (3 nodes + a balancer): node1 and node2 meet
//     (the log brackets the addresses), a session set on node1 is read on
//     node2; node3 starts and receives it by state transfer; the balancer,
//     listening on [fd00::…] with [fd00::…] backends, keeps a user on one
//     node and fails over to another, session intact, when that node is
//     killed.

// staticMembership6 replaces the multicast <Membership> of n's server.xml
// with a StaticMembershipService listing every node of peers (its own
// entry is skipped by the membership). establishWait: a static membership
// has no fast join yet (members are named by their first announce, about a
// probe interval after start), so a joining node sleeps for its members
// before it asks for the sessions, as Tomcat does.
func staticMembership6(t testing.TB, n *Node, peers []*Node) {
	t.Helper()
	var b strings.Builder
	b.WriteString(`<Membership className="org.apache.catalina.tribes.membership.StaticMembershipService" connectTimeout="500" expirationTime="3000" establishWait="3000">` + "\n")
	for _, p := range peers {
		fmt.Fprintf(&b, "            <Member host=%q port=\"%d\"/>\n", p.NS.Addr.String(), p.ReceiverPort)
	}
	b.WriteString("          </Membership>")
	rewriteFile(t, n, "conf/server.xml", regexp.MustCompile(`(?s)<Membership className="org\.apache\.catalina\.tribes\.membership\.McastService".*?/>`), b.String())
	out, err := n.Gomcat(t, "configtest", "--home", n.Home)
	if err != nil {
		t.Fatalf("configtest with an IPv6 static membership: %v\n%s", err, out)
	}
}

// rewriteFile replaces the one match of re in the node file rel with repl.
func rewriteFile(t testing.TB, n *Node, rel string, re *regexp.Regexp, repl string) {
	t.Helper()
	path := filepath.Join(n.Home, rel)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if c := len(re.FindAllIndex(b, -1)); c != 1 {
		t.Fatalf("%s: %s matches %d times, want 1", path, re, c)
	}
	if err := os.WriteFile(path, re.ReplaceAllLiteral(b, []byte(repl)), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestIPv6StaticCluster(t *testing.T) {
	t.Parallel()
	nt := NewNet6(t, 4)
	nodes := make([]*Node, 3)
	for i := range nodes {
		nodes[i] = InitNode(t, nt.NS[i], NodeOptions{})
	}
	for _, n := range nodes {
		staticMembership6(t, n, nodes)
	}
	n1, n2, n3 := nodes[0], nodes[1], nodes[2]
	n1.Start(t)
	n2.Start(t)
	n1.WaitStarted(t)
	n2.WaitStarted(t)
	// The log brackets the advertised IPv6 address of each member.
	n1.WaitLog(t, addedRE(n2), 20*time.Second)
	n2.WaitLog(t, addedRE(n1), 20*time.Second)
	if !strings.Contains(n1.Log(), "tcp://["+n2.NS.Addr.String()+"]:") {
		t.Fatalf("node1's log does not bracket node2's address")
	}

	// Replication over IPv6: set on node1, read on node2.
	c := nt.NS[3].HTTPClient(false)
	id := setNew(t, c, n1, "color", "blue")
	if !poll(10*time.Second, func() bool {
		r, err := doSession(c, n2.URL("/get?k=color"), id)
		if err == nil && r.SetCookie != "" {
			id = r.SetCookie // node2 took the session over (.node2)
		}
		return err == nil && r.Code == 200 && r.Body == "blue"
	}) {
		t.Fatalf("node2 never had node1's session %s over IPv6", id)
	}

	// State transfer over IPv6: node3 joins and gets the session.
	n3.Start(t)
	n3.WaitLog(t, receivedRE, StartTimeout)
	n3.WaitStarted(t)
	if r := getSession(t, c, n3.URL("/get?k=color"), id); r.Code != 200 || r.Body != "blue" {
		t.Fatalf("node3 after state transfer: %d %q", r.Code, r.Body)
	}

	// The balancer over IPv6: [fd00::…] front, [fd00::…] backends.
	var backends []string
	for _, n := range nodes {
		backends = append(backends, n.Route+"="+n.URL(""))
	}
	front, _, lb := startBalancerStatic(t, nt.NS[3], "/count", backends...)
	if !strings.HasPrefix(front, "http://[fd") {
		t.Fatalf("balancer front %q is not a bracketed ULA", front)
	}
	for _, b := range backends {
		if !strings.Contains(b, "=http://[fd") {
			t.Fatalf("backend %q is not a bracketed ULA", b)
		}
	}
	jar := NewClusterJar()
	bc := nt.NS[3].HTTPClientJar(jar)
	var r reply
	if !poll(20*time.Second, func() bool {
		var err error
		r, err = doSession(bc, front+"/set?k=fruit&v=fig", "")
		return err == nil && r.Code == 200
	}) {
		t.Fatalf("balancer at %s never served /set: %d %q\n%s", front, r.Code, r.Body, lb.Log())
	}
	sid, _ := strings.CutPrefix(r.Body, "ok ")
	_, route, _ := strings.Cut(sid, ".")
	var owner *Node
	for _, n := range nodes {
		if n.Route == route {
			owner = n
		}
	}
	if owner == nil {
		t.Fatalf("session %q names no node", sid)
	}
	for range 3 { // sticky: the same node every time
		if r := getSession(t, bc, front+"/node", sid); r.Body != owner.Route {
			t.Fatalf("sticky: /node = %q, want %s", r.Body, owner.Route)
		}
	}
	// Every node holds both sessions before the owner dies (reading them
	// would move them: JvmRouteBinderValve).
	for _, n := range nodes {
		if n == owner {
			continue
		}
		if !poll(10*time.Second, func() bool {
			r, err := doSession(c, n.URL("/count"), "")
			return err == nil && r.Code == 200 && r.Body == "2"
		}) {
			t.Fatalf("%s never had the balanced session", n.Route)
		}
	}
	owner.Kill(t)
	if !poll(30*time.Second, func() bool {
		r, err := doSession(bc, front+"/get?k=fruit", sid)
		return err == nil && r.Code == 200 && r.Body == "fig"
	}) {
		t.Fatalf("no failover through the IPv6 balancer after killing %s:\n%s", owner.Route, lb.Log())
	}
	t.Logf("IPv6: session %s replicated, transferred to node3, failed over from %s through %s", sessionBase(sid), owner.Route, net.JoinHostPort(nt.NS[3].Addr.String(), strconv.Itoa(balFrontPort)))
}
