package cli

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gomcat/gomcat/farmdeploy"
	"github.com/gomcat/gomcat/internal/testkit"
	"github.com/gomcat/gomcat/runtime/node"
)

// startNode runs "gomcat start" for home until the test ends.
func startNode(t *testing.T, home string, extra ...string) *syncBuf {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var sout, serr syncBuf
	done := make(chan int, 1)
	go func() {
		done <- Run(ctx, append([]string{"gomcat", "start", "--home", home, "--log-format", "json"}, extra...), &sout, &serr)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Error("node did not stop")
		}
	})
	waitLog(t, &serr, `Server startup in`, done)
	return &serr
}

func makeBundle(t *testing.T, name, ctxPath, content string) string {
	t.Helper()
	src := t.TempDir()
	if err := os.WriteFile(filepath.Join(src, "index.html"), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), name)
	if code, out, errs := run(t, "bundle", "create", "-o", file, "--path", ctxPath, src); code != 0 {
		t.Fatalf("bundle create: %s %s", out, errs)
	}
	return file
}

// TestMembersAndDeploy runs one watching node: members --once lists it
// (by --home and by flags), and deploy farms a bundle out and follows the
// rollout to "started".
func TestMembersAndDeploy(t *testing.T) {
	httpPort := freeTCPPort(t)
	home := initHomeT(t, httpPort, -1)
	mport := func() string {
		ri, err := node.ReadRunInfo(home)
		if err != nil {
			t.Fatal(err)
		}
		return strconv.Itoa(ri.Membership.Port)
	}
	// Not running yet: deploy says so.
	gar := makeBundle(t, "shop.gar", "/shop", "farmed\n")
	code, _, errs := run(t, "deploy", "--home", home, gar)
	if code != 1 || !strings.Contains(errs, "is not running") {
		t.Fatalf("deploy to a stopped node: %d %q", code, errs)
	}

	startNode(t, home, "--farm-watch", "--http-address", "127.0.0.1")

	for _, args := range [][]string{
		{"members", "--home", home, "--once", "--wait", "1s"},
		{"members", "--mcast-port", mport(), "--once", "--wait", "1s"},
	} {
		code, out, errs := run(t, args...)
		want := fmt.Sprintf("http://127.0.0.1:%d", httpPort)
		if code != 0 || !strings.Contains(out, "NAME") || !strings.Contains(out, "node1") || !strings.Contains(out, want) || !strings.Contains(out, "members 1") {
			t.Fatalf("%v: %d\n%s%s", args, code, out, errs)
		}
	}
	code, out, _ := run(t, "members", "--mcast-port", mport(), "--domain", "elsewhere", "--once", "--wait", "1s")
	if code != 0 || !strings.Contains(out, "no members heard") || !strings.Contains(out, "other domains ignored") {
		t.Fatalf("members of another domain: %d\n%s", code, out)
	}

	code, out, errs = run(t, "deploy", "--home", home, "--timeout", "30s", gar)
	if code != 0 || !strings.Contains(out, "shop.gar started on 1 member(s): node1") {
		t.Fatalf("deploy: %d\n%s%s", code, out, errs)
	}
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/shop/index.html", httpPort))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "farmed\n" {
		t.Fatalf("the farmed bundle serves %q", b)
	}
	entries, _ := os.ReadDir(filepath.Join(home, "farm"))
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("temporary file %s left in watchDir", e.Name())
		}
	}
}

func TestDeployRefusesWithoutFarmWatch(t *testing.T) {
	home := initHomeT(t, freeTCPPort(t), -1)
	startNode(t, home, "--http-address", "127.0.0.1")
	gar := makeBundle(t, "a.gar", "/a", "x")
	code, _, errs := run(t, "deploy", "--home", home, gar)
	if code != 1 || !strings.Contains(errs, "does not watch its farm directory") || !strings.Contains(errs, "--farm-watch") {
		t.Fatalf("deploy to a node that does not watch: %d %q", code, errs)
	}
}

