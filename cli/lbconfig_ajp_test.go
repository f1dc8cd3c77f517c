package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// lbAddAJP gives a home an AJP connector before its Engine.
func lbAddAJP(t *testing.T, home, attrs string) {
	t.Helper()
	xml := filepath.Join(home, "conf", "server.xml")
	b, err := os.ReadFile(xml)
	if err != nil {
		t.Fatal(err)
	}
	b = []byte(strings.Replace(string(b), "\n    <Engine ", "\n    <Connector protocol=\"AJP/1.3\" "+attrs+"/>\n    <Engine ", 1))
	if err := os.WriteFile(xml, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestLBConfigModJK(t *testing.T) {
	h1 := lbInitHome(t, "node1", 18091, 0)
	h2 := lbInitHome(t, "node2", 18092, 0)
	lbAddAJP(t, h1, `port="18009" secret="s1"`)
	lbAddAJP(t, h2, `port="18019" address="192.0.2.7" secret="s2" packetSize="65536"`)
	ctx := context.Background()
	dir := t.TempDir()
	file := filepath.Join(dir, "httpd.conf")
	code, out, errs := lbRun(t, ctx, "lbconfig", "modjk", "--home", h1, "--home", h2, "--tmp-dir", dir,
		"--pid-file", filepath.Join(dir, "httpd.pid"), "--error-log", filepath.Join(dir, "error.log"), "-o", file)
	if code != 0 || out != "" {
		t.Fatalf("lbconfig modjk: %d %q %s", code, out, errs)
	}
	workers, err := os.ReadFile(filepath.Join(dir, "workers.properties"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"worker.node1.host=127.0.0.1", "worker.node1.port=18009", "worker.node1.secret=s1",
		"worker.node2.host=192.0.2.7", "worker.node2.secret=s2", "worker.node2.max_packet_size=65536",
		"worker.gomcat.balance_workers=node1,node2"} {
		if !strings.Contains(string(workers), want+"\n") {
			t.Errorf("workers.properties lacks %q:\n%s", want, workers)
		}
	}
	if st, _ := os.Stat(filepath.Join(dir, "workers.properties")); st.Mode().Perm() != 0o600 {
		t.Errorf("workers.properties mode %v: it holds the secrets", st.Mode().Perm())
	}
	conf, _ := os.ReadFile(file)
	if !strings.Contains(string(conf), `JkWorkersFile "`+filepath.Join(dir, "workers.properties")+`"`) {
		t.Errorf("httpd.conf does not name the workers file:\n%s", conf)
	}

	// mod_proxy_ajp, from a home and from --node with a secret file.
	secret := filepath.Join(dir, "secret")
	os.WriteFile(secret, []byte("s3\n"), 0o600)
	code, out, errs = lbRun(t, ctx, "lbconfig", "httpd", "--ajp", "--home", h1, "--node", "node3=ajp://127.0.0.1:18029", "--ajp-secret-file", secret)
	if code != 0 || !strings.Contains(out, `BalancerMember "ajp://127.0.0.1:18009" route=node1 secret=s1`) ||
		!strings.Contains(out, `BalancerMember "ajp://127.0.0.1:18029" route=node3 secret=s3`) {
		t.Fatalf("lbconfig httpd --ajp: %d %s\n%s", code, errs, out)
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"lbconfig", "modjk", "--home", lbInitHome(t, "node4", 18094, 0)}, "no AJP connector"},
		{[]string{"lbconfig", "modjk", "--node", "node1=http://127.0.0.1:8080"}, "want name=ajp://host:port"},
		{[]string{"lbconfig", "modjk", "--from-membership"}, "heartbeats do not carry the AJP connector"},
		{[]string{"lbconfig", "haproxy", "--ajp", "--home", h1}, "--ajp is for lbconfig httpd"},
	} {
		if code, _, errs := lbRun(t, ctx, tc.args...); code == 0 || !strings.Contains(errs, tc.want) {
			t.Errorf("%v: %d %s, want %q", tc.args, code, errs, tc.want)
		}
	}
}
