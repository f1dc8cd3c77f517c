package conf

import (
	"bytes"
	"strings"
	"testing"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestOverridesFromEnv(t *testing.T) {
	o, err := OverridesFromEnv(env(map[string]string{
		"GOMCAT_JVM_ROUTE":      "node7",
		"GOMCAT_HTTP_PORT":      "9090",
		"GOMCAT_SHUTDOWN_PORT":  "-1",
		"GOMCAT_RECEIVER_PORT":  "4400",
		"GOMCAT_MCAST_ADDRESS":  "239.1.2.3",
		"GOMCAT_MCAST_PORT":     "45999",
		"GOMCAT_MCAST_BIND":     "127.0.0.1",
		"GOMCAT_MCAST_TTL":      "0",
		"GOMCAT_DOMAIN":         "blue",
		"GOMCAT_CLUSTER_KEY":    "000102030405060708090a0b0c0d0e0f",
		"GOMCAT_FARM_WATCH":     "true",
		"GOMCAT_UNRELATED_WORD": "x",
	}))
	if err != nil {
		t.Fatal(err)
	}
	data, err := Template(DefaultTemplateParams())
	if err != nil {
		t.Fatal(err)
	}
	s, _, err := Parse("server.xml", data)
	if err != nil {
		t.Fatal(err)
	}
	if w := s.Apply(o); len(w) != 0 {
		t.Fatalf("Apply warnings: %v", w)
	}
	c := s.Cluster()
	m := c.Membership
	switch {
	case s.Engine().JvmRoute != "node7", s.Connector().Port != 9090, s.Port != -1,
		c.Receiver.Port != 4400, m.Address != "239.1.2.3", m.Port != 45999, m.Bind != "127.0.0.1",
		m.TTL != 0, m.Domain != "blue", len(c.Key) != 16, !c.Deployer.WatchEnabled:
		var b bytes.Buffer
		s.Describe(&b)
		t.Fatalf("overrides not applied:\n%s", b.String())
	}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestOverridesFromEnvErrors(t *testing.T) {
	_, err := OverridesFromEnv(env(map[string]string{
		"GOMCAT_JVM_ROUTE":     "a b",
		"GOMCAT_HTTP_PORT":     "http",
		"GOMCAT_SHUTDOWN_PORT": "-2",
		"GOMCAT_MCAST_ADDRESS": "192.0.2.1",
		"GOMCAT_MCAST_TTL":     "256",
		"GOMCAT_CLUSTER_KEY":   "secretsecret",
		"GOMCAT_FARM_WATCH":    "maybe",
	}))
	want := []string{
		`GOMCAT_JVM_ROUTE: "a b" is not a jvmRoute (letters, digits, '_' and '-')`,
		`GOMCAT_HTTP_PORT: "http" is not a port (0..65535)`,
		`GOMCAT_SHUTDOWN_PORT: "-2" is not a port (-1 disables, 0..65535)`,
		`GOMCAT_MCAST_ADDRESS: "192.0.2.1" is not an IPv4 multicast address (224.0.0.0 to 239.255.255.255)`,
		`GOMCAT_MCAST_TTL: "256" is not a TTL (-1 for the system default, 0..255)`,
		`GOMCAT_CLUSTER_KEY: not hexadecimal (32, 48 or 64 hex digits)`,
		`GOMCAT_FARM_WATCH: "maybe" is not a boolean (true or false)`,
	}
	got := errorLines(err)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("errors:\n got %q\nwant %q", got, want)
	}
	if strings.Contains(err.Error(), "secretsecret") {
		t.Error("the key value leaked into an error message")
	}
}

// A value from an override is blamed on its source, not on server.xml.
func TestApplySourceInMessages(t *testing.T) {
	s, _, err := Parse("t.xml", []byte(srv(`port="8005"`, `jvmRoute="n1"`, `<Cluster className="SimpleTcpCluster"/>`)))
	if err != nil {
		t.Fatal(err)
	}
	o, err := OverridesFromEnv(env(map[string]string{"GOMCAT_RECEIVER_PORT": "8080"}))
	if err != nil {
		t.Fatal(err)
	}
	s.Apply(o)
	route := "x y"
	s.Apply(Overrides{Source: "command line", JvmRoute: &route})
	want := []string{
		`command line: element <Engine> attribute jvmRoute: "x y" is not allowed (letters, digits, '_' and '-')`,
		`GOMCAT_RECEIVER_PORT: element <Receiver> attribute port: 8080 is already used by the <Connector> at t.xml:3`,
	}
	if got := errorLines(s.Validate()); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("Validate:\n got %q\nwant %q", got, want)
	}
}

