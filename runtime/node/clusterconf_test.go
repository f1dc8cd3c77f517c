package node

import (
	"context"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/gomcat/gomcat/conf"
	"github.com/gomcat/gomcat/runtime/cluster"
)

func parse(t *testing.T, xml string) *conf.Server {
	t.Helper()
	s, _, err := conf.Parse("server.xml", []byte(xml))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	return s
}

// A Tomcat 5.5 walkthrough file maps onto the packages' configs.
func TestClusterConfigTomcat55(t *testing.T) {
	s := parse(t, `<Server port="8006" shutdown="SHUTDOWN"><Service name="Catalina">
  <Connector port="8081"/>
  <Engine name="Catalina" defaultHost="localhost" jvmRoute="tomcat2">
    <Host name="localhost" appBase="webapps">
      <Cluster className="org.apache.catalina.cluster.tcp.SimpleTcpCluster"
               managerClassName="org.apache.catalina.cluster.session.DeltaManager" expireSessionsOnShutdown="true">
        <Membership className="org.apache.catalina.cluster.mcast.McastService" mcastAddr="228.0.0.4" mcastPort="45565"
                    mcastFrequency="400" mcastDropTime="2000" mcastBindAddress="127.0.0.1" domain="shop"/>
        <Receiver className="org.apache.catalina.cluster.tcp.ReplicationListener" tcpListenAddress="auto" tcpListenPort="4002"/>
        <Sender className="org.apache.catalina.cluster.tcp.ReplicationTransmitter" replicationMode="pooled" ackTimeout="15000"/>
        <Deployer className="org.apache.catalina.cluster.deploy.FarmWarDeployer" tempDir="/tmp/war-temp/"
                  deployDir="webapps" watchDir="/tmp/war-listen/" watchEnabled="false"/>
      </Cluster>
    </Host>
  </Engine></Service></Server>`)
	cfg, err := clusterConfig(context.Background(), s, true, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	mc, ok := cfg.Membership.(cluster.Multicast)
	if !ok {
		t.Fatalf("membership %T", cfg.Membership)
	}
	m := mc.Config
	if m.Address != "228.0.0.4" || m.Port != 45565 || m.Bind != "127.0.0.1" || m.Frequency != 400*time.Millisecond || m.DropTime != 2*time.Second {
		t.Errorf("mcast config %+v", m)
	}
	if cfg.Name != "tomcat2" || cfg.Domain != "shop" || cfg.EstablishWait != 0 {
		t.Errorf("cluster config name %q domain %q wait %v", cfg.Name, cfg.Domain, cfg.EstablishWait)
	}
	if cfg.Transport.Address != "auto" || cfg.Transport.Port != 4002 || cfg.Transport.Timeout != 15*time.Second {
		t.Errorf("transport %+v", cfg.Transport)
	}
	// auto advertises the multicast interface; the connector has no address.
	if cfg.HTTPURL != "http://127.0.0.1:8081" {
		t.Errorf("HTTPURL %q", cfg.HTTPURL)
	}
	cl := s.Cluster()
	dc := deltaConfig(cl, &cl.Manager, managerName("localhost", "/"), "tomcat2", 0, 0, zerolog.Nop())
	if dc.Name != "localhost#" || dc.Route != "tomcat2" || dc.SendOptions != cl.ChannelSendOptions || cfg.SendOptions != cl.ChannelSendOptions || dc.StateTransferTimeout != time.Minute ||
		!dc.ExpireSessionsOnShutdown || dc.SweepInterval != 6*backgroundTick {
		t.Errorf("delta config %+v", dc)
	}
	if err := dc.Validate(); err != nil {
		t.Error(err)
	}
	if n := managerName("localhost", "/shop"); n != "localhost#/shop" {
		t.Errorf("manager name %q", n)
	}
	abs := func(p string) string {
		if p == "" || filepath.IsAbs(p) {
			return p
		}
		return filepath.Join("/home/n", p)
	}
	fc := farmConfig(cl, "/home/n/webapps", abs, zerolog.Nop())
	if fc.TempDir != "/tmp/war-temp/" || fc.DeployDir != "/home/n/webapps" || fc.WatchDir != "/tmp/war-listen/" {
		t.Errorf("farm dirs %q %q %q", fc.TempDir, fc.DeployDir, fc.WatchDir)
	}
	if fc.WatchEnabled || fc.Interval != 2*backgroundTick {
		t.Errorf("farm config %+v", fc)
	}
}

func TestClusterConfigStatic(t *testing.T) {
	s := parse(t, `<Server port="-1"><Service name="Catalina">
  <Connector port="8080" address="192.0.2.10"/>
  <Engine name="Catalina" defaultHost="localhost" jvmRoute="s1">
    <Cluster className="SimpleTcpCluster" channelSendOptions="6">
      <Channel className="GroupChannel">
        <Membership className="StaticMembershipService" connectTimeout="800" expirationTime="6000">
          <Member host="127.0.0.2" port="4000" uniqueId="{0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15}"/>
          <Member host="localhost" port="4001"/>
        </Membership>
        <Receiver className="NioReceiver" address="127.0.0.1" port="4000" autoBind="0"/>
        <Interceptor className="TcpFailureDetector" connectTimeout="700" removeSuspectsTimeout="20"/>
      </Channel>
    </Cluster>
    <Host name="localhost" appBase="webapps"/>
  </Engine></Service></Server>`)
	cfg, err := clusterConfig(context.Background(), s, true, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	st, ok := cfg.Membership.(cluster.Static)
	if !ok {
		t.Fatalf("membership %T", cfg.Membership)
	}
	sc := st.Config
	if len(sc.Members) != 2 || sc.Members[0].Host != "127.0.0.2" || sc.Members[0].UniqueID[15] != 15 ||
		net.ParseIP(sc.Members[1].Host) == nil || sc.Members[1].Port != 4001 {
		t.Errorf("static members %+v", sc.Members)
	}
	if sc.ConnectTimeout != 800*time.Millisecond || sc.ExpirationTime != 6*time.Second {
		t.Errorf("static timings %+v", sc)
	}
	fd := cfg.FailureDetector
	if !fd.Enabled || fd.ConnectTimeout != 700*time.Millisecond || fd.SuspectTimeout != 20*time.Second {
		t.Errorf("failure detector %+v", fd)
	}
	if cfg.SendOptions != 6 || cfg.HTTPURL != "http://192.0.2.10:8080" {
		t.Errorf("send options %d, HTTPURL %q", cfg.SendOptions, cfg.HTTPURL)
	}
	if _, err := ObserverConfig(s); err != ErrStaticMembership {
		t.Errorf("ObserverConfig of a static cluster: %v", err)
	}
}

// A static membership over IPv6: the receiver's "auto" is the source of
// the route to the first member (here ::1, so ::1), not the multicast
// route's interface, and the advertised URL brackets the address.
func TestClusterConfigStaticIPv6Auto(t *testing.T) {
	if _, err := net.ListenPacket("udp6", "[::1]:0"); err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	}
	s := parse(t, `<Server port="-1"><Service name="Catalina">
  <Connector port="8080"/>
  <Engine name="Catalina" defaultHost="localhost" jvmRoute="s1">
    <Cluster className="SimpleTcpCluster">
      <Channel className="GroupChannel">
        <Membership className="StaticMembershipService">
          <Member host="::1" port="4001"/>
        </Membership>
        <Receiver className="NioReceiver" address="auto" port="4000"/>
      </Channel>
    </Cluster>
    <Host name="localhost" appBase="webapps"/>
  </Engine></Service></Server>`)
	cfg, err := clusterConfig(context.Background(), s, true, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Membership.Target(); got != "::1" {
		t.Errorf("membership target %q, want ::1", got)
	}
	if cfg.HTTPURL != "http://[::1]:8080" {
		t.Errorf("HTTPURL %q, want http://[::1]:8080", cfg.HTTPURL)
	}
}

func TestHTTPURL(t *testing.T) {
	ip := net.ParseIP("198.18.0.2")
	for _, tc := range []struct {
		conn string
		want string
	}{
		{`<Connector port="8091"/>`, "http://198.18.0.2:8091"},
		{`<Connector port="8091" address="0.0.0.0"/>`, "http://198.18.0.2:8091"},
		{`<Connector port="8091" address="127.0.0.1"/>`, "http://127.0.0.1:8091"},
		{`<Connector port="0"/>`, ""},
		{`<Connector port="8091" address="fd00::2"/>`, "http://[fd00::2]:8091"},
		{`<Connector port="8091" address="::"/>`, "http://198.18.0.2:8091"},
		{`<Connector port="8091" address="0.0.0.0" advertise="203.0.113.7"/>`, "http://203.0.113.7:8091"},
		{`<Connector port="8091" advertise="203.0.113.7:30091"/>`, "http://203.0.113.7:30091"},
		{`<Connector port="8091" advertise="[fd00::9]:30091"/>`, "http://[fd00::9]:30091"},
	} {
		s := parse(t, `<Server port="-1"><Service name="Catalina">`+tc.conn+`
  <Engine name="Catalina" defaultHost="localhost" jvmRoute="n"><Host name="localhost" appBase="webapps"/></Engine></Service></Server>`)
		if got := httpURL(s, ip); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.conn, got, tc.want)
		}
	}
}

