package kubernetes

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gomcat/gomcat/discovery"
)

// api is a local HTTPS server answering like the Kubernetes API.
type api struct {
	srv *httptest.Server

	mu     sync.Mutex
	token  string // the bearer token it accepts
	status int    // answer's status
	body   []byte // answer's body
	hits   int
	query  url.Values
	path   string
}

func newAPI(t *testing.T) *api {
	t.Helper()
	a := &api{token: "tok-1", status: http.StatusOK, body: readFile(t, "testdata/podlist.json")}
	a.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.mu.Lock()
		defer a.mu.Unlock()
		a.hits++
		a.path, a.query = r.URL.Path, r.URL.Query()
		w.Header().Set("Content-Type", "application/json")
		if r.Header.Get("Authorization") != "Bearer "+a.token {
			w.WriteHeader(http.StatusUnauthorized)
			w.Write([]byte(`{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401}`))
			return
		}
		w.WriteHeader(a.status)
		w.Write(a.body)
	}))
	t.Cleanup(a.srv.Close)
	return a
}

func (a *api) set(status int, body []byte) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.status, a.body = status, body
}

func readFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func writeFile(t *testing.T, name, s string) {
	t.Helper()
	if err := os.WriteFile(name, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
}

// config points at a with the service account files in a temp dir.
func (a *api) config(t *testing.T) Config {
	t.Helper()
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.crt")
	writeFile(t, ca, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: a.srv.Certificate().Raw})))
	tok := filepath.Join(dir, "token")
	writeFile(t, tok, a.token+"\n")
	u, _ := url.Parse(a.srv.URL)
	port, _ := strconv.Atoi(u.Port())
	c := DefaultConfig()
	c.Host, c.APIPort = u.Hostname(), port
	c.Namespace, c.Labels = "shop", "app=gomcat,tier in (web)"
	c.TokenFile, c.CAFile = tok, ca
	c.ConnectTimeout, c.ReadTimeout = 5*time.Second, 5*time.Second
	return c
}

