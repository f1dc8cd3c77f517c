//go:build e2e

package e2e

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// Helpers of the farm scenarios (issue 7): bundles made with `gomcat bundle
// create`, dropped into a node's watchDir, and checks over HTTP on every
// node. Directories are those `gomcat init` writes into a home.

const (
	farmWatchDir  = "farm"      // <Deployer watchDir>
	farmTempDir   = "temp/farm" // <Deployer tempDir>
	farmDeployDir = "webapps"   // <Deployer deployDir> (the Host's appBase)
)

// farmStartedRE matches the deployer's start line.
const farmStartedRE = `Cluster FarmWarDeployer started\.`

// deployedRE matches the Host's line for a finished deployment of bundle.
func deployedRE(bundle string) string {
	return `Deployment of web application archive \[[^\]]*/` + regexp.QuoteMeta(bundle) + `\] has finished`
}

// staticDir writes files (name → content) into a new directory.
func staticDir(t testing.TB, files map[string][]byte) string {
	t.Helper()
	dir := t.TempDir()
	for name, b := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// createBundle runs `gomcat bundle create -o out --path ctx [--app app] dir`
// and returns out. It uses a build of gomcat without -race (toolBinary):
// deflating 50 MiB under the race detector takes longer than a test may.
// Making a bundle touches no network.
func createBundle(t testing.TB, out, ctxPath, app, dir string) string {
	t.Helper()
	args := []string{"bundle", "create", "-o", out, "--path", ctxPath}
	if app != "" {
		args = append(args, "--app", app)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, toolBinary(t), append(args, dir)...)
	cmd.Env = childEnv(nil)
	if o, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("gomcat %s: %v\n%s", strings.Join(args, " "), err, o)
	}
	return out
}

var (
	toolOnce sync.Once
	toolPath string
	toolErr  error
)

// toolBinary builds ./cmd/gomcat without -race once per test process, for
// offline tool steps (bundle create); the nodes run the -race binary.
func toolBinary(t testing.TB) string {
	t.Helper()
	Binary(t) // the e2e environment and the main build are fine
	toolOnce.Do(func() {
		dir := filepath.Dir(gomcatBin) // removed by TestMain with the -race build
		toolPath = filepath.Join(dir, "gomcat-tool")
		root, err := moduleRoot()
		if err != nil {
			toolErr = err
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, goTool(), "build", "-o", toolPath, "./cmd/gomcat")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			toolErr = fmt.Errorf("go build ./cmd/gomcat: %v: %s", err, out)
		}
	})
	if toolErr != nil {
		t.Fatal(toolErr)
	}
	return toolPath
}

// staticBundle makes a static-only bundle for ctxPath whose index.html
// says marker, in a temporary directory; extra files are added as given.
func staticBundle(t testing.TB, name, ctxPath, marker string, extra map[string][]byte) string {
	t.Helper()
	files := map[string][]byte{"index.html": []byte(marker + "\n")}
	for k, v := range extra {
		files[k] = v
	}
	return createBundle(t, filepath.Join(t.TempDir(), name), ctxPath, "", staticDir(t, files))
}

// dropBundle copies src into the node's watchDir as name: written under a
// dot name (ignored by the watcher), then renamed, as `gomcat deploy` does.
// It returns the time of the rename.
func dropBundle(t testing.TB, n *Node, src, name string) time.Time {
	t.Helper()
	dir := filepath.Join(n.Home, farmWatchDir)
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(dir, ".drop-"+name+".tmp")
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		t.Fatal(err)
	}
	return time.Now()
}

// removeBundle deletes name from the node's watchDir.
func removeBundle(t testing.TB, n *Node, name string) {
	t.Helper()
	if err := os.Remove(filepath.Join(n.Home, farmWatchDir, name)); err != nil {
		t.Fatal(err)
	}
}

