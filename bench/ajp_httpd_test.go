package bench

import (
	"bytes"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gomcat/gomcat/internal/testkit"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

func renderAJP(t *testing.T, tmpl string, d ajpHTTPD) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := ajpTemplates.ExecuteTemplate(&b, tmpl, d); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// The bench's httpd.conf and workers.properties, byte for byte
// (go test -run TestAJPHTTPDGolden -update rewrites testdata/ajp-*.golden).
func TestAJPHTTPDGolden(t *testing.T) {
	d := ajpHTTPD{Dir: "/tmp/gomcat-bench/httpd", ModulesDir: "/usr/lib/apache2/modules", Ports: [3]int{8101, 8102, 8103},
		NodeURL: "http://127.0.0.1:8091", AJPPort: 8009, Secret: ajpSecret}
	root := d
	root.User, root.Group = "nobody", "nogroup"
	for name, got := range map[string][]byte{
		"ajp-httpd":      renderAJP(t, "httpd.conf.tmpl", d),
		"ajp-httpd-root": renderAJP(t, "httpd.conf.tmpl", root),
		"ajp-workers":    renderAJP(t, "workers.properties.tmpl", d),
	} {
		testkit.Golden(t, filepath.Join("testdata", name+".golden"), got, *update)
	}
}

// apache2 -t accepts the bench's httpd.conf (mod_jk from libapache2-mod-jk).
func TestAJPHTTPDValidates(t *testing.T) {
	bin, err := exec.LookPath("apache2")
	if err != nil {
		t.Skip("apache2 not installed")
	}
	if _, err := os.Stat("/usr/lib/apache2/modules/mod_jk.so"); err != nil {
		t.Skip("mod_jk not installed")
	}
	dir := t.TempDir()
	d := ajpHTTPD{Dir: dir, ModulesDir: "/usr/lib/apache2/modules", Ports: [3]int{8101, 8102, 8103},
		NodeURL: "http://127.0.0.1:8091", AJPPort: 8009, Secret: ajpSecret}
	if os.Geteuid() == 0 {
		d.User, d.Group = "nobody", nobodyGroup()
	}
	conf := filepath.Join(dir, "httpd.conf")
	os.WriteFile(filepath.Join(dir, "workers.properties"), renderAJP(t, "workers.properties.tmpl", d), 0o600)
	os.WriteFile(conf, renderAJP(t, "httpd.conf.tmpl", d), 0o600)
	out, err := exec.Command(bin, "-t", "-f", conf).CombinedOutput()
	if err != nil || strings.Contains(string(out), "[warn]") {
		t.Fatalf("%s -t -f %s: %v\n%s", bin, conf, err, out)
	}
}
