package admin

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

func TestValidateRequiresTokenOffLoopback(t *testing.T) {
	src := &fakeSource{}
	tests := []struct {
		addr, token string
		ok          bool
	}{
		{"127.0.0.1:0", "", true},
		{"[::1]:0", "", true},
		{"localhost:9080", "", true},
		{"0.0.0.0:9080", "", false},
		{":9080", "", false},
		{"198.18.0.1:9080", "", false},
		{"198.18.0.1:9080", "s3cret", true},
		{"nonsense", "", false},
	}
	for _, tt := range tests {
		_, err := New(Config{Addr: tt.addr, Token: tt.token, Source: src})
		if (err == nil) != tt.ok {
			t.Errorf("New(addr %q, token %q) = %v, want ok=%v", tt.addr, tt.token, err, tt.ok)
		}
		if !tt.ok && tt.addr != "nonsense" && !errors.Is(err, ErrNoToken) {
			t.Errorf("New(addr %q): %v, want ErrNoToken", tt.addr, err)
		}
	}
}

func TestProbes(t *testing.T) {
	src := &fakeSource{}
	s := newServer(t, Config{Addr: "127.0.0.1:0", Source: src})
	if rec := get(t, s.Handler(), "GET", "/livez"); rec.Code != 200 || rec.Body.String() != "ok\n" {
		t.Fatalf("/livez = %d %q", rec.Code, rec.Body)
	}
	if rec := get(t, s.Handler(), "GET", "/readyz"); rec.Code != 503 || !strings.Contains(rec.Body.String(), "starting") {
		t.Fatalf("/readyz while starting = %d %q", rec.Code, rec.Body)
	}
	src.ready.Store(true)
	if rec := get(t, s.Handler(), "GET", "/readyz"); rec.Code != 200 {
		t.Fatalf("/readyz when ready = %d %q", rec.Code, rec.Body)
	}
}

func TestTokenAuth(t *testing.T) {
	m, ss := newLocal(t, 1)
	src := &fakeSource{ctxs: []Context{{Host: "localhost", Path: "/", Manager: m}}}
	s := newServer(t, Config{Addr: "198.18.0.1:9080", Token: "s3cret", Source: src, Gatherer: prometheus.NewRegistry()})
	h := s.Handler()
	expire := "/manager/text/expire?path=/&id=" + ss[0].ID()
	for _, p := range []string{"/metrics", "/", "/status", "/manager/text/list", expire} {
		if rec := get(t, h, "GET", p); rec.Code != http.StatusUnauthorized {
			t.Errorf("%s without token = %d, want 401", p, rec.Code)
		}
		if rec := get(t, h, "GET", p, "Authorization", "Bearer wrong"); rec.Code != http.StatusUnauthorized {
			t.Errorf("%s with a wrong token = %d, want 401", p, rec.Code)
		}
	}
	if m.Count() != 1 {
		t.Fatal("an unauthenticated expire removed the session")
	}
	for _, p := range []string{"/livez", "/readyz"} {
		if rec := get(t, h, "GET", p); rec.Code == http.StatusUnauthorized {
			t.Errorf("%s needs a token; probes must not", p)
		}
	}
	if rec := get(t, h, "GET", "/metrics", "Authorization", "Bearer s3cret"); rec.Code != 200 {
		t.Errorf("/metrics with bearer = %d", rec.Code)
	}
	req := get(t, h, "GET", "/manager/text/list", "Authorization", "Basic "+basic("admin", "s3cret"))
	if req.Code != 200 {
		t.Errorf("list with Basic password = %d", req.Code)
	}
}

func basic(user, pw string) string {
	r, _ := http.NewRequest("GET", "/", nil)
	r.SetBasicAuth(user, pw)
	return strings.TrimPrefix(r.Header.Get("Authorization"), "Basic ")
}

