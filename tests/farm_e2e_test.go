//go:build e2e

package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gomcat/gomcat/farmdeploy"
)

// Farm deployment end to end (issue 7): node1 runs with --farm-watch, the
// others are plain members. What runs:
//
//   - TestFarmDeployEverywhere (4 nodes): `gomcat deploy` of a static
//     bundle exits 0 once all three members started it and each serves it;
//     an app bundle dropped into watchDir runs on every node, and a session
//     of it survives the app's redeploy; a changed bundle replaces the old
//     one everywhere; removing it gives 404 everywhere (and nothing deploys
//     it again); a 4th node started later gets the bundles; a bundle that
//     is not a zip, and one with a zip-slip entry, are refused (error line
//     and "failed" in the rollout status on node1, nothing farmed out,
//     nothing written outside) while the previous version keeps serving
//     on all four.
//   - TestFarmKillMidTransfer: a 50 MiB bundle; node3 is killed (-9) while
//     its temporary file grows; node2 completes, node3 gets the bundle
//     (byte for byte) after its restart.
//   - TestFarmRolloutTiming: time from a bundle landing in watchDir to
//     "started" on all three members for 1 MiB and 50 MiB, beside a raw TCP
//     copy of the same bytes from node1's namespace to both members at once
//     and an HTTP GET of the 50 MiB file. Logged, not asserted.
//
// The watching node deploys a bundle itself before it farms it out, so a
// bundle that fails there never reaches the members; a receiver-side
// checksum mismatch would need a forged cluster member and is left to the
// farmdeploy unit tests.

// farmCluster starts nodes on the first n namespaces of nt, node1 with
// --farm-watch, and waits until node1 counts all the others as members.
func farmCluster(t *testing.T, nt *Net, n int) []*Node {
	t.Helper()
	var nodes []*Node
	for i := range n {
		o := NodeOptions{Route: fmt.Sprintf("node%d", i+1)}
		if i == 0 {
			o.InitArgs = []string{"--farm-watch"}
		}
		nodes = append(nodes, InitNode(t, nt.NS[i], o))
	}
	for _, nd := range nodes {
		nd.Start(t)
	}
	for _, nd := range nodes {
		nd.WaitStarted(t)
		nd.WaitLog(t, farmStartedRE, time.Second)
	}
	for _, nd := range nodes[1:] {
		nodes[0].WaitLog(t, `Replication member added: tcp://[^ ]*,`+nd.Route+`,`, 15*time.Second)
	}
	return nodes
}

