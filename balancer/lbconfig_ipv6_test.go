package balancer

import (
	"bytes"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// IPv6 backends and an IPv6 listen address: HTTP-proxy configs bracket the
// addresses, keepalived and mod_jk's workers.properties take them bare (their
// own syntax), and each server's own check accepts the file.
var ipv6Nodes = []NodeInfo{{Name: "node1", HTTPURL: "http://[fd00::1]:8091"}, {Name: "node2", HTTPURL: "http://[fd00:0:0:12::2]:8092"}}

func ipv6Listen(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func TestGenerateIPv6Bracketed(t *testing.T) {
	o := GenOptions{Listen: "[::1]:8080", AdminPort: 8089, HealthPath: "/healthz"}
	for kind, want := range map[string][]string{
		"haproxy":    {"server node1 [fd00::1]:8091 check", "server node2 [fd00:0:0:12::2]:8092 check", "bind [::1]:8080", "bind [::1]:8089"},
		"nginx":      {"server [fd00::1]:8091", "listen [::1]:8080;", "listen [::1]:8089;"},
		"httpd":      {`BalancerMember "http://[fd00::1]:8091"`, "Listen [::1]:8080", "<VirtualHost [::1]:8080>"},
		"keepalived": {"virtual_server ::1 8080", "real_server fd00::1 8091", "real_server fd00:0:0:12::2 8092"},
	} {
		b, err := Generate(kind, ipv6Nodes, o)
		if err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
		for _, w := range want {
			if !strings.Contains(string(b), w) {
				t.Errorf("%s: no %q in\n%s", kind, w, b)
			}
		}
	}
	ajp := []AJPNode{{Name: "node1", Addr: "[fd00::1]:8009", Secret: "s"}, {Name: "node2", Addr: "ajp://[fd00::2]:8019", Secret: "s"}}
	_, workers, err := GenerateModJK(ajp, GenOptions{Listen: "[::1]:8080", WorkersFile: "/w.properties"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(workers), "worker.node1.host=fd00::1\n") {
		t.Errorf("workers.properties host not a bare IPv6 address:\n%s", workers)
	}
	conf, err := GenerateHTTPDAJP(ajp, GenOptions{Listen: "[::1]:8080"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(conf), `BalancerMember "ajp://[fd00::2]:8019"`) {
		t.Errorf("httpd AJP member not bracketed:\n%s", conf)
	}
}

// The real servers accept configs with IPv6 backends, listening on [::1].
func TestGeneratedConfigsValidateIPv6(t *testing.T) {
	for _, tc := range []struct {
		kind string
		bins []string
		args func(conf string) []string
	}{
		{"haproxy", []string{"haproxy"}, func(c string) []string { return []string{"-c", "-f", c} }},
		{"nginx", []string{"nginx"}, func(c string) []string { return []string{"-t", "-c", c} }},
		{"httpd", []string{"apache2", "httpd", "apachectl", "apache2ctl"}, func(c string) []string { return []string{"-t", "-f", c} }},
		{"keepalived", []string{"keepalived"}, func(c string) []string { return []string{"-t", "-f", c} }},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			t.Parallel()
			bin := findServer(t, tc.bins...)
			listen := ipv6Listen(t)
			_, conf := genFiles(t, tc.kind, ipv6Nodes, GenOptions{Listen: listen, AdminPort: atoi(freePort(t)), HealthPath: "/healthz"})
			out, err := exec.Command(bin, tc.args(conf)...).CombinedOutput()
			if err != nil {
				t.Fatalf("%s %v: %v\n%s", bin, tc.args(conf), err, out)
			}
			if tc.kind == "keepalived" && len(bytes.TrimSpace(out)) > 0 {
				t.Fatalf("keepalived -t complained:\n%s", out)
			}
			if strings.Contains(string(out), "[WARNING]") || strings.Contains(string(out), "[warn]") {
				t.Fatalf("%s warns:\n%s", tc.kind, out)
			}
		})
	}
}

// apache2 -t accepts the mod_jk and AJP proxy configs with IPv6 workers.
func TestGeneratedAJPConfigsValidateIPv6(t *testing.T) {
	bin := findServer(t, "apache2", "httpd")
	if _, err := os.Stat("/usr/lib/apache2/modules/mod_jk.so"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("mod_jk not installed (apt-get install libapache2-mod-jk)")
		}
		t.Skip("mod_jk not installed")
	}
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	o := GenOptions{Listen: ipv6Listen(t), AdminPort: atoi(freePort(t)),
		PidFile: filepath.Join(dir, "httpd.pid"), ErrorLog: filepath.Join(dir, "error.log"), TmpDir: dir,
		WorkersFile: filepath.Join(dir, "workers.properties")}
	if os.Geteuid() == 0 {
		o.User, o.Group = "nobody", nobodyGroup()
	}
	nodes := []AJPNode{{Name: "node1", Addr: "[fd00::1]:8009", Secret: "s3cret"}, {Name: "node2", Addr: "ajp://[fd00::2]:8019", Secret: "s3cret"}}
	conf, workers, err := GenerateModJK(nodes, o)
	if err != nil {
		t.Fatal(err)
	}
	ajpConf, err := GenerateHTTPDAJP(nodes, o)
	if err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{filepath.Join(dir, "modjk.conf"): conf, o.WorkersFile: workers, filepath.Join(dir, "ajp.conf"): ajpConf} {
		if err := os.WriteFile(name, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []string{"modjk.conf", "ajp.conf"} {
		out, err := exec.Command(bin, "-t", "-f", filepath.Join(dir, c)).CombinedOutput()
		if err != nil || strings.Contains(string(out), "[warn]") {
			t.Fatalf("%s -t -f %s: %v\n%s", bin, c, err, out)
		}
	}
}
