package conf

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

func TestTemplateRoundTrip(t *testing.T) {
	home := filepath.Join(t.TempDir(), "a&b")
	tests := []TemplateParams{
		DefaultTemplateParams(),
		{JvmRoute: "node2", HTTPPort: 8081, ShutdownPort: -1, ReceiverPort: 4002, McastAddress: "239.255.0.9",
			McastPort: 46000, McastBind: "192.0.2.5", McastTTL: 4, Domain: "shop<1>",
			ClusterKey: "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", FarmWatch: true, Home: home},
	}
	for _, p := range tests {
		data, err := Template(p)
		if err != nil {
			t.Fatalf("Template(%+v): %v", p, err)
		}
		s, warns, err := Parse("server.xml", data)
		if err != nil || len(warns) != 0 {
			t.Fatalf("rendered file: err %v, warnings %v", err, warns)
		}
		if err := s.Validate(); err != nil {
			t.Fatal(err)
		}
		c := s.Cluster()
		m := c.Membership
		got := TemplateParams{
			JvmRoute: s.Engine().JvmRoute, HTTPPort: s.Connector().Port, ShutdownPort: s.Port,
			ReceiverPort: c.Receiver.Port, McastAddress: m.Address, McastPort: m.Port, McastBind: m.Bind,
			McastTTL: m.TTL, Domain: m.Domain, FarmWatch: c.Deployer.WatchEnabled, Home: p.Home,
			AdminAddress: p.AdminAddress, AdminPort: p.AdminPort,
		}
		if wantPort := p.HTTPPort + 1000; s.Admin == nil || s.Admin.Port != wantPort || s.Admin.Address != "127.0.0.1" {
			t.Errorf("admin listener = %+v, want 127.0.0.1:%d", s.Admin, wantPort)
		}
		if c.Key != nil {
			got.ClusterKey = strings.ToLower(strings.TrimSpace(p.ClusterKey))
		}
		if got != p {
			t.Errorf("round trip:\n got %+v\nwant %+v", got, p)
		}
		// The shape the brief promises.
		if c.ChannelSendOptions != SendAsync || c.Manager.StateTransferTimeout.Seconds() != 60 ||
			m.Frequency.Milliseconds() != 500 || m.DropTime.Milliseconds() != 3000 || c.Receiver.AutoBind != 100 ||
			c.ReplicationValve == nil || c.ReplicationValve.Filter == "" || c.JvmRouteBinderValve == nil ||
			len(c.Listeners) != 1 || c.Deployer == nil {
			t.Errorf("template cluster is not the documented one: %+v", c)
		}
		wantDeploy := "webapps"
		if p.Home != "" {
			wantDeploy = filepath.Join(p.Home, "webapps")
		}
		if c.Deployer.DeployDir != wantDeploy || s.Engine().Hosts[0].AppBase != wantDeploy {
			t.Errorf("deployDir %q, appBase %q, want %q", c.Deployer.DeployDir, s.Engine().Hosts[0].AppBase, wantDeploy)
		}
	}
}

func TestTemplateRejectsBadParams(t *testing.T) {
	p := DefaultTemplateParams()
	p.JvmRoute = "no route"
	p.McastAddress = "192.0.2.11"
	_, err := Template(p)
	if !errors.Is(err, ErrTemplate) {
		t.Fatalf("err = %v, want ErrTemplate", err)
	}
	if !strings.Contains(err.Error(), "jvmRoute") || !strings.Contains(err.Error(), "multicast") {
		t.Errorf("err does not name both problems: %v", err)
	}
}

func TestInitFiles(t *testing.T) {
	files, err := InitFiles(DefaultTemplateParams())
	if err != nil {
		t.Fatal(err)
	}
	root, ok := files["conf/Catalina/localhost/ROOT.xml"]
	if !ok || files["conf/server.xml"] == nil {
		t.Fatalf("files = %v", len(files))
	}
	c, warns, err := ParseContext("ROOT.xml", root)
	if err != nil || len(warns) != 0 {
		t.Fatalf("ROOT.xml: %v %v", err, warns)
	}
	if c.Path != "/" || c.App != "example" || !c.Distributable || c.DocBase != "ROOT" {
		t.Errorf("ROOT.xml = %+v", c)
	}
}

func TestTemplateStandalone(t *testing.T) {
	p := DefaultTemplateParams()
	p.JvmRoute, p.HTTPPort = "solo", 8099
	clustered, err := Template(p)
	if err != nil {
		t.Fatal(err)
	}
	p.Standalone = true
	data, err := Template(p)
	if err != nil {
		t.Fatal(err)
	}
	s, warns, err := Parse("server.xml", data)
	if err != nil || len(warns) != 0 {
		t.Fatalf("rendered file: err %v, warnings %v", err, warns)
	}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	if s.Cluster() != nil || strings.Contains(string(data), "<Cluster") {
		t.Errorf("standalone template has a Cluster:\n%s", data)
	}
	if s.Engine().JvmRoute != "solo" || s.Connector().Port != 8099 || len(s.Engine().Hosts) != 1 {
		t.Errorf("standalone template lost the engine or connector: %+v", s.Engine())
	}
	// Everything outside the Cluster block is the same file.
	head, _, _ := strings.Cut(string(clustered), "\n\n      <!-- Session replication.")
	_, tail, _ := strings.Cut(string(clustered), "</Cluster>")
	if !strings.HasPrefix(string(data), head) || !strings.HasSuffix(string(data), tail) {
		t.Errorf("standalone file differs outside the Cluster block:\n%s", data)
	}
}

// init --advertise writes the Receiver's advertise and its IP on the
// Connector; the file reads back with both.
func TestTemplateAdvertise(t *testing.T) {
	p := DefaultTemplateParams()
	p.Advertise = "[fd00::7]:30400"
	b, err := Template(p)
	if err != nil {
		t.Fatal(err)
	}
	s, _, err := Parse("server.xml", b)
	if err != nil {
		t.Fatal(err)
	}
	if r, c := s.Cluster().Receiver.Advertise, s.Connector().Advertise; r != "[fd00::7]:30400" || c != "fd00::7" {
		t.Fatalf("advertise: receiver %q, connector %q", r, c)
	}
	p.Advertise = "0.0.0.0"
	if _, err := Template(p); err == nil || !strings.Contains(err.Error(), "advertise") {
		t.Fatalf("Advertise 0.0.0.0: %v", err)
	}
}