func TestFarmDeployEverywhere(t *testing.T) {
	t.Parallel()
	nt := NewNet(t, 5)
	nodes := farmCluster(t, nt, 3)
	n1 := nodes[0]
	client := nt.NS[4]
	c := client.HTTPClient(false)
	defer c.CloseIdleConnections()

	// The spelling of issue 7 (flag after the file) must work as well.
	v1 := staticBundle(t, "shop.gar", "/shop", "shop v1", nil)
	out, err := n1.Gomcat(t, "deploy", v1, "--home", n1.Home)
	if err != nil {
		t.Errorf("gomcat deploy FILE.gar --home NODE (issue 7's form) failed: %v\n%s", err, out)
		out, err = n1.Gomcat(t, "deploy", "--home", n1.Home, v1)
	}
	if err != nil {
		t.Fatalf("gomcat deploy --home NODE FILE.gar: %v\n%s", err, out)
	}
	if !regexp.MustCompile(`started on 3 member`).MatchString(out) {
		t.Errorf("gomcat deploy exited 0 but does not report 3 members started:\n%s", out)
	}
	t.Logf("gomcat deploy:\n%s", strings.TrimSpace(out))
	// Exit 0 means started everywhere: no waiting.
	serving(t, c, nodes, "/shop/", 200, "shop v1", 0)

	// An app bundle dropped into watchDir: every node runs the app itself.
	app := createBundle(t, filepath.Join(t.TempDir(), "app.gar"), "/app", "example",
		staticDir(t, map[string][]byte{"index.html": []byte("app\n")}))
	dropBundle(t, n1, app, "app.gar")
	for _, nd := range nodes {
		serving(t, c, []*Node{nd}, "/app/node", 200, nd.Route, 30*time.Second)
	}

	// Redeploying the distributable app keeps its sessions (issue 7). A
	// read on another node moves the session there (a new cookie), so the
	// id is followed from reply to reply.
	r := getSession(t, c, nodes[1].URL("/app/set?k=a&v=1"), "")
	sid := r.SetCookie
	if r.Code != 200 || sid == "" {
		t.Fatalf("node2 /app/set: %d %q (cookie %q)", r.Code, r.Body, sid)
	}
	readApp := func(nd *Node, timeout time.Duration) reply {
		t.Helper()
		var r reply
		poll(timeout, func() bool {
			r = getSession(t, c, nd.URL("/app/get?k=a"), sid)
			return r.Code == 200
		})
		if r.SetCookie != "" {
			sid = r.SetCookie
		}
		return r
	}
	for _, nd := range nodes {
		if r := readApp(nd, 10*time.Second); r.Code != 200 || r.Body != "1" {
			t.Fatalf("the /app session made on node2, on %s: %d %q", nd.Route, r.Code, r.Body)
		}
	}
	marks := map[*Node]int{}
	for _, nd := range nodes {
		marks[nd] = nd.LogMark()
	}
	dropBundle(t, n1, createBundle(t, filepath.Join(t.TempDir(), "app.gar"), "/app", "example",
		staticDir(t, map[string][]byte{"index.html": []byte("app v2\n")})), "app.gar")
	for _, nd := range nodes {
		if !poll(30*time.Second, func() bool {
			return logIndex(nd, marks[nd], deployedRE("app.gar")+`|Reloading Context with name \[/app\] is completed`) >= 0
		}) {
			t.Fatalf("%s did not redeploy the changed app.gar", nd.Route)
		}
	}
	for _, nd := range nodes {
		if r := readApp(nd, 5*time.Second); r.Code != 200 || r.Body != "1" {
			t.Errorf("%s after the redeploy of /app: /app/get?k=a with the session: %d %q, want 200 \"1\"", nd.Route, r.Code, r.Body)
		}
	}

	// Changed: the new version everywhere.
	dropBundle(t, n1, staticBundle(t, "shop.gar", "/shop", "shop v2", nil), "shop.gar")
	serving(t, c, nodes, "/shop/", 200, "shop v2", 30*time.Second)

	// Removed: undeployed everywhere; the app stays. Nothing deploys it
	// again on the way (e.g. the Host's autoDeploy seeing the file in
	// deployDir between the undeploy and the file's removal).
	for _, nd := range nodes {
		marks[nd] = nd.LogMark()
	}
	removeBundle(t, n1, "shop.gar")
	serving(t, c, nodes, "/shop/", 404, "", 30*time.Second)
	for _, nd := range nodes {
		if i := logIndex(nd, marks[nd], `Deploying web application archive \[[^\]]*/shop\.gar\]`); i >= 0 {
			line, _, _ := strings.Cut(nd.Log()[i:], "\n")
			t.Errorf("%s deployed shop.gar again after it was removed from watchDir: %s", nd.Route, line)
		}
	}
	for _, nd := range nodes {
		serving(t, c, []*Node{nd}, "/app/node", 200, nd.Route, 0)
	}
	for _, nd := range nodes {
		if _, err := os.Stat(filepath.Join(nd.Home, farmDeployDir, "shop.gar")); err == nil {
			t.Errorf("%s: shop.gar still in its deployDir after the undeploy", nd.Route)
		}
	}

	// Deployed again; a 4th node started afterwards catches up.
	v3 := staticBundle(t, "shop.gar", "/shop", "shop v3", nil)
	dropBundle(t, n1, v3, "shop.gar")
	serving(t, c, nodes, "/shop/", 200, "shop v3", 30*time.Second)
	// Debug logs of the joiner show its manifest exchange should this fail.
	n4 := StartNode(t, nt.NS[3], NodeOptions{Route: "node4", StartArgs: []string{"--log-level", "debug"}})
	nodes = append(nodes, n4)
	serving(t, c, []*Node{n4}, "/shop/", 200, "shop v3", 30*time.Second)
	serving(t, c, []*Node{n4}, "/app/node", 200, "node4", 30*time.Second)

	// Tampered bundles under the same name: refused, v3 keeps serving.
	dir := t.TempDir()
	for _, bad := range []struct{ what, file string }{
		{"not a zip archive", notZipBundle(t, filepath.Join(dir, "notzip.gar"))},
		{"a zip-slip entry", zipSlipBundle(t, v3, filepath.Join(dir, "zipslip.gar"))},
	} {
		mark := n1.LogMark()
		marks := map[*Node]int{}
		for _, nd := range nodes[1:] {
			marks[nd] = nd.LogMark()
		}
		dropBundle(t, n1, bad.file, "shop.gar")
		line := n1.WaitLogAfter(t, mark, `ERR .*bundle=shop\.gar.*|ERR .*failed to deploy`, 30*time.Second)
		t.Logf("%s: node1 refused it: %s", bad.what, line)
		if i := logIndex(n1, mark, `farming out bundle.*bundle=shop\.gar`); i >= 0 {
			t.Errorf("%s: node1 farmed it out", bad.what)
		}
		// The status file follows the log line.
		var st farmdeploy.Status
		var err error
		if !poll(5*time.Second, func() bool {
			st, err = farmdeploy.ReadStatus(filepath.Join(n1.Home, farmTempDir))
			b, ok := st.Bundle("shop.gar")
			return err == nil && ok && b.Members["node1"].State == farmdeploy.StateFailed
		}) {
			b, _ := st.Bundle("shop.gar")
			t.Errorf("%s: rollout status of shop.gar on node1: %+v (%v), want %q", bad.what, b.Members["node1"], err, farmdeploy.StateFailed)
		}
		for _, nd := range nodes[1:] {
			if i := logIndex(nd, marks[nd], `farmed bundle deployed.*shop\.gar|`+deployedRE("shop.gar")); i >= 0 {
				t.Errorf("%s: %s deployed it", bad.what, nd.Route)
			}
		}
		serving(t, c, nodes, "/shop/", 200, "shop v3", 0)
	}
	root := filepath.Dir(filepath.Dir(n1.Home))
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Name() == "zipslip-evil.html" {
			t.Errorf("the zip-slip entry was written: %s", p)
		}
		return nil
	})
}