// fakeWatchingNode publishes a run info as a watching node would (this
// process's pid), without a node.
func fakeWatchingNode(t *testing.T) (home, temp, watch string) {
	t.Helper()
	home = t.TempDir()
	temp, watch = filepath.Join(home, "temp", "farm"), filepath.Join(home, "farm")
	for _, d := range []string{temp, watch, filepath.Join(home, "logs")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	ri := node.RunInfo{PID: os.Getpid(), Home: home, JvmRoute: "node1",
		Farm: &node.RunFarm{TempDir: temp, WatchDir: watch, DeployDir: filepath.Join(home, "webapps"), WatchEnabled: true}}
	b, _ := json.Marshal(ri)
	if err := os.WriteFile(filepath.Join(home, "logs", node.RunInfoFile), b, 0o644); err != nil {
		t.Fatal(err)
	}
	return home, temp, watch
}

func writeStatus(t *testing.T, dir, name, sum string, states map[string]farmdeploy.MemberStatus) {
	t.Helper()
	st := farmdeploy.Status{Self: "node1", Members: []string{"node2", "node3"}, Updated: time.Now(),
		Bundles: []farmdeploy.BundleStatus{{Name: name, SHA256: sum, Members: states}}}
	b, _ := json.Marshal(st)
	tmp := filepath.Join(dir, ".st")
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, farmdeploy.StatusFile)); err != nil {
		t.Fatal(err)
	}
}

// TestDeployReportsFailuresAndTimeouts follows a fake rollout: a member
// that failed is named (exit 2); one still transferring at the timeout is
// named (exit 3).
func TestDeployReportsFailuresAndTimeouts(t *testing.T) {
	gar := makeBundle(t, "shop.gar", "/shop", "v1")
	data, _ := os.ReadFile(gar)
	h := sha256.Sum256(data)
	sum := hex.EncodeToString(h[:])
	now := time.Now()

	home, temp, watch := fakeWatchingNode(t)
	// A stale status of an older version must not count.
	writeStatus(t, temp, "shop.gar", strings.Repeat("0", 64), map[string]farmdeploy.MemberStatus{"node1": {State: "started", At: now}})
	type result struct {
		code      int
		out, errs string
	}
	done := make(chan result, 1)
	go func() {
		code, out, errs := run(t, "deploy", "--home", home, "--timeout", "20s", gar)
		done <- result{code, out, errs}
	}()
	testkit.WaitFor(t, "condition", func() bool { _, err := os.Stat(filepath.Join(watch, "shop.gar")); return err == nil })
	writeStatus(t, temp, "shop.gar", sum, map[string]farmdeploy.MemberStatus{
		"node1": {State: "started", At: now}, "node2": {State: "transferring", At: now}, "node3": {State: "transferring", At: now}})
	writeStatus(t, temp, "shop.gar", sum, map[string]farmdeploy.MemberStatus{
		"node1": {State: "started", At: now}, "node2": {State: "failed", Error: "checksum mismatch", At: now}, "node3": {State: "started", At: now}})
	r := <-done
	if r.code != 2 || !strings.Contains(r.errs, "shop.gar failed on node2 (failed: checksum mismatch)") {
		t.Fatalf("failed rollout: %d\n%s%s", r.code, r.out, r.errs)
	}

	home, temp, _ = fakeWatchingNode(t)
	writeStatus(t, temp, "shop.gar", sum, map[string]farmdeploy.MemberStatus{
		"node1": {State: "started", At: now}, "node2": {State: "started", At: now}, "node3": {State: "transferring", At: now}})
	code, out, errs := run(t, "deploy", "--home", home, "--timeout", "1s", gar)
	if code != 3 || !strings.Contains(errs, "not started within 1s on node3 (transferring)") || !strings.Contains(out, "node3") {
		t.Fatalf("stalled rollout: %d\n%s%s", code, out, errs)
	}
}