func TestManagerText(t *testing.T) {
	m, ss := newLocal(t, 2)
	src := &fakeSource{ctxs: []Context{{Host: "localhost", Path: "/", Manager: m}, {Host: "localhost", Path: "/shop"}}}
	s := newServer(t, Config{Addr: "127.0.0.1:0", Source: src})
	h := s.Handler()

	rec := get(t, h, "GET", "/manager/text/list")
	want := "OK - Listed applications\n/:running:2:ROOT:localhost\n/shop:stopped:0:shop:localhost\n"
	if rec.Code != 200 || rec.Body.String() != want {
		t.Fatalf("list = %d\n%s\nwant\n%s", rec.Code, rec.Body, want)
	}
	rec = get(t, h, "GET", "/manager/text/sessions?path=/")
	body := rec.Body.String()
	if rec.Code != 200 || !strings.HasPrefix(body, "OK - Session information for application at context path [/]: 2 sessions\nID\tAGE\tIDLE\tSIZE\tROLE\n") {
		t.Fatalf("sessions = %d\n%s", rec.Code, body)
	}
	for _, x := range ss {
		if !strings.Contains(body, x.ID()+"\t") || !strings.Contains(body, "\tprimary") {
			t.Errorf("sessions does not list %s as primary:\n%s", x.ID(), body)
		}
	}
	if strings.Contains(body, "secret-value") {
		t.Fatal("sessions shows an attribute value")
	}
	for _, bad := range []struct{ target, want string }{
		{"/manager/text/sessions", "FAIL - the path parameter is required"},
		{"/manager/text/sessions?path=/nope", "FAIL - admin: no such context"},
		{"/manager/text/sessions?path=/shop", "is not running"},
		{"/manager/text/expire?path=/", "FAIL - the id parameter is required"},
		{"/manager/text/expire?path=/&id=NOPE.node1", "FAIL - admin: no such session"},
	} {
		rec := get(t, h, "GET", bad.target)
		if rec.Code < 400 || !strings.Contains(rec.Body.String(), bad.want) {
			t.Errorf("%s = %d %q, want an error with %q", bad.target, rec.Code, rec.Body, bad.want)
		}
	}
	rec = get(t, h, "POST", "/manager/text/expire?path=/&id="+ss[0].ID())
	if rec.Code != 200 || !strings.HasPrefix(rec.Body.String(), "OK - Expired session ["+ss[0].ID()+"]") {
		t.Fatalf("expire = %d %q", rec.Code, rec.Body)
	}
	if m.Count() != 1 || m.Find(ss[0].ID()) != nil || ss[0].Valid() {
		t.Fatalf("after expire: %d sessions, first still valid: %v", m.Count(), ss[0].Valid())
	}
}

func TestManagerJSON(t *testing.T) {
	m, ss := newLocal(t, 1)
	now := time.Now().Add(90 * time.Second)
	src := &fakeSource{ctxs: []Context{{Host: "localhost", Path: "/", Distributable: true, Manager: m}}}
	s := newServer(t, Config{Addr: "127.0.0.1:0", Source: src, Now: func() time.Time { return now }})
	h := s.Handler()
	var list []ContextInfo
	decode(t, get(t, h, "GET", "/manager/json/list").Body.Bytes(), &list)
	if len(list) != 1 || list[0].Path != "/" || list[0].Name != "ROOT" || list[0].Sessions != 1 || !list[0].Distributable {
		t.Fatalf("list = %+v", list)
	}
	var infos []SessionInfo
	decode(t, get(t, h, "GET", "/manager/json/sessions?path=/").Body.Bytes(), &infos)
	if len(infos) != 1 || infos[0].ID != ss[0].ID() || infos[0].Role != "primary" || infos[0].Size == 0 ||
		infos[0].Age < 89*time.Second || infos[0].Idle < 89*time.Second {
		t.Fatalf("sessions = %+v", infos)
	}
	rec := get(t, h, "GET", "/manager/json/expire?path=/&id=nope")
	if rec.Code != 404 || !strings.Contains(rec.Body.String(), `"error"`) {
		t.Fatalf("expire unknown = %d %s", rec.Code, rec.Body)
	}
	if rec := get(t, h, "GET", "/manager/json/expire?path=/&id="+ss[0].ID()); rec.Code != 200 || m.Count() != 0 {
		t.Fatalf("expire = %d %s, %d left", rec.Code, rec.Body, m.Count())
	}
}