func TestFarmKillMidTransfer(t *testing.T) {
	t.Parallel()
	nt := NewNet(t, 4)
	nodes := farmCluster(t, nt, 3)
	n1, n2, n3 := nodes[0], nodes[1], nodes[2]
	client := nt.NS[3]
	c := client.HTTPClient(false)
	defer c.CloseIdleConnections()

	data := randomBytes(50 << 20)
	sum := sha256.Sum256(data)
	big := staticBundle(t, "big.gar", "/big", "big v1", map[string][]byte{"data.bin": data})
	fi, err := os.Stat(big)
	if err != nil {
		t.Fatal(err)
	}
	mark3 := n3.LogMark()
	dropBundle(t, n1, big, "big.gar")
	// Kill node3 while its temporary file grows (neither empty nor complete).
	var seen int64
	if !poll(60*time.Second, func() bool {
		for _, size := range partFiles(n3) {
			if size > 0 && size < fi.Size() {
				seen = size
				return true
			}
		}
		if logIndex(n3, mark3, deployedRE("big.gar")) >= 0 {
			t.Fatalf("node3 deployed the %d-byte bundle before the test saw its transfer in progress", fi.Size())
		}
		return false
	}) {
		t.Fatalf("node3 never had a partial big.gar in %s", farmTempDir)
	}
	n3.Kill(t)
	t.Logf("killed node3 with %d of %d bytes of big.gar received", seen, fi.Size())

	serving(t, c, []*Node{n1, n2}, "/big/", 200, "big v1", 60*time.Second)
	n3.Start(t)
	n3.WaitStarted(t)
	serving(t, c, []*Node{n3}, "/big/", 200, "big v1", 60*time.Second)
	for _, nd := range nodes {
		r := getBody(t, c, nd.URL("/big/data.bin"))
		if got := sha256.Sum256(r); got != sum {
			t.Errorf("%s: /big/data.bin: %d bytes, sha256 %s, want %d bytes %s", nd.Route, len(r), hex.EncodeToString(got[:8]), len(data), hex.EncodeToString(sum[:8]))
		}
	}
	if p := partFiles(n3); len(p) != 0 {
		t.Errorf("node3 kept temporary transfer files after catching up: %v", p)
	}
}