// recoveryEnabled maps onto mcast's RecoveryDisabled; Tomcat's default
// (true) keeps recovery on.
func TestMcastRecoveryEnabled(t *testing.T) {
	for _, tc := range []struct {
		attr     string
		disabled bool
	}{
		{``, false},
		{`recoveryEnabled="true"`, false},
		{`recoveryEnabled="false" recoveryCounter="3"`, true},
	} {
		s := parse(t, `<Server port="-1"><Service name="Catalina"><Connector port="8091"/>
  <Engine name="Catalina" defaultHost="localhost" jvmRoute="n"><Host name="localhost" appBase="webapps"/>
    <Cluster className="org.apache.catalina.ha.tcp.SimpleTcpCluster"><Channel className="org.apache.catalina.tribes.group.GroupChannel">
      <Membership className="org.apache.catalina.tribes.membership.McastService" `+tc.attr+`/>
    </Channel></Cluster></Engine></Service></Server>`)
		m := mcastConfig(s.Cluster().Membership)
		if m.RecoveryDisabled != tc.disabled {
			t.Errorf("%s: RecoveryDisabled %v, want %v", tc.attr, m.RecoveryDisabled, tc.disabled)
		}
		if err := m.Validate(); err != nil {
			t.Errorf("%s: %v", tc.attr, err)
		}
	}
}

