package host

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/gomcat/gomcat/internal/testkit"
	"github.com/rs/zerolog"
)

// Test apps, registered once per test binary.
var (
	versionSeq atomic.Int64
	gates      = map[string]chan struct{}{} // app "gated": waits on gates[param "gate"]
)

func init() {
	// "echo" replies context path, path seen, and the version it was built as.
	Register("test-echo", func(a AppContext) (http.Handler, error) {
		v := versionSeq.Add(1)
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if g := r.URL.Query().Get("gate"); g != "" {
				<-gates[g]
			}
			fmt.Fprintf(w, "ctx=%s path=%s v=%d route=%s", a.Path, r.URL.Path, v, a.JvmRoute)
		}), nil
	})
	Register("test-fail", func(AppContext) (http.Handler, error) { return nil, fmt.Errorf("cannot build") })
}

func testLogger(t *testing.T) zerolog.Logger {
	return zerolog.New(zerolog.NewTestWriter(t))
}

func newHost(t *testing.T, mod func(*Config)) *Host {
	t.Helper()
	cfg := DefaultConfig()
	cfg.WorkDir = t.TempDir()
	cfg.JvmRoute = "node1"
	cfg.Logger = testLogger(t)
	cfg.AutoDeploy = false
	if mod != nil {
		mod(&cfg)
	}
	h, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.Stop(context.Background()) })
	return h
}

func get(t *testing.T, h http.Handler, target string) (int, string, http.Header) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
	return rec.Code, rec.Body.String(), rec.Header()
}

func TestRoutingLongestPrefix(t *testing.T) {
	h := newHost(t, func(c *Config) {
		c.Contexts = []ContextSpec{
			{Path: "/", App: "test-echo"},
			{Path: "/shop", App: "test-echo"},
			{Path: "/shop/admin", App: "test-echo"},
		}
	})
	tests := []struct{ target, want string }{
		{"/", "ctx=/ path=/ "},
		{"/x/y", "ctx=/ path=/x/y "},
		{"/shopping", "ctx=/ path=/shopping "},
		{"/shop/", "ctx=/shop path=/ "},
		{"/shop/cart", "ctx=/shop path=/cart "},
		{"/shop/admin/users", "ctx=/shop/admin path=/users "},
		{"/shop/administrator", "ctx=/shop path=/administrator "},
		{"/shop/cart;jsessionid=ABC.node1", "ctx=/shop path=/cart "},
		{"/shop;jsessionid=ABC", "ctx=/shop path=/ "},
	}
	for _, tt := range tests {
		t.Run(tt.target, func(t *testing.T) {
			code, body, _ := get(t, h, tt.target)
			if code != 200 || !strings.HasPrefix(body, tt.want) {
				t.Fatalf("GET %s = %d %q, want prefix %q", tt.target, code, body, tt.want)
			}
		})
	}
	t.Run("context root redirects", func(t *testing.T) {
		code, _, hdr := get(t, h, "/shop?a=1")
		if code != http.StatusFound || hdr.Get("Location") != "/shop/?a=1" {
			t.Fatalf("got %d %q", code, hdr.Get("Location"))
		}
	})
	got := h.Contexts()
	if len(got) != 3 || got[0].Path != "/" || got[2].Path != "/shop/admin" {
		t.Fatalf("Contexts() = %+v", got)
	}
}

func TestNoRootIs404(t *testing.T) {
	h := newHost(t, func(c *Config) { c.Contexts = []ContextSpec{{Path: "/shop", App: "test-echo"}} })
	if code, _, _ := get(t, h, "/other"); code != 404 {
		t.Fatalf("code %d", code)
	}
}

func TestDeployErrors(t *testing.T) {
	h := newHost(t, nil)
	ctx := context.Background()
	if err := h.Deploy(ctx, ContextSpec{Path: "/a", App: "no-such-app"}); err == nil || !strings.Contains(err.Error(), "unknown app \"no-such-app\"") {
		t.Fatalf("unknown app: %v", err)
	}
	if err := h.Deploy(ctx, ContextSpec{Path: "/a", App: "test-fail"}); err == nil || !strings.Contains(err.Error(), "cannot build") {
		t.Fatalf("failing factory: %v", err)
	}
	if err := h.Deploy(ctx, ContextSpec{Path: "a", App: "test-echo"}); err == nil {
		t.Fatal("bad path accepted")
	}
	if err := h.Deploy(ctx, ContextSpec{Path: "/a", App: "test-echo"}); err != nil {
		t.Fatal(err)
	}
	if err := h.Deploy(ctx, ContextSpec{Path: "/a", App: "test-echo"}); err == nil {
		t.Fatal("duplicate accepted")
	}
	if err := h.Undeploy(ctx, "/a"); err != nil {
		t.Fatal(err)
	}
	if err := h.Undeploy(ctx, "/a"); err == nil {
		t.Fatal("undeploy twice accepted")
	}
	if code, _, _ := get(t, h, "/a/"); code != 404 {
		t.Fatalf("after undeploy: %d", code)
	}
}

