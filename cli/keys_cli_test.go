package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gomcat/gomcat/internal/seal"
)

func TestKeygenRotationSteps(t *testing.T) {
	file := filepath.Join(t.TempDir(), "conf", "cluster.key")
	load := func() [][]byte {
		t.Helper()
		keys, err := seal.LoadKeyFile(file)
		if err != nil {
			t.Fatal(err)
		}
		return keys
	}
	if code, out, errs := run(t, "keygen", file); code != 0 || !strings.Contains(out, "wrote "+file) {
		t.Fatalf("keygen: %d %q %q", code, out, errs)
	}
	if fi, err := os.Stat(file); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode: %v %v", fi.Mode(), err)
	}
	first := load()
	if len(first) != 1 || len(first[0]) != 32 {
		t.Fatalf("new key file holds %d keys", len(first))
	}
	if code, _, errs := run(t, "keygen", file); code == 0 || !strings.Contains(errs, "--force") {
		t.Fatalf("keygen over an existing file: %d %q", code, errs)
	}
	if code, _, errs := run(t, "keygen", "--add", file); code != 0 {
		t.Fatalf("--add: %s", errs)
	}
	added := load()
	if len(added) != 2 || string(added[0]) != string(first[0]) {
		t.Fatalf("--add must keep the sealing key first: %d keys", len(added))
	}
	if code, out, errs := run(t, "keygen", "--promote", file); code != 0 || !strings.Contains(out, seal.ID(added[1]).String()) {
		t.Fatalf("--promote: %d %q %q", code, out, errs)
	}
	promoted := load()
	if len(promoted) != 2 || string(promoted[0]) != string(added[1]) || string(promoted[1]) != string(first[0]) {
		t.Fatalf("--promote: the new key must seal, the old one still open")
	}
	if code, _, errs := run(t, "keygen", "--retire", file); code != 0 {
		t.Fatalf("--retire: %s", errs)
	}
	if retired := load(); len(retired) != 1 || string(retired[0]) != string(added[1]) {
		t.Fatalf("--retire must keep only the new key")
	}
	if code, out, _ := run(t, "keygen"); code != 0 || !strings.Contains(out, "# key id ") {
		t.Fatalf("keygen to stdout: %d %q", code, out)
	}
	if code, _, errs := run(t, "keygen", "--add", "--retire", file); code == 0 {
		t.Fatalf("two steps at once accepted: %s", errs)
	}
}

// A node bound off loopback without a key is refused by start and
// configtest with the way out; a key file or the explicit opt-in lets it
// through. The address is a documentation one (192.0.2.1, never local):
// the refusal happens before any socket is opened.
func TestOffLoopbackNeedsKey(t *testing.T) {
	home := initHomeT(t, freeTCPPort(t), freeTCPPort(t), "--mcast-bind", "192.0.2.1")
	code, out, errs := run(t, "configtest", "--home", home)
	if code == 0 || !strings.Contains(errs, "gomcat keygen") || !strings.Contains(errs, "membership bound to 192.0.2.1") ||
		!strings.Contains(errs, "--insecure-cluster") {
		t.Fatalf("configtest off loopback without a key: %d %q %q", code, out, errs)
	}
	code, _, errs = run(t, "start", "--home", home)
	if code == 0 || !strings.Contains(errs, "no cluster key") || !strings.Contains(errs, "gomcat keygen") {
		t.Fatalf("start off loopback without a key: %d %q", code, errs)
	}
	if code, _, errs := run(t, "configtest", "--home", home, "--insecure-cluster"); code != 0 {
		t.Fatalf("configtest --insecure-cluster: %d %q", code, errs)
	}
	key := filepath.Join(home, "conf", "cluster.key")
	if code, _, errs := run(t, "keygen", key); code != 0 {
		t.Fatal(errs)
	}
	if code, out, errs := run(t, "configtest", "--home", home, "--cluster-key-file", "conf/cluster.key"); code != 0 ||
		!strings.Contains(out, "from keyFile conf/cluster.key") {
		t.Fatalf("configtest with a key file: %d %q %q", code, out, errs)
	}
	t.Setenv("GOMCAT_CLUSTER_KEY", "000102030405060708090a0b0c0d0e0f")
	if code, _, errs := run(t, "configtest", "--home", home); code != 0 {
		t.Fatalf("configtest with GOMCAT_CLUSTER_KEY: %d %q", code, errs)
	}
	t.Setenv("GOMCAT_CLUSTER_KEY", "")
	os.Chmod(key, 0o644)
	if code, _, errs := run(t, "configtest", "--home", home, "--cluster-key-file", key); code == 0 || !strings.Contains(errs, "chmod 600") {
		t.Fatalf("configtest with a world-readable key file: %d %q", code, errs)
	}
	// The loopback default of gomcat init needs nothing.
	lo := initHomeT(t, freeTCPPort(t), freeTCPPort(t))
	if code, _, errs := run(t, "configtest", "--home", lo); code != 0 {
		t.Fatalf("loopback home: %d %q", code, errs)
	}
}

func TestBalancerObserverNeedsKey(t *testing.T) {
	code, _, errs := run(t, "balancer", "--listen", "127.0.0.1:0", "--admin", "", "--mcast-bind", "192.0.2.1")
	if code == 0 || !strings.Contains(errs, "no cluster key") || !strings.Contains(errs, "--insecure-cluster") {
		t.Fatalf("balancer off loopback without a key: %d %q", code, errs)
	}
}