// getBody fetches url and returns the body of a 200 answer.
func getBody(t testing.TB, c *http.Client, url string) []byte {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d, %d bytes, %v", url, resp.StatusCode, len(b), err)
	}
	return b
}

func TestFarmRolloutTiming(t *testing.T) {
	t.Parallel()
	nt := NewNet(t, 4)
	nodes := farmCluster(t, nt, 3)
	n1 := nodes[0]
	client := nt.NS[3]
	c := client.HTTPClient(false)
	defer c.CloseIdleConnections()

	for _, size := range []int{1 << 20, 50 << 20} {
		name := fmt.Sprintf("t%dm.gar", size>>20)
		ctxPath := fmt.Sprintf("/t%dm", size>>20)
		b := staticBundle(t, name, ctxPath, name, map[string][]byte{"data.bin": randomBytes(size)})
		marks := map[*Node]int{}
		for _, nd := range nodes {
			marks[nd] = nd.LogMark()
		}
		landed := dropBundle(t, n1, b, name)
		started := map[string]time.Duration{}
		var farmOut time.Duration
		if !poll(120*time.Second, func() bool {
			if farmOut == 0 && logIndex(n1, marks[n1], `farming out bundle.*bundle=`+regexp.QuoteMeta(name)) >= 0 {
				farmOut = time.Since(landed)
			}
			for _, nd := range nodes {
				if _, ok := started[nd.Route]; !ok && logIndex(nd, marks[nd], deployedRE(name)) >= 0 {
					started[nd.Route] = time.Since(landed)
				}
			}
			return len(started) == len(nodes) && farmOut > 0
		}) {
			t.Fatalf("%s: started on %v only", name, started)
		}
		var last time.Duration
		for _, d := range started {
			last = max(last, d)
		}
		serving(t, c, nodes, ctxPath+"/", 200, name, 10*time.Second)
		raw := copyBytes(t, nt.NS[0], []*NS{nt.NS[1], nt.NS[2]}, size)
		t.Logf("%s (%d MiB): landed → started everywhere %s (node1 %s, node2 %s, node3 %s); landed → node1 farming out %s (watchDir settle + local deploy); farming out → all started %s; raw TCP copy of the bytes from node1's namespace to node2 and node3 at once %s (ratio %.1f)",
			name, size>>20, last.Round(time.Millisecond), started["node1"].Round(time.Millisecond), started["node2"].Round(time.Millisecond), started["node3"].Round(time.Millisecond),
			farmOut.Round(time.Millisecond), (last - farmOut).Round(time.Millisecond), raw.Round(time.Millisecond), float64(last-farmOut)/float64(raw))
		if size == 50<<20 {
			d, n := httpCopy(t, nt.NS[1], n1.URL(ctxPath+"/data.bin"))
			t.Logf("HTTP GET of %s/data.bin (%d bytes) from node1 into node2's namespace: %s", ctxPath, n, d.Round(time.Millisecond))
		}
	}
}
