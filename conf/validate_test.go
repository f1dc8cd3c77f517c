package conf

import (
	"strings"
	"testing"
)

// srv builds a server.xml whose Engine carries engineAttrs and whose
// Engine body starts on line 5 with inner.
func srv(serverAttrs, engineAttrs, inner string) string {
	return `<Server ` + serverAttrs + `>
  <Service name="Catalina">
    <Connector port="8080"/>
    <Engine name="Catalina" defaultHost="localhost" ` + engineAttrs + `>
` + inner + `
      <Host name="localhost" appBase="webapps"/>
    </Engine>
  </Service>
</Server>
`
}

func problems(t *testing.T, doc string) []string {
	t.Helper()
	s, _, err := Parse("t.xml", []byte(doc))
	got := errorLines(err)
	if s != nil {
		got = append(got, errorLines(s.Validate())...)
	}
	return got
}

func TestValidateMessages(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want []string
	}{
		{"valid without cluster", srv(`port="8005"`, ``, ``), nil},
		{"valid bare cluster", srv(`port="8005"`, `jvmRoute="n1"`, `<Cluster className="SimpleTcpCluster"/>`), nil},
		{"shutdown port out of range", srv(`port="70000"`, ``, ``),
			[]string{`t.xml:1: element <Server> attribute port: 70000 is not a valid port (-1 disables, 0..65535)`}},
		{"shutdown port not a number", srv(`port="x"`, ``, ``),
			[]string{`t.xml:1: element <Server> attribute port: "x" is not a whole number`}},
		{"jvmRoute required with a cluster", srv(`port="8005"`, ``, `<Cluster className="SimpleTcpCluster"/>`),
			[]string{`t.xml:4: element <Engine> attribute jvmRoute: required with a <Cluster>: it names this member and ends its session ids (unique per node, letters, digits, '_' and '-'; or set GOMCAT_JVM_ROUTE)`}},
		{"jvmRoute characters", srv(`port="8005"`, `jvmRoute="a.b"`, ``),
			[]string{`t.xml:4: element <Engine> attribute jvmRoute: "a.b" is not allowed (letters, digits, '_' and '-')`}},
		{"multicast address, 5.5 attribute name kept", srv(`port="8005"`, `jvmRoute="n1"`,
			`<Cluster className="org.apache.catalina.cluster.tcp.SimpleTcpCluster">
        <Membership className="org.apache.catalina.cluster.mcast.McastService"
                    mcastAddr="203.0.113.1"/>
      </Cluster>`),
			[]string{`t.xml:7: element <Membership> attribute mcastAddr: "203.0.113.1" is not an IPv4 multicast address (224.0.0.0 to 239.255.255.255, e.g. 228.0.0.4)`}},
		{"key length", srv(`port="8005"`, `jvmRoute="n1"`, `<Cluster className="SimpleTcpCluster" key="00112233"/>`),
			[]string{`t.xml:5: element <Cluster> attribute key: 4 bytes (16, 24 or 32 bytes: 32, 48 or 64 hex digits)`}},
		{"key not hex", srv(`port="8005"`, `jvmRoute="n1"`, `<Cluster className="SimpleTcpCluster" key="zz"/>`),
			[]string{`t.xml:5: element <Cluster> attribute key: not hexadecimal (32, 48 or 64 hex digits)`}},
		{"sendAllSessionsSize", srv(`port="8005"`, `jvmRoute="n1"`, `<Cluster className="SimpleTcpCluster">
        <Manager className="DeltaManager" sendAllSessionsSize="0"/>
      </Cluster>`),
			[]string{`t.xml:6: element <Manager> attribute sendAllSessionsSize: 0 is not allowed (a positive number of sessions per message)`}},
		{"sync without use_ack", srv(`port="8005"`, `jvmRoute="n1"`, `<Cluster className="SimpleTcpCluster" channelSendOptions="sync"/>`),
			[]string{`t.xml:5: element <Cluster> attribute channelSendOptions: 4 (sync): sync needs use_ack (use 6 = use_ack,sync)`}},
		{"udp refused", srv(`port="8005"`, `jvmRoute="n1"`, `<Cluster className="SimpleTcpCluster" channelSendOptions="udp,async"/>`),
			[]string{`t.xml:5: element <Cluster> attribute channelSendOptions: 40 (async,udp) is not supported (async=8, use_ack=2, use_ack,sync=6)`}},
		{"receiver port clashes with shutdown port", srv(`port="4000"`, `jvmRoute="n1"`, `<Cluster className="SimpleTcpCluster"/>`),
			[]string{`t.xml:5: element <Receiver> attribute port: 4000 is already used by the shutdown port at t.xml:1`}},
		{"connector port clashes with 5.5 receiver port", srv(`port="8005"`, `jvmRoute="n1"`, `<Cluster className="org.apache.catalina.cluster.tcp.SimpleTcpCluster">
        <Receiver className="org.apache.catalina.cluster.tcp.ReplicationListener" tcpListenPort="8080"/>
      </Cluster>`),
			[]string{`t.xml:6: element <Receiver> attribute tcpListenPort: 8080 is already used by the <Connector> at t.xml:3`}},
		{"boolean", srv(`port="8005"`, `jvmRoute="n1"`, `<Cluster className="SimpleTcpCluster">
        <Deployer className="FarmWarDeployer" watchEnabled="on"/>
      </Cluster>`),
			[]string{`t.xml:6: element <Deployer> attribute watchEnabled: "on" is not a boolean (true or false)`}},
		{"dropTime not above frequency", srv(`port="8005"`, `jvmRoute="n1"`, `<Cluster className="SimpleTcpCluster">
        <Membership className="McastService" frequency="1000"
                    dropTime="1000"/>
      </Cluster>`),
			[]string{`t.xml:7: element <Membership> attribute dropTime: 1000 ms is not longer than frequency 1000 ms (members would expire between heartbeats; Tomcat uses 3000 with 500)`}},
		{"unknown cluster class", srv(`port="8005"`, `jvmRoute="n1"`, `<Cluster className="com.example.MyCluster"/>`),
			[]string{`t.xml:5: element <Cluster> attribute className: unsupported class com.example.MyCluster (supported: SimpleTcpCluster (short or full Tomcat 6+/5.5 class names))`}},
		{"StandardManager via 5.5 managerClassName", srv(`port="8005"`, `jvmRoute="n1"`, `<Cluster className="SimpleTcpCluster" managerClassName="org.apache.catalina.session.StandardManager"/>`),
			[]string{`t.xml:5: element <Cluster> attribute managerClassName: StandardManager is not a cluster manager (use DeltaManager or BackupManager; a context that should not replicate leaves out distributable)`}},
		{"BackupManager ranges", srv(`port="8005"`, `jvmRoute="n1"`, `<Cluster className="SimpleTcpCluster">
        <Manager className="BackupManager" backups="9" rpcTimeout="0" mapSendOptions="sync"/>
      </Cluster>`),
			[]string{
				`t.xml:6: element <Manager> attribute mapSendOptions: 4 (sync): sync needs use_ack (use 6 = use_ack,sync)`,
				`t.xml:6: element <Manager> attribute rpcTimeout: 0 is not allowed (a positive number of milliseconds)`,
				`t.xml:6: element <Manager> attribute backups: 9 is not allowed (1..8 members holding a copy)`,
			}},
		{"static membership needs members", srv(`port="8005"`, `jvmRoute="n1"`, `<Cluster className="SimpleTcpCluster">
        <Membership className="StaticMembershipService"/>
      </Cluster>`),
			[]string{`t.xml:6: element <Membership>: StaticMembershipService needs at least one nested <Member host="…" port="…"/>`}},
		{"static member uniqueId", srv(`port="8005"`, `jvmRoute="n1"`, `<Cluster className="SimpleTcpCluster">
        <Membership className="StaticMembershipService">
          <Member host="192.0.2.2" port="4000" uniqueId="{1,2,3}"/>
        </Membership>
      </Cluster>`),
			[]string{`t.xml:7: element <Member> attribute uniqueId: "{1,2,3}" is not 16 bytes ({b0,…,b15} or 32 hex digits)`}},
		{"encryption key differs from cluster key", srv(`port="8005"`, `jvmRoute="n1"`, `<Cluster className="SimpleTcpCluster" key="000102030405060708090a0b0c0d0e0f">
        <Channel className="GroupChannel">
          <Interceptor className="EncryptInterceptor" encryptionKey="ffffffffffffffffffffffffffffffff"/>
        </Channel>
      </Cluster>`),
			[]string{`t.xml:7: element <Interceptor> attribute encryptionKey: differs from the Cluster's key at t.xml:5 (give the key once)`}},
		{"duplicate context path", srv(`port="8005"`, ``, `      <Host name="www">
        <Context path="" docBase="a"/>
        <Context path="/" docBase="b"/>
      </Host>`),
			[]string{`t.xml:7: element <Context> attribute path: context path "/" is already used by the <Context> at t.xml:6`}},
		{"second service", `<Server port="8005">
  <Service name="A"><Connector port="8080"/><Engine><Host name="localhost"/></Engine></Service>
  <Service name="B"><Connector port="8081"/><Engine><Host name="localhost"/></Engine></Service>
</Server>`,
			[]string{`t.xml:3: element <Service>: a second <Service> (Gomcat runs one Service per server)`}},
		{"TLS without certificate", `<Server port="8005">
  <Service><Connector port="8443" SSLEnabled="true" keystoreFile="conf/.keystore"/>
    <Engine><Host name="localhost"/></Engine></Service>
</Server>`,
			[]string{
				`t.xml:2: element <Connector> attribute certificateFile: required with SSLEnabled="true" (a PEM certificate chain)`,
				`t.xml:2: element <Connector> attribute certificateKeyFile: required with SSLEnabled="true" (a PEM private key)`,
			}},
		{"not a Server", `<Context/>`, []string{
			`conf: no <Server> element`,
			`t.xml:1: element <Context>: the root element must be <Server>`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := problems(t, tt.doc)
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("problems:\n got: %q\nwant: %q", got, tt.want)
			}
		})
	}
}