func decode(t *testing.T, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%v in %s", err, b)
	}
}

func TestStatusPage(t *testing.T) {
	clock := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	src := &fakeSource{st: Status{
		Node: "node1", Started: clock.Add(-time.Hour), Ready: true,
		Members: []Member{{Name: "node1", State: "self", Age: time.Hour}, {Name: "node2", State: "live", Age: 5 * time.Minute},
			{Name: "<b>node3</b>", State: "suspect"}},
		Contexts: []ContextStatus{{Host: "localhost", Path: "/", Distributable: true, Sessions: 7, Sent: 100, Received: 50}},
		Transfer: &Transfer{Context: "/", Sessions: 7, Duration: 42 * time.Millisecond, Completed: 1},
		Farm:     []Bundle{{Name: "shop.gar", Size: 1234, Members: []BundleMember{{Name: "node2", State: "started"}}}},
	}}
	s := newServer(t, Config{Addr: "127.0.0.1:0", Source: src, Refresh: 5 * time.Second, Now: func() time.Time { return clock }})
	rec := get(t, s.Handler(), "GET", "/")
	body := rec.Body.String()
	if rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") {
		t.Fatalf("/ = %d %s", rec.Code, rec.Header())
	}
	for _, want := range []string{`id="members-live">2<`, `id="sessions-total">7<`, `data-name="node2" data-state="live"`,
		"5m00s", "7 sessions in 42 ms", "shop.gar", "node2: started", `content="5"`, "&lt;b&gt;node3&lt;/b&gt;"} {
		if !strings.Contains(body, want) {
			t.Errorf("status page lacks %q", want)
		}
	}
	if strings.Contains(body, "<b>node3</b>") || strings.Contains(body, "http://") && strings.Contains(body, "<script") {
		t.Error("status page does not escape, or loads assets")
	}
	// Rates: a second sample 10 s later with 100 more messages sent.
	clock = clock.Add(10 * time.Second)
	src.st.Contexts[0].Sent += 100
	var st Status
	decode(t, get(t, s.Handler(), "GET", "/status?format=json").Body.Bytes(), &st)
	if st.Node != "node1" || len(st.Members) != 3 || st.Rates.Sent != 10 || st.Rates.Window != 10 {
		t.Fatalf("JSON status = %+v", st)
	}
	if rec := get(t, s.Handler(), "GET", "/status", "Accept", "application/json"); !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
		t.Fatalf("Accept: application/json got %s", rec.Header().Get("Content-Type"))
	}
}

func TestHumanAge(t *testing.T) {
	for d, want := range map[time.Duration]string{
		-time.Second: "0s", 42 * time.Second: "42s", 5*time.Minute + 7*time.Second: "5m07s",
		3*time.Hour + 12*time.Minute: "3h12m", 52 * time.Hour: "2d04h",
	} {
		if got := humanAge(d); got != want {
			t.Errorf("humanAge(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestRateTracker(t *testing.T) {
	var r rateTracker
	t0 := time.Unix(1000, 0)
	if got := r.update(t0, 10, 0); got.Window != 0 {
		t.Fatalf("first sample = %+v", got)
	}
	if got := r.update(t0.Add(500*time.Millisecond), 100, 0); got.Window != 0 {
		t.Fatalf("sample within a second = %+v", got)
	}
	got := r.update(t0.Add(2*time.Second), 30, 8)
	if got.Sent != 10 || got.Received != 4 || got.Window != 2 {
		t.Fatalf("rates = %+v", got)
	}
	// A counter going back (a context redeployed) gives 0, not a wrap.
	if got := r.update(t0.Add(4*time.Second), 5, 8); got.Sent != 0 {
		t.Fatalf("after reset = %+v", got)
	}
}
