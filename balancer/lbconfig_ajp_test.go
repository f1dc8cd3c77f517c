package balancer

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gomcat/gomcat/internal/testkit"
)

var goldenAJPNodes = []AJPNode{
	{Name: "node1", Addr: "127.0.0.1:8009", Secret: "s3cret"},
	{Name: "node2", Addr: "ajp://127.0.0.1:8019", Secret: "s3cret", PacketSize: 65536},
}

func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	testkit.Golden(t, filepath.Join("testdata", name+".golden"), got, *update)
}

func TestGenerateAJPGolden(t *testing.T) {
	o := goldenOptions()
	o.WorkersFile, o.TmpDir = "/etc/gomcat/workers.properties", "/tmp/gomcat-modjk"
	conf, workers, err := GenerateModJK(goldenAJPNodes, o)
	if err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "modjk-httpd", conf)
	checkGolden(t, "modjk-workers", workers)
	for _, want := range []string{"worker.node1.route=node1", "worker.node1.secret=s3cret", "worker.gomcat.sticky_session=true",
		"worker.gomcat.balance_workers=node1,node2", "worker.node2.max_packet_size=65536", "worker.template.ping_mode=A"} {
		if !bytes.Contains(workers, []byte(want+"\n")) {
			t.Errorf("workers.properties lacks %q", want)
		}
	}
	h, err := GenerateHTTPDAJP(goldenAJPNodes, goldenOptions())
	if err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "httpd-ajp", h)
	if !bytes.Contains(h, []byte(`BalancerMember "ajp://127.0.0.1:8009" route=node1 secret=s3cret`)) {
		t.Errorf("no ajp:// member with route and secret:\n%s", h)
	}
}

func TestGenerateAJPErrors(t *testing.T) {
	for name, nodes := range map[string][]AJPNode{
		"no nodes":      nil,
		"dot in route":  {{Name: "a.b", Addr: "h:1"}},
		"dup":           {{Name: "a", Addr: "h:1"}, {Name: "a", Addr: "h:2"}},
		"lb name clash": {{Name: "gomcat", Addr: "h:1"}},
		"no port":       {{Name: "a", Addr: "h"}},
		"bad secret":    {{Name: "a", Addr: "h:1", Secret: "two words"}},
		"packet size":   {{Name: "a", Addr: "h:1", PacketSize: 100}},
	} {
		if _, _, err := GenerateModJK(nodes, GenOptions{}); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("modjk %s: %v", name, err)
		}
		if _, err := GenerateHTTPDAJP(nodes, GenOptions{}); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("httpd --ajp %s: %v", name, err)
		}
	}
}

// apache2 -t accepts both generated configs (mod_jk from libapache2-mod-jk).
func TestGeneratedAJPConfigsValidate(t *testing.T) {
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
	o := GenOptions{Listen: "127.0.0.1:" + freePort(t), AdminPort: atoi(freePort(t)),
		PidFile: filepath.Join(dir, "httpd.pid"), ErrorLog: filepath.Join(dir, "error.log"), TmpDir: dir,
		WorkersFile: filepath.Join(dir, "workers.properties")}
	if os.Geteuid() == 0 {
		o.User, o.Group = "nobody", nobodyGroup()
	}
	conf, workers, err := GenerateModJK(goldenAJPNodes, o)
	if err != nil {
		t.Fatal(err)
	}
	ajpConf, err := GenerateHTTPDAJP(goldenAJPNodes, o)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{"modjk.conf": conf, o.WorkersFile: workers, "ajp.conf": ajpConf}
	for name, b := range files {
		if !filepath.IsAbs(name) {
			name = filepath.Join(dir, name)
		}
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