// TestRedeployInFlight: a request that started on the old version finishes
// there; requests after Redeploy go to the new version.
func TestRedeployInFlight(t *testing.T) {
	h := newHost(t, func(c *Config) { c.Contexts = []ContextSpec{{Path: "/r", App: "test-echo"}} })
	_, before, _ := get(t, h, "/r/")
	gates["redeploy"] = make(chan struct{})

	srv := httptest.NewServer(h)
	defer srv.Close()
	type result struct {
		body string
		err  error
	}
	done := make(chan result, 1)
	go func() {
		resp, err := http.Get(srv.URL + "/r/slow?gate=redeploy")
		if err != nil {
			done <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		done <- result{string(b), err}
	}()
	// Wait until the request is in flight on the old context.
	old := h.table.Load()
	testkit.WaitFor(t, "condition", func() bool {
		c := (*old)[0]
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.inflight == 1
	})
	redeployed := make(chan error, 1)
	go func() { redeployed <- h.Redeploy(context.Background(), ContextSpec{Path: "/r", App: "test-echo"}) }()
	// New requests reach the new version while the old one still drains.
	testkit.WaitFor(t, "condition", func() bool { return (*h.table.Load())[0] != (*old)[0] })
	_, after, _ := get(t, h, "/r/")
	if version(after) == version(before) {
		t.Fatalf("new request served by the old version: %q", after)
	}
	select {
	case err := <-redeployed:
		t.Fatalf("Redeploy returned before the in-flight request finished: %v", err)
	default:
	}
	close(gates["redeploy"])
	res := <-done
	if res.err != nil || version(res.body) != version(before) {
		t.Fatalf("in-flight request: %q %v, want the old version %q", res.body, res.err, version(before))
	}
	if err := <-redeployed; err != nil {
		t.Fatal(err)
	}
}

func TestStaticContext(t *testing.T) {
	dir := t.TempDir()
	must(t, os.WriteFile(filepath.Join(dir, "index.html"), []byte("home"), 0o644))
	must(t, os.MkdirAll(filepath.Join(dir, "css"), 0o755))
	must(t, os.WriteFile(filepath.Join(dir, "css", "a.css"), []byte("body{}"), 0o644))
	h := newHost(t, func(c *Config) { c.Contexts = []ContextSpec{{Path: "/site", DocBase: dir}} })
	if code, body, _ := get(t, h, "/site/"); code != 200 || body != "home" {
		t.Fatalf("index: %d %q", code, body)
	}
	if code, body, _ := get(t, h, "/site/css/a.css"); code != 200 || body != "body{}" {
		t.Fatalf("file: %d %q", code, body)
	}
	if code, _, _ := get(t, h, "/site/css/"); code != 404 {
		t.Fatalf("listing: %d", code)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func version(body string) string {
	i := strings.Index(body, " v=")
	if i < 0 {
		return ""
	}
	return strings.Fields(body[i+1:])[0]
}

func TestAppWithDocBaseServesItsStaticFiles(t *testing.T) {
	doc := t.TempDir()
	if err := os.WriteFile(filepath.Join(doc, "logo.txt"), []byte("a logo"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(doc, "assets"), 0o755); err != nil {
		t.Fatal(err)
	}
	h := newHost(t, func(c *Config) {
		c.Contexts = []ContextSpec{{Path: "/shop", App: "test-echo", DocBase: doc}}
	})
	if code, body, _ := get(t, h, "/shop/logo.txt"); code != 200 || body != "a logo" {
		t.Fatalf("static file = %d %q", code, body)
	}
	for _, p := range []string{"/shop/", "/shop/assets/", "/shop/cart", "/shop/missing.txt"} {
		if code, body, _ := get(t, h, p); code != 200 || !strings.HasPrefix(body, "ctx=/shop") {
			t.Fatalf("GET %s = %d %q, want the app", p, code, body)
		}
	}
}