// serving waits until every node answers GET path with code and (when
// code is 200) a body equal to want; it fails naming the nodes that do not.
func serving(t testing.TB, c *http.Client, nodes []*Node, path string, code int, want string, timeout time.Duration) {
	t.Helper()
	got := map[string]string{}
	ok := poll(timeout, func() bool {
		all := true
		for _, n := range nodes {
			r, err := doSession(c, n.URL(path), "")
			switch {
			case err != nil:
				got[n.Route], all = err.Error(), false
			case r.Code != code || code == 200 && r.Body != want:
				got[n.Route], all = fmt.Sprintf("%d %q", r.Code, short(r.Body)), false
			default:
				delete(got, n.Route)
			}
		}
		return all
	})
	if !ok {
		t.Fatalf("GET %s: want %d %q on every node within %s; not yet: %v", path, code, want, timeout, got)
	}
}

func short(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}

// zipSlipBundle writes a bundle that copies the manifest of a valid bundle
// and adds an entry escaping its directory.
func zipSlipBundle(t testing.TB, valid, out string) string {
	t.Helper()
	zr, err := zip.OpenReader(valid)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range zr.File {
		if !strings.HasPrefix(f.Name, "META-INF/") {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		w, err := zw.Create(f.Name)
		if err == nil {
			_, err = io.Copy(w, rc)
		}
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"index.html", "../../zipslip-evil.html"} {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, "evil\n")
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(out, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}

// notZipBundle writes random bytes: not a zip archive at all.
func notZipBundle(t testing.TB, out string) string {
	t.Helper()
	b := make([]byte, 4096)
	rand.Read(b)
	if err := os.WriteFile(out, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}

// randomBytes returns n bytes of crypto/rand output (incompressible).
func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// partFiles lists the farm's temporary transfer files in the node's tempDir
// with their sizes.
func partFiles(n *Node) map[string]int64 {
	out := map[string]int64{}
	ents, _ := os.ReadDir(filepath.Join(n.Home, farmTempDir))
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".part") {
			if fi, err := e.Info(); err == nil {
				out[e.Name()] = fi.Size()
			}
		}
	}
	return out
}

// copyBytes measures a raw TCP copy of size bytes from src to every dst at
// once (the sender's link carries them all, as a farm push to every member
// does) and returns how long the slowest took.
func copyBytes(t testing.TB, src *NS, dsts []*NS, size int) time.Duration {
	t.Helper()
	payload := randomBytes(size)
	type res struct {
		d   time.Duration
		err error
	}
	results := make(chan res, len(dsts))
	var lns []net.Listener
	for _, d := range dsts {
		ln, err := d.Listen("tcp", net.JoinHostPort(d.Addr.String(), "0"))
		if err != nil {
			t.Fatal(err)
		}
		lns = append(lns, ln)
		go func() {
			c, err := ln.Accept()
			if err != nil {
				results <- res{err: err}
				return
			}
			defer c.Close()
			n, err := io.Copy(io.Discard, c)
			if err == nil && n != int64(size) {
				err = fmt.Errorf("received %d of %d bytes", n, size)
			}
			results <- res{err: err}
		}()
	}
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var conns []net.Conn
	for _, ln := range lns {
		c, err := src.DialContext(ctx, "tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	start := time.Now()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var werr error
	for _, c := range conns {
		wg.Go(func() {
			_, err := c.Write(payload)
			if err == nil {
				err = c.(*net.TCPConn).CloseWrite()
			}
			if err != nil {
				mu.Lock()
				werr = err
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	for range dsts {
		r := <-results
		if r.err != nil {
			t.Fatalf("raw copy: %v", r.err)
		}
	}
	d := time.Since(start)
	for _, c := range conns {
		c.Close()
	}
	if werr != nil {
		t.Fatalf("raw copy: %v", werr)
	}
	return d
}

// httpCopy measures GET url from ns (the whole body, discarded) and returns
// the time and the byte count.
func httpCopy(t testing.TB, ns *NS, url string) (time.Duration, int64) {
	t.Helper()
	c := ns.HTTPClient(false)
	defer c.CloseIdleConnections()
	start := time.Now()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	n, err := io.Copy(io.Discard, resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d, %d bytes, %v", url, resp.StatusCode, n, err)
	}
	return time.Since(start), n
}
