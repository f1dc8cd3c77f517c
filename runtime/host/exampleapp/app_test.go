package exampleapp

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gomcat/gomcat/runtime/host"
)

func start(t *testing.T, maxSessions int) (*httptest.Server, *http.Client) {
	t.Helper()
	cfg := host.DefaultConfig()
	cfg.WorkDir = t.TempDir()
	cfg.JvmRoute = "node1"
	cfg.AutoDeploy = false
	cfg.Contexts = []host.ContextSpec{{Path: "/", App: Name, Distributable: true, MaxActiveSessions: maxSessions}}
	h, err := host.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.Stop(context.Background()) })
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	jar, _ := cookiejar.New(nil)
	return srv, &http.Client{Jar: jar}
}

func call(t *testing.T, c *http.Client, url string) (int, string) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(b))
}

func TestExampleApp(t *testing.T) {
	srv, c := start(t, 0)
	u := srv.URL
	if code, body := call(t, c, u+"/get?k=a"); code != 404 || body != "missing" {
		t.Fatalf("get before set: %d %q", code, body)
	}
	code, body := call(t, c, u+"/set?k=a&v=<b>1</b>")
	if code != 200 || !strings.HasPrefix(body, "ok ") || !strings.HasSuffix(body, ".node1") {
		t.Fatalf("set: %d %q", code, body)
	}
	id := strings.TrimPrefix(body, "ok ")
	if code, body := call(t, c, u+"/get?k=a"); code != 200 || body != "<b>1</b>" {
		t.Fatalf("get: %d %q", code, body)
	}
	if _, body := call(t, c, u+"/count"); body != "1" {
		t.Fatalf("count %q", body)
	}
	if code, body := call(t, c, u+"/"); code != 200 || !strings.Contains(body, id) || !strings.Contains(body, "&lt;b&gt;1&lt;/b&gt;") || strings.Contains(body, "<b>1</b>") {
		t.Fatalf("index not escaped or missing id: %d %q", code, body)
	}
	call(t, c, u+"/cart/add?item=apple")
	code, body = call(t, c, u+"/cart/add?item=pear")
	var cart Cart
	if err := json.Unmarshal([]byte(body), &cart); err != nil || code != 200 || strings.Join(cart.Items, ",") != "apple,pear" || cart.Updated.IsZero() {
		t.Fatalf("cart/add: %d %q %v", code, body, err)
	}
	if _, body := call(t, c, u+"/cart"); !strings.Contains(body, `"pear"`) {
		t.Fatalf("cart %q", body)
	}
	code, newID := call(t, c, u+"/renew")
	if code != 200 || newID == id || !strings.HasSuffix(newID, ".node1") {
		t.Fatalf("renew: %d %q", code, newID)
	}
	if _, body := call(t, c, u+"/get?k=a"); body != "<b>1</b>" {
		t.Fatalf("after renew: %q", body)
	}
	if _, body := call(t, c, u+"/node"); body != "node1" {
		t.Fatalf("node %q", body)
	}
	if _, body := call(t, c, u+"/slow?ms=1"); body != "slept 1 ms" {
		t.Fatalf("slow %q", body)
	}
	if code, body := call(t, c, u+"/invalidate"); code != 200 || body != "ok" {
		t.Fatalf("invalidate %d %q", code, body)
	}
	if code, _ := call(t, c, u+"/get?k=a"); code != 404 {
		t.Fatalf("after invalidate: %d", code)
	}
	if _, body := call(t, c, u+"/count"); body != "0" {
		t.Fatalf("count after invalidate %q", body)
	}
}

func TestExampleAppTooManySessions(t *testing.T) {
	srv, c := start(t, 1)
	if code, _ := call(t, c, srv.URL+"/set?k=a&v=1"); code != 200 {
		t.Fatalf("first session: %d", code)
	}
	other := &http.Client{}
	if code, body := call(t, other, srv.URL+"/set?k=a&v=1"); code != http.StatusServiceUnavailable {
		t.Fatalf("second session: %d %q", code, body)
	}
}