// env < flags: the later Apply wins; a cluster override without a cluster warns.
func TestApplyPrecedenceAndWarnings(t *testing.T) {
	s, _, err := Parse("t.xml", []byte(srv(`port="8005"`, ``, ``)))
	if err != nil {
		t.Fatal(err)
	}
	fromEnv, flag := 9000, 9001
	port := 45000
	s.Apply(Overrides{HTTPPort: &fromEnv})
	w := s.Apply(Overrides{Source: "command line", HTTPPort: &flag, McastPort: &port})
	if s.Connector().Port != 9001 {
		t.Errorf("HTTP port = %d, want the flag's 9001", s.Connector().Port)
	}
	if len(w) != 1 || w[0].String() != "command line: ignored: the configuration has no <Cluster>" {
		t.Errorf("warnings = %v", w)
	}
}

// --advertise / GOMCAT_ADVERTISE sets the Receiver's advertise attribute
// and its IP on the primary Connector (whose port is its own); a bad value
// is refused with the variable's name, and Validate refuses one written
// in server.xml at its line.
func TestAdvertiseOverride(t *testing.T) {
	o, err := OverridesFromEnv(env(map[string]string{"GOMCAT_ADVERTISE": "203.0.113.7:30400"}))
	if err != nil {
		t.Fatal(err)
	}
	stock, err := Template(DefaultTemplateParams())
	if err != nil {
		t.Fatal(err)
	}
	parse := func(x string) *Server {
		t.Helper()
		s, _, err := Parse("server.xml", []byte(x))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	s := parse(string(stock))
	if w := s.Apply(o); len(w) != 0 {
		t.Fatalf("warnings: %v", w)
	}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	if got := s.Cluster().Receiver.Advertise; got != "203.0.113.7:30400" {
		t.Errorf("Receiver advertise %q", got)
	}
	if got := s.Connector().Advertise; got != "203.0.113.7" {
		t.Errorf("Connector advertise %q, want the IP only", got)
	}
	for _, bad := range []string{"0.0.0.0", "host.example", "1.2.3.4:0", "[::]:80"} {
		_, err := OverridesFromEnv(env(map[string]string{"GOMCAT_ADVERTISE": bad}))
		if err == nil || !strings.Contains(err.Error(), "GOMCAT_ADVERTISE") {
			t.Errorf("GOMCAT_ADVERTISE=%s: %v, want refused", bad, err)
		}
	}
	s = parse(strings.Replace(string(stock), `<Connector `, `<Connector advertise="0.0.0.0" `, 1))
	err = s.Validate()
	if err == nil || !strings.Contains(err.Error(), "element <Connector> attribute advertise") {
		t.Errorf("advertise=0.0.0.0: %v", err)
	}
}

// --membership / GOMCAT_MEMBERSHIP turns a multicast Cluster into a
// CloudMembershipService of that provider, with Tomcat's cloud
// connectTimeout; a malformed provider is refused by name.
func TestMembershipOverride(t *testing.T) {
	p := DefaultTemplateParams()
	p.ClusterKey = strings.Repeat("ab", 32) // a discovered membership needs one
	stock, err := Template(p)
	if err != nil {
		t.Fatal(err)
	}
	s, _, err := Parse("server.xml", stock)
	if err != nil {
		t.Fatal(err)
	}
	o, err := OverridesFromEnv(env(map[string]string{"GOMCAT_MEMBERSHIP": "dns:nodes.gomcat.test@198.18.0.53:53"}))
	if err != nil {
		t.Fatal(err)
	}
	s.Apply(o)
	m := s.Cluster().Membership
	if m.ClassName != CloudMembershipService || m.MembershipProvider != "dns:nodes.gomcat.test@198.18.0.53:53" || m.ConnectTimeout != DefaultCloudConnectTimeout {
		t.Fatalf("membership after the override: %s %q %v", m.ClassName, m.MembershipProvider, m.ConnectTimeout)
	}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	s.Cluster().Key = nil
	if err := s.Validate(); err == nil || !strings.Contains(err.Error(), "needs a cluster key") {
		t.Errorf("without a key: %v", err)
	}
	for _, bad := range []string{"consul", "dns:", "dns:a@nowhere", "kubernetes:ns"} {
		if _, err := OverridesFromEnv(env(map[string]string{"GOMCAT_MEMBERSHIP": bad})); err == nil || !strings.Contains(err.Error(), "GOMCAT_MEMBERSHIP") {
			t.Errorf("GOMCAT_MEMBERSHIP=%s: %v, want refused", bad, err)
		}
	}
}