// The Receiver's advertise attribute is what the cluster advertises, apart
// from where it listens; without one, the listen address decides.
func TestReceiverAdvertise(t *testing.T) {
	for _, tc := range []struct{ recv, want, cfg string }{
		{`address="0.0.0.0" advertise="203.0.113.7"`, "203.0.113.7", "203.0.113.7"},
		{`address="0.0.0.0" advertise="203.0.113.7:30400"`, "203.0.113.7", "203.0.113.7:30400"},
		{`address="127.0.0.1"`, "127.0.0.1", ""},
	} {
		s := parse(t, `<Server port="-1"><Service name="Catalina"><Connector port="8091"/>
  <Engine name="Catalina" defaultHost="localhost" jvmRoute="n"><Host name="localhost" appBase="webapps"/>
    <Cluster className="org.apache.catalina.ha.tcp.SimpleTcpCluster" key="`+strings.Repeat("ab", 32)+`"><Channel className="org.apache.catalina.tribes.group.GroupChannel">
      <Receiver className="org.apache.catalina.tribes.transport.nio.NioReceiver" `+tc.recv+`/>
    </Channel></Cluster></Engine></Service></Server>`)
		ip, err := receiverAdvertise(s.Cluster())
		if err != nil || ip.String() != tc.want {
			t.Errorf("%s: %v %v, want %s", tc.recv, ip, err, tc.want)
		}
		cfg, err := clusterConfig(t.Context(), s, false, zerolog.Nop())
		if err != nil || cfg.Advertise != tc.cfg || cfg.Validate() != nil {
			t.Errorf("%s: cluster.Config.Advertise %q (%v, %v), want %q", tc.recv, cfg.Advertise, err, cfg.Validate(), tc.cfg)
		}
	}
}

// A CloudMembershipService maps onto a discovered static membership: the
// provider Tomcat's class name or Gomcat's dns:NAME@SERVER names, Tomcat's
// cloud timeouts, and "auto" following the route to the DNS server.
func TestCloudMembership(t *testing.T) {
	xml := func(provider string) string {
		return `<Server port="-1"><Service name="Catalina"><Connector port="8091"/>
  <Engine name="Catalina" defaultHost="localhost" jvmRoute="n"><Host name="localhost" appBase="webapps"/>
    <Cluster className="org.apache.catalina.ha.tcp.SimpleTcpCluster" key="` + strings.Repeat("ab", 32) + `"><Channel className="org.apache.catalina.tribes.group.GroupChannel">
      <Membership className="org.apache.catalina.tribes.membership.cloud.CloudMembershipService" membershipProviderClassName="` + provider + `" readTimeout="700"/>
    </Channel></Cluster></Engine></Service></Server>`
	}
	s := parse(t, xml("dns:nodes.gomcat.test@127.0.0.1:5353"))
	m := s.Cluster().Membership
	if m.ClassName != conf.CloudMembershipService || m.ConnectTimeout != time.Second || m.ReadTimeout != 700*time.Millisecond || m.ExpirationTime != 5*time.Second {
		t.Fatalf("model: %+v", m)
	}
	cfg, err := clusterConfig(t.Context(), s, false, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	st, ok := cfg.Membership.(cluster.Static)
	if !ok || st.Config.Discover == nil || st.Via != "127.0.0.1" || st.Config.ConnectTimeout != time.Second || st.Config.DiscoverTimeout != 700*time.Millisecond {
		t.Fatalf("membership: %#v", cfg.Membership)
	}
	if got := membershipTarget(s.Cluster()); got != "127.0.0.1" {
		t.Errorf("auto follows %q, want the DNS server", got)
	}

	s = parse(t, xml("org.apache.catalina.tribes.membership.cloud.DNSMembershipProvider"))
	if p := s.Cluster().Membership.MembershipProvider; p != "dns" {
		t.Fatalf("Tomcat's DNS provider class: %q", p)
	}
	if _, err := clusterConfig(t.Context(), s, false, zerolog.Nop()); err == nil || !strings.Contains(err.Error(), "DNS_MEMBERSHIP_SERVICE_NAME") && !strings.Contains(err.Error(), "name") {
		t.Errorf("dns without a name: %v", err)
	}
}
