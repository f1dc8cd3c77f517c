package node

import (
	"context"
	"slices"
	"testing"

	"github.com/rs/zerolog"

	"github.com/gomcat/gomcat/runtime/cluster"
)

// The hardening limits (issue 11) are server.xml attributes.
func TestClusterLimitsConfig(t *testing.T) {
	s := parse(t, `<Server port="-1"><Service name="Catalina">
  <Connector port="8080"/>
  <Engine name="Catalina" defaultHost="localhost" jvmRoute="n1">
    <Host name="localhost" appBase="webapps">
      <Cluster className="org.apache.catalina.ha.tcp.SimpleTcpCluster">
        <Channel className="org.apache.catalina.tribes.group.GroupChannel">
          <Membership className="org.apache.catalina.tribes.membership.McastService" bind="127.0.0.1" maxMembers="32"/>
          <Receiver className="org.apache.catalina.tribes.transport.nio.NioReceiver" address="127.0.0.1"
                    maxConnections="100" maxConnectionsPerHost="10" minFrameRate="65536"/>
        </Channel>
        <Deployer className="org.apache.catalina.ha.deploy.FarmWarDeployer" tempDir="/tmp/t" watchDir="/tmp/w"
                  senders="node1, node2" maxTransfers="3" diskBudget="1073741824"/>
      </Cluster>
    </Host>
  </Engine></Service></Server>`)
	cfg, err := clusterConfig(context.Background(), s, true, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	if m := cfg.Membership.(cluster.Multicast).Config; m.MaxMembers != 32 {
		t.Errorf("maxMembers %d", m.MaxMembers)
	}
	if tc := cfg.Transport; tc.MaxConnections != 100 || tc.MaxConnectionsPerHost != 10 || tc.MinFrameRate != 65536 {
		t.Errorf("receiver limits %d %d %d", tc.MaxConnections, tc.MaxConnectionsPerHost, tc.MinFrameRate)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	fc := farmConfig(s.Cluster(), "/home/n/webapps", func(p string) string { return p }, zerolog.Nop())
	if !slices.Equal(fc.Senders, []string{"node1", "node2"}) || fc.MaxTransfers != 3 || fc.DiskBudget != 1<<30 {
		t.Errorf("farm limits %v %d %d", fc.Senders, fc.MaxTransfers, fc.DiskBudget)
	}
}
