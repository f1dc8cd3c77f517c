package node

import (
	"context"
	"errors"
	"net"
	"net/url"
	"testing"

	"github.com/gomcat/gomcat/runtime/host"
)

// A taken HTTP port fails the start before the cluster starts: the node
// never announced itself (no cluster was built, no "Cluster is about to
// start").
func TestPortInUseBeforeAnnounce(t *testing.T) {
	n := newClusterNode(t, "node1", nodeOpts{mcastPort: randomMcastPort()})
	u, _ := url.Parse(n.url)
	ln, err := net.Listen("tcp", u.Host)
	if err != nil {
		t.Skip("the connector's port was taken meanwhile:", err)
	}
	defer ln.Close()
	err = n.Start(context.Background())
	if !errors.Is(err, host.ErrPortInUse) {
		t.Fatalf("start: %v, want the port in use", err)
	}
	if n.Cluster() != nil || n.logs.Index("Cluster is about to start") >= 0 {
		t.Fatal("the cluster started before the connector's port was bound")
	}
}

// The cluster advertises the HTTP URL only once the connector serves.
func TestURLAdvertisedAfterConnectorServes(t *testing.T) {
	n := newClusterNode(t, "node1", nodeOpts{mcastPort: randomMcastPort()})
	n.start(t)
	serving := n.logs.Index("Starting ProtocolHandler")
	adv := n.logs.Index("connector open: advertising it to the cluster")
	about := n.logs.Index("Cluster is about to start")
	bound := n.logs.Index("Initializing ProtocolHandler")
	if bound < 0 || about < 0 || serving < 0 || adv < 0 || !(bound < about && about < serving && serving < adv) {
		t.Fatalf("order: bind %d, cluster %d, serve %d, advertise %d; want increasing", bound, about, serving, adv)
	}
	if got := n.Cluster().HTTPURL(); got != n.url {
		t.Fatalf("advertised %q, want %q", got, n.url)
	}
}
