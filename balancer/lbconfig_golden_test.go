package balancer

import (
	"testing"
	"time"
)

// The generators' output, byte for byte, for every kind over a matrix of
// option sets (testdata/lbconfig/CASE.KIND.golden; go test -run
// TestLBConfigGoldenMatrix -update rewrites them). It guards the templates:
// a change to one shows up here as a diff of the generated file.
func TestLBConfigGoldenMatrix(t *testing.T) {
	one := []NodeInfo{{Name: "node1", HTTPURL: "127.0.0.1:8091"}}
	three := []NodeInfo{{Name: "node1", HTTPURL: "127.0.0.1:8091"}, {Name: "app.2", HTTPURL: "http://198.18.0.2:8092"}, {Name: "n-3", HTTPURL: "node3.example:8093"}}
	for _, tc := range []struct {
		name  string
		nodes []NodeInfo
		opts  GenOptions
	}{
		{"defaults-1", one, GenOptions{}},
		{"defaults-3", three, GenOptions{}},
		{"admin", three, GenOptions{AdminPort: 8089}},
		{"accesslog", one, GenOptions{AccessLog: "/var/log/gomcat-access.log"}},
		{"user-group", one, GenOptions{User: "nobody", Group: "nogroup"}},
		{"user-only", three, GenOptions{User: "www-data"}},
		{"ipv6", ipv6Nodes, GenOptions{Listen: "[::1]:8080", AdminPort: 8089, HealthPath: "/healthz"}},
		{"full", three, GenOptions{Listen: "0.0.0.0:80", AdminPort: 8404, HealthPath: "/health/ready", PidFile: "/run/lb.pid",
			ErrorLog: "/srv/log/lb-error.log", AccessLog: "/srv/log/lb-access.log", TmpDir: "/srv/tmp", ModulesDir: "/usr/lib64/httpd/modules",
			User: "lb", Group: "lb", Name: "shop", CookieName: "SID", PathParam: "sid",
			ConnectTimeout: 1500 * time.Millisecond, Timeout: 90 * time.Second, Persistence: 10 * time.Minute}},
	} {
		for _, kind := range Kinds {
			t.Run(tc.name+"."+kind, func(t *testing.T) {
				got, err := Generate(kind, tc.nodes, tc.opts)
				if err != nil {
					t.Fatal(err)
				}
				checkGolden(t, "lbconfig/"+tc.name+"."+kind, got)
			})
		}
	}
	ajp3 := []AJPNode{{Name: "node1", Addr: "127.0.0.1:8009", Secret: "s3cret"},
		{Name: "node2", Addr: "ajp://198.18.0.2:8009", Secret: "a/b+c=", PacketSize: 8192},
		{Name: "node_3", Addr: "node3.example:8019", PacketSize: 65536}}
	for _, tc := range []struct {
		name  string
		nodes []AJPNode
		opts  GenOptions
	}{
		{"ajp-defaults-1", []AJPNode{{Name: "node1", Addr: "127.0.0.1:8009"}}, GenOptions{}},
		{"ajp-secrets-3", ajp3, GenOptions{}},
		{"ajp-admin", ajp3, GenOptions{AdminPort: 8089, AccessLog: "/var/log/gomcat-access.log", User: "nobody"}},
		{"ajp-ipv6", []AJPNode{{Name: "node1", Addr: "[fd00::1]:8009", Secret: "s"}, {Name: "node2", Addr: "ajp://[fd00::2]:8019", Secret: "s", PacketSize: 16384}},
			GenOptions{Listen: "[::1]:8080", AdminPort: 8089, WorkersFile: "/w.properties"}},
		{"ajp-full", ajp3, GenOptions{Listen: "0.0.0.0:80", AdminPort: 8404, PidFile: "/run/lb.pid", ErrorLog: "/srv/log/lb-error.log",
			AccessLog: "/srv/log/lb-access.log", TmpDir: "/srv/tmp", ModulesDir: "/usr/lib64/httpd/modules", User: "lb", Group: "web",
			Name: "shop", CookieName: "SID", PathParam: "sid", ConnectTimeout: 1500 * time.Millisecond, Timeout: 90 * time.Second,
			WorkersFile: "/etc/jk/workers.properties", JkLogFile: "/srv/log/jk.log"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conf, workers, err := GenerateModJK(tc.nodes, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			checkGolden(t, "lbconfig/"+tc.name+".modjk-httpd", conf)
			checkGolden(t, "lbconfig/"+tc.name+".modjk-workers", workers)
			h, err := GenerateHTTPDAJP(tc.nodes, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			checkGolden(t, "lbconfig/"+tc.name+".httpd-ajp", h)
		})
	}
}
