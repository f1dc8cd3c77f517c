package node

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/gomcat/gomcat/conf"
)

// newAdminNode is newNode with an admin <Listener> on a free loopback port.
func newAdminNode(t *testing.T, listener string) *Node {
	t.Helper()
	xml := strings.Replace(fmt.Sprintf(serverXML, 0), `<Service name="Catalina">`, listener+`<Service name="Catalina">`, 1)
	s, _, err := conf.Parse("server.xml", []byte(xml))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	s.Home = t.TempDir()
	if err := os.MkdirAll(filepath.Join(s.Home, "conf"), 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.Server, cfg.Logger, cfg.ShutdownReadTimeout = s, zerolog.New(zerolog.NewTestWriter(t)), time.Second
	n, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.Stop(context.Background()) })
	return n
}

func fetch(t *testing.T, url, token string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestAdminListener(t *testing.T) {
	n := newAdminNode(t, `<Listener className="org.gomcat.AdminListener" port="0"/>`)
	if n.Ready() == nil {
		t.Fatal("ready before Start")
	}
	if err := n.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	base := n.AdminURL()
	if !strings.HasPrefix(base, "http://127.0.0.1:") {
		t.Fatalf("AdminURL = %q", base)
	}
	if code, body := fetch(t, base+"/readyz", ""); code != 200 {
		t.Fatalf("/readyz after Start = %d %q", code, body)
	}
	app := n.URLs()[0]
	for range 3 {
		fetch(t, app+"/set?k=a&v=b", "")
	}
	_, metrics := fetch(t, base+"/metrics", "")
	for _, want := range []string{
		`gomcat_http_requests_total{code="200",context="/"} 3`,
		`gomcat_sessions_active{context="/",host="localhost"} 3`, // no cookie jar: three sessions,
		`gomcat_node_ready 1`,
	} {
		if !strings.Contains(metrics, want+"\n") {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if code, page := fetch(t, base+"/", ""); code != 200 || !strings.Contains(page, `id="node">node1<`) || !strings.Contains(page, `id="sessions-total">3<`) {
		t.Errorf("status page %d:\n%s", code, page)
	}
	if code, list := fetch(t, base+"/manager/text/sessions?path=/", ""); code != 200 || !strings.Contains(list, ".node1\t") {
		t.Errorf("sessions %d:\n%s", code, list)
	}
	ri, err := ReadRunInfo(n.cfg.Home)
	if err != nil || ri.Admin != base {
		t.Errorf("run info admin = %q (%v), want %q", ri.Admin, err, base)
	}
	if err := n.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := n.Ready(); err == nil || !strings.Contains(err.Error(), "draining") {
		t.Errorf("Ready after Stop = %v", err)
	}
}

func TestAdminListenerToken(t *testing.T) {
	n := newAdminNode(t, `<Listener className="AdminListener" port="0" tokenFile="conf/admin.token"/>`)
	if err := os.WriteFile(filepath.Join(n.cfg.Home, "conf", "admin.token"), []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := n.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	base := n.AdminURL()
	if code, _ := fetch(t, base+"/manager/text/list", ""); code != 401 {
		t.Errorf("list without token = %d", code)
	}
	if code, _ := fetch(t, base+"/manager/text/list", "s3cret"); code != 200 {
		t.Errorf("list with token = %d", code)
	}
	if code, _ := fetch(t, base+"/livez", ""); code != 200 {
		t.Errorf("/livez = %d", code)
	}
}

func TestAdminListenerMissingToken(t *testing.T) {
	n := newAdminNode(t, `<Listener className="AdminListener" port="0" tokenFile="conf/none.token"/>`)
	err := n.Start(context.Background())
	if err == nil || !strings.Contains(err.Error(), "tokenFile") {
		t.Fatalf("Start with a missing token file = %v", err)
	}
}
