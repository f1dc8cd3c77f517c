package balancer

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

var goldenNodes = []NodeInfo{{Name: "node1", HTTPURL: "127.0.0.1:8091"}, {Name: "node2", HTTPURL: "http://127.0.0.1:8092"}}

func goldenOptions() GenOptions {
	return GenOptions{Listen: "127.0.0.1:8080", AdminPort: 8089, HealthPath: "/healthz"}
}

func TestGenerateGolden(t *testing.T) {
	for _, kind := range Kinds {
		t.Run(kind, func(t *testing.T) {
			got, err := Generate(kind, goldenNodes, goldenOptions())
			if err != nil {
				t.Fatal(err)
			}
			checkGolden(t, kind, got)
		})
	}
}

func TestGenerateAliasesAndErrors(t *testing.T) {
	a, _ := Generate("apache", goldenNodes, goldenOptions())
	h, _ := Generate("httpd", goldenNodes, goldenOptions())
	if len(a) == 0 || !bytes.Equal(a, h) {
		t.Fatal("apache alias differs from httpd")
	}
	if _, err := Generate("traefik", goldenNodes, GenOptions{}); !errors.Is(err, ErrUnknownKind) {
		t.Fatalf("unknown kind: %v", err)
	}
	for name, tc := range map[string]struct {
		nodes []NodeInfo
		opts  GenOptions
	}{
		"no nodes":       {nil, GenOptions{}},
		"dup node":       {[]NodeInfo{{"a", "h:1"}, {"a", "h:2"}}, GenOptions{}},
		"bad name":       {[]NodeInfo{{"a b", "h:1"}}, GenOptions{}},
		"no port":        {[]NodeInfo{{"a", "h"}}, GenOptions{}},
		"https":          {[]NodeInfo{{"a", "https://h:1"}}, GenOptions{}},
		"relative pid":   {goldenNodes, GenOptions{PidFile: "x.pid"}},
		"quote in log":   {goldenNodes, GenOptions{ErrorLog: `/tmp/a"b`}},
		"bad listen":     {goldenNodes, GenOptions{Listen: "8080"}},
		"bad healthpath": {goldenNodes, GenOptions{HealthPath: "healthz"}},
	} {
		if _, err := Generate("haproxy", tc.nodes, tc.opts); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%s: err = %v, want ErrInvalidConfig", name, err)
		}
	}
}

// findServer returns the path of the first binary found, or skips (fails
// when CI=true) with a reason.
func findServer(t *testing.T, names ...string) string {
	t.Helper()
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s not installed (CI=true requires it: apt-get install haproxy nginx apache2 keepalived)", names[0])
	}
	t.Skipf("%s not installed", names[0])
	return ""
}

// genFiles writes the config of kind into a temp dir with pid/log/tmp inside it.
func genFiles(t *testing.T, kind string, nodes []NodeInfo, o GenOptions) (dir, conf string) {
	t.Helper()
	dir = t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil { // workers may run as nobody
		t.Fatal(err)
	}
	o.PidFile = filepath.Join(dir, kind+".pid")
	o.ErrorLog = filepath.Join(dir, "error.log")
	o.TmpDir = dir
	if os.Geteuid() == 0 && (kind == "nginx" || kind == "httpd") {
		o.User, o.Group = "nobody", nobodyGroup()
	}
	b, err := Generate(kind, nodes, o)
	if err != nil {
		t.Fatal(err)
	}
	conf = filepath.Join(dir, kind+".conf")
	if err := os.WriteFile(conf, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, conf
}

func nobodyGroup() string {
	data, _ := os.ReadFile("/etc/group")
	if bytes.Contains(data, []byte("\nnogroup:")) || bytes.HasPrefix(data, []byte("nogroup:")) {
		return "nogroup"
	}
	return "nobody"
}

// TestGeneratedConfigsValidate runs each server's own config check on the generated file.
func TestGeneratedConfigsValidate(t *testing.T) {
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
			_, conf := genFiles(t, tc.kind, goldenNodes, GenOptions{Listen: "127.0.0.1:" + freePort(t), AdminPort: atoi(freePort(t)), HealthPath: "/healthz"})
			out, err := exec.Command(bin, tc.args(conf)...).CombinedOutput()
			if err != nil {
				t.Fatalf("%s %v: %v\n%s", bin, tc.args(conf), err, out)
			}
			// keepalived -t exits 0 even for some problems; it must print nothing.
			if tc.kind == "keepalived" && len(bytes.TrimSpace(out)) > 0 {
				t.Fatalf("keepalived -t complained:\n%s", out)
			}
			if strings.Contains(string(out), "[WARNING]") || strings.Contains(string(out), "[warn]") {
				t.Fatalf("%s warns:\n%s", tc.kind, out)
			}
		})
	}
}