func newProvider(t *testing.T, c Config) *Provider {
	t.Helper()
	p, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

func strs(ts []discovery.Target) []string {
	var s []string
	for _, t := range ts {
		s = append(s, t.String())
	}
	slices.Sort(s)
	return s
}

func TestTargets(t *testing.T) {
	a := newAPI(t)
	c := a.config(t)
	c.Port = 4000
	p := newProvider(t, c)
	ts, err := p.Targets(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// gomcat-0 dual stack, gomcat-1 Running but not ready (still a target:
	// readiness follows joining), gomcat-2 IPv6 only; Pending, Succeeded and
	// a Running pod without an IP are not targets.
	want := []string{"198.18.1.7:4000", "198.18.2.9:4000", "[fd00:10:244:1::7]:4000", "[fd00:10:244:3::c]:4000"}
	if got := strs(ts); !slices.Equal(got, want) {
		t.Errorf("targets %v, want %v", got, want)
	}
	if a.path != "/api/v1/namespaces/shop/pods" || a.query.Get("labelSelector") != "app=gomcat,tier in (web)" {
		t.Errorf("asked %s ? %v", a.path, a.query)
	}
	if s := p.Stats(); s.Requests != 1 || s.Failures != 0 || s.Skipped != 3 {
		t.Errorf("stats %+v", s)
	}
	if p.String() != "kubernetes:shop/app=gomcat,tier in (web)" {
		t.Errorf("String %q", p)
	}
}

func TestNoLabels(t *testing.T) {
	a := newAPI(t)
	c := a.config(t)
	c.Labels = ""
	if _, err := newProvider(t, c).Targets(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, ok := a.query["labelSelector"]; ok {
		t.Errorf("labelSelector sent without labels: %v", a.query)
	}
}

func TestTokenRotation(t *testing.T) {
	a := newAPI(t)
	c := a.config(t)
	p := newProvider(t, c)
	if _, err := p.Targets(context.Background()); err != nil {
		t.Fatal(err)
	}
	// The API now accepts only the new token; the kubelet replaces the file.
	a.mu.Lock()
	a.token = "tok-2"
	a.mu.Unlock()
	next := c.TokenFile + ".new"
	writeFile(t, next, "tok-2\n")
	if err := os.Rename(next, c.TokenFile); err != nil {
		t.Fatal(err)
	}
	ts, err := p.Targets(context.Background())
	if err != nil || len(ts) != 4 {
		t.Fatalf("after rotation: %v, %v", ts, err)
	}
}

func TestWrongTokenRefused(t *testing.T) {
	a := newAPI(t)
	c := a.config(t)
	writeFile(t, c.TokenFile, "stale")
	_, err := newProvider(t, c).Targets(context.Background())
	if err == nil || !strings.Contains(err.Error(), "rejected listing pods in namespace shop (401 Unauthorized: Unauthorized)") {
		t.Fatalf("err %v", err)
	}
}

func TestErrorsAndBackoff(t *testing.T) {
	a := newAPI(t)
	c := a.config(t)
	c.RetryMin, c.RetryMax = time.Second, 3*time.Second
	p := newProvider(t, c)
	now := time.Unix(1e9, 0)
	p.now = func() time.Time { return now }
	ctx := context.Background()

	a.set(http.StatusForbidden, readFile(t, "testdata/forbidden.json"))
	_, err := p.Targets(ctx)
	if !errors.Is(err, ErrForbidden) || !strings.Contains(err.Error(), "service account lacks list pods in namespace shop (403 Forbidden: pods is forbidden: User \"system:serviceaccount:shop:default\" cannot list") {
		t.Fatalf("403: %v", err)
	}
	// Backing off: no request until RetryMin has passed.
	a.set(http.StatusInternalServerError, readFile(t, "testdata/internal.json"))
	_, err = p.Targets(ctx)
	if !errors.Is(err, ErrBackoff) || !errors.Is(err, ErrForbidden) || a.hits != 1 {
		t.Fatalf("in back-off: %v (hits %d)", err, a.hits)
	}
	now = now.Add(time.Second)
	_, err = p.Targets(ctx)
	if err == nil || !strings.Contains(err.Error(), "list pods in namespace shop: GET https://") || !strings.Contains(err.Error(), "500 Internal Server Error: etcdserver: request timed out") {
		t.Fatalf("500: %v", err)
	}
	// The back-off doubled (2 s), then is capped at RetryMax (3 s).
	now = now.Add(1999 * time.Millisecond)
	if _, err = p.Targets(ctx); !errors.Is(err, ErrBackoff) || a.hits != 2 {
		t.Fatalf("doubled back-off: %v (hits %d)", err, a.hits)
	}
	now = now.Add(time.Millisecond)
	p.Targets(ctx)
	now = now.Add(3 * time.Second)
	a.set(http.StatusOK, readFile(t, "testdata/podlist.json"))
	if ts, err := p.Targets(ctx); err != nil || len(ts) != 4 || a.hits != 4 {
		t.Fatalf("recovered: %v, %v (hits %d)", ts, err, a.hits)
	}
	// Success resets the back-off.
	a.set(http.StatusInternalServerError, nil)
	p.Targets(ctx)
	now = now.Add(time.Second)
	a.set(http.StatusOK, readFile(t, "testdata/podlist.json"))
	if _, err := p.Targets(ctx); err != nil {
		t.Fatalf("after reset: %v", err)
	}
	if s := p.Stats(); s.Requests != 6 || s.Failures != 4 {
		t.Errorf("stats %+v", s)
	}
}

func TestOversized(t *testing.T) {
	a := newAPI(t)
	c := a.config(t)
	c.MaxBody = 4096
	p := newProvider(t, c)
	_, err := p.Targets(context.Background())
	if !errors.Is(err, ErrTooLarge) || p.Stats().Refused != 1 {
		t.Fatalf("err %v, stats %+v", err, p.Stats())
	}
}

func TestUntrustedServer(t *testing.T) {
	a := newAPI(t)
	c := a.config(t)
	// httptest's servers share one certificate: make another CA.
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "other CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, c.CAFile, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})))
	_, err = newProvider(t, c).Targets(context.Background())
	if err == nil || !strings.Contains(err.Error(), "certificate") || a.hits != 0 {
		t.Fatalf("err %v, hits %d", err, a.hits)
	}
}

func TestBadPodList(t *testing.T) {
	a := newAPI(t)
	a.set(http.StatusOK, []byte(`{"kind":"Status","status":"Success"}`))
	if _, err := newProvider(t, a.config(t)).Targets(context.Background()); err == nil || !strings.Contains(err.Error(), `kind "Status", want PodList`) {
		t.Fatalf("err %v", err)
	}
}

func TestConfig(t *testing.T) {
	if err := DefaultConfig().Validate(); err == nil || !strings.Contains(err.Error(), "KUBERNETES_SERVICE_HOST") {
		t.Errorf("default without host: %v", err)
	}
	c := DefaultConfig()
	c.Host, c.Namespace, c.CAFile = "198.18.96.1", "shop", "/nonexistent/ca.crt"
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if _, err := New(c); err == nil || !strings.Contains(err.Error(), "kubernetes: CA file") {
		t.Errorf("New without CA: %v", err)
	}
	c.Protocol, c.Namespace, c.RetryMax = "ftp", "a/b", 0
	err := c.Validate()
	for _, want := range []string{"protocol", "namespace", "retry"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate: %v lacks %s", err, want)
		}
	}
}

func TestFromEnv(t *testing.T) {
	env := map[string]string{
		"KUBERNETES_NAMESPACE":             "shop",
		"OPENSHIFT_KUBE_PING_NAMESPACE":    "openshift-shop",
		"KUBERNETES_LABELS":                "app=gomcat",
		"KUBERNETES_SERVICE_HOST":          "fd00::1",
		"KUBERNETES_SERVICE_PORT":          "6443",
		"KUBERNETES_SA_TOKEN_FILE":         "/tok",
		"OPENSHIFT_KUBE_PING_CA_CERT_FILE": "/ca",
	}
	c, err := FromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if c.Namespace != "openshift-shop" || c.Labels != "app=gomcat" || c.Host != "fd00::1" || c.APIPort != 6443 ||
		c.TokenFile != "/tok" || c.CAFile != "/ca" || c.Protocol != "https" || c.APIVersion != "v1" {
		t.Errorf("FromEnv: %+v", c)
	}
	env["KUBERNETES_SERVICE_PORT"] = "https"
	if _, err := FromEnv(func(k string) string { return env[k] }); err == nil {
		t.Error("bad port accepted")
	}
	if _, err := os.Stat(DefaultNamespaceFile); err != nil {
		c, _ = FromEnv(func(string) string { return "" })
		if c.Namespace != DefaultNamespace || c.TokenFile != DefaultTokenFile {
			t.Errorf("empty env: %+v", c)
		}
	}
}