// Every problem is reported, not only the first.
func TestValidateCollectsAll(t *testing.T) {
	got := problems(t, srv(`port="99999" shutdown=""`, `jvmRoute="bad route"`, `<Cluster className="SimpleTcpCluster">
        <Manager className="DeltaManager" sendAllSessionsSize="-1" maxActiveSessions="-5"/>
        <Membership className="McastService" address="1.2.3.4" port="0" ttl="-2"/>
        <Receiver className="NioReceiver" port="65500" maxThreads="0"/>
      </Cluster>`))
	if len(got) != 10 {
		t.Fatalf("got %d problems, want 10:\n%s", len(got), strings.Join(got, "\n"))
	}
}

func TestAttributeLines(t *testing.T) {
	doc := `<Server port="8005">
  <Service>
    <Connector
       protocol="HTTP/1.1"

       port='8081'
       bogus="1"/>
    <Engine><Host name="localhost"/></Engine>
  </Service>
</Server>`
	s, warns, err := Parse("l.xml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	c := s.Connector()
	if c.Line != 3 || c.AttrPos("port").Line != 6 || c.AttrPos("protocol").Line != 4 {
		t.Errorf("lines: element %d, port %d, protocol %d; want 3, 6, 4", c.Line, c.AttrPos("port").Line, c.AttrPos("protocol").Line)
	}
	if len(warns) != 1 || warns[0].String() != "l.xml:7: element <Connector> attribute bogus: unknown attribute, ignored" {
		t.Errorf("warnings = %v", warns)
	}
}

func TestContextPaths(t *testing.T) {
	for _, tt := range []struct{ file, path, docBase string }{
		{"ROOT.xml", "/", "ROOT"},
		{"foo.xml", "/foo", "foo"},
		{"foo#bar.xml", "/foo/bar", "foo#bar"},
	} {
		c, _, err := ParseContext("conf/Catalina/localhost/"+tt.file, []byte(`<Context distributable="true"/>`))
		if err != nil {
			t.Fatalf("%s: %v", tt.file, err)
		}
		if c.Path != tt.path || c.DocBase != tt.docBase || !c.Distributable || c.SessionTimeout != DefaultSessionTimeout {
			t.Errorf("%s: path %q docBase %q distributable %v timeout %v", tt.file, c.Path, c.DocBase, c.Distributable, c.SessionTimeout)
		}
	}
	for _, bad := range []string{"foo##2.xml", "#x.xml", "a##.xml"} {
		if _, _, err := ParseContext(bad, []byte(`<Context/>`)); err == nil {
			t.Errorf("ParseContext(%q) accepted", bad)
		}
	}
	if _, _, err := ParseContext("x.xml", []byte(`<Host/>`)); err == nil || !strings.Contains(err.Error(), "must be <Context>") {
		t.Errorf("ParseContext(<Host/>) = %v", err)
	}
}

func TestDefaultsAreValid(t *testing.T) {
	s := Default()
	if err := s.Validate(); err != nil {
		t.Fatalf("Default(): %v", err)
	}
	s.Engine().JvmRoute = "n1"
	s.Engine().Cluster = DefaultCluster()
	if err := s.Validate(); err != nil {
		t.Fatalf("Default() + DefaultCluster(): %v", err)
	}
	if s.ClusterHost() != s.Engine().Hosts[0] {
		t.Error("an Engine cluster should serve the default host")
	}
}
