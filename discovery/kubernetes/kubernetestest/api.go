// Package kubernetestest is a local stand-in for the Kubernetes API's pod
// list, for tests of the kubernetes provider and of nodes using it: a real
// HTTPS server (its own CA, a certificate for the address it listens on)
// that checks the bearer token and answers GET
// /api/v1/namespaces/NS/pods?labelSelector=… with a v1 PodList of the pods
// it was given, filtered by equality-based selectors as the API server does.
// Dir holds the service account files (token, ca.crt, namespace) and Env
// the variables that point a node at it.
package kubernetestest

import (
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gomcat/gomcat/internal/testkit"
)

// Pod is one pod of the list.
type Pod struct {
	Name   string
	Phase  string   // "Running", "Pending", …
	IPs    []string // status.podIP is the first, status.podIPs all; none: no IP yet
	Labels map[string]string
}

// API is the fake API server. Its methods are safe for concurrent use.
type API struct {
	// Dir holds token, ca.crt and namespace (the service account mount).
	Dir       string
	Namespace string
	srv       *http.Server
	addr      string

	mu     sync.Mutex
	pods   []Pod
	status int    // forced answer status; 0: the pod list
	body   []byte // forced answer body
	hits   int
	query  url.Values
}

// New starts an API for namespace ns on l (closed by t.Cleanup), with a
// certificate for l's IP and token "token-1" written to Dir.
func New(t testing.TB, l net.Listener, ns string) *API {
	t.Helper()
	host, _, err := net.SplitHostPort(l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	c := testkit.NewCerts(t, net.ParseIP(host), "kubernetes.default.svc")
	caPEM, cert := c.CAPEM, c.Server
	a := &API{Dir: t.TempDir(), Namespace: ns, addr: l.Addr().String()}
	write := func(name, s string) {
		if err := os.WriteFile(filepath.Join(a.Dir, name), []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("ca.crt", string(caPEM))
	write("namespace", ns)
	write("token", "token-1\n")
	a.srv = &http.Server{Handler: a, TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}}, ReadHeaderTimeout: 5 * time.Second}
	tl := tls.NewListener(l, a.srv.TLSConfig)
	go a.srv.Serve(tl)
	t.Cleanup(func() { a.srv.Close() })
	return a
}

// Env is what a pod's environment would say: the API's host and port, the
// namespace, labels, and the service account files in Dir.
func (a *API) Env(labels string) map[string]string {
	host, port, _ := net.SplitHostPort(a.addr)
	return map[string]string{
		"KUBERNETES_SERVICE_HOST":  host,
		"KUBERNETES_SERVICE_PORT":  port,
		"KUBERNETES_NAMESPACE":     a.Namespace,
		"KUBERNETES_LABELS":        labels,
		"KUBERNETES_SA_TOKEN_FILE": filepath.Join(a.Dir, "token"),
		"KUBERNETES_CA_CERT_FILE":  filepath.Join(a.Dir, "ca.crt"),
	}
}

// SetPods replaces the namespace's pods.
func (a *API) SetPods(pods ...Pod) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.pods = pods
}

// Answer forces every answer to status and body (a Status object, say);
// status 0 goes back to the pod list.
func (a *API) Answer(status int, body []byte) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.status, a.body = status, body
}

// RotateToken makes tok the only token accepted and writes it to Dir/token
// as the kubelet does (a new file renamed over the old).
func (a *API) RotateToken(tok string) error {
	p := filepath.Join(a.Dir, "token")
	if err := os.WriteFile(p+".new", []byte(tok+"\n"), 0o600); err != nil {
		return err
	}
	return os.Rename(p+".new", p)
}

// Hits is the number of requests served, and the last one's query.
func (a *API) Hits() (int, url.Values) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.hits, a.query
}

func (a *API) token() string {
	b, _ := os.ReadFile(filepath.Join(a.Dir, "token"))
	return strings.TrimSpace(string(b))
}

// ServeHTTP answers like the API server.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.hits++
	a.query = r.URL.Query()
	w.Header().Set("Content-Type", "application/json")
	if r.Header.Get("Authorization") != "Bearer "+a.token() {
		status(w, http.StatusUnauthorized, "Unauthorized", "Unauthorized")
		return
	}
	if a.status != 0 {
		w.WriteHeader(a.status)
		w.Write(a.body)
		return
	}
	if r.Method != http.MethodGet || r.URL.Path != "/api/v1/namespaces/"+a.Namespace+"/pods" {
		status(w, http.StatusNotFound, "NotFound", "the server could not find the requested resource")
		return
	}
	sel, err := parseSelector(a.query.Get("labelSelector"))
	if err != nil {
		status(w, http.StatusBadRequest, "BadRequest", err.Error())
		return
	}
	json.NewEncoder(w).Encode(a.podList(sel))
}

func status(w http.ResponseWriter, code int, reason, msg string) {
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(map[string]any{"kind": "Status", "apiVersion": "v1", "metadata": map[string]any{},
		"status": "Failure", "message": msg, "reason": reason, "code": code})
}

// podList renders the matching pods in the API's shape.
func (a *API) podList(sel []requirement) map[string]any {
	items := []any{}
	for i, p := range a.pods {
		if !matches(sel, p.Labels) {
			continue
		}
		st := map[string]any{"phase": p.Phase, "hostIP": "198.18.0.203", "qosClass": "BestEffort"}
		if len(p.IPs) > 0 {
			st["podIP"] = p.IPs[0]
			var ips []any
			for _, ip := range p.IPs {
				ips = append(ips, map[string]any{"ip": ip})
			}
			st["podIPs"] = ips
			st["startTime"] = "2026-12-04T09:14:07Z"
		}
		items = append(items, map[string]any{
			"metadata": map[string]any{"name": p.Name, "namespace": a.Namespace, "labels": p.Labels,
				"uid":               fmt.Sprintf("7f3a1c2e-0b4d-4e8f-9a61-%012d", i),
				"resourceVersion":   strconv.Itoa(48000 + i),
				"creationTimestamp": "2026-12-04T09:14:05Z"},
			"spec":   map[string]any{"containers": []any{map[string]any{"name": "gomcat", "image": "gomcat:latest"}}, "serviceAccountName": "gomcat"},
			"status": st,
		})
	}
	return map[string]any{"kind": "PodList", "apiVersion": "v1", "metadata": map[string]any{"resourceVersion": "48290"}, "items": items}
}

// requirement is one term of an equality-based selector.
type requirement struct {
	key, value string
	equal      bool
}

func parseSelector(s string) ([]requirement, error) {
	var rs []requirement
	if s == "" {
		return nil, nil
	}
	for _, term := range strings.Split(s, ",") {
		r := requirement{equal: true}
		var ok bool
		switch {
		case strings.Contains(term, "!="):
			r.key, r.value, ok = strings.Cut(term, "!=")
			r.equal = false
		case strings.Contains(term, "=="):
			r.key, r.value, ok = strings.Cut(term, "==")
		default:
			r.key, r.value, ok = strings.Cut(term, "=")
		}
		r.key, r.value = strings.TrimSpace(r.key), strings.TrimSpace(r.value)
		if !ok || r.key == "" {
			return nil, fmt.Errorf("unable to parse requirement: %q: only equality-based selectors here", term)
		}
		rs = append(rs, r)
	}
	return rs, nil
}

func matches(rs []requirement, labels map[string]string) bool {
	for _, r := range rs {
		if (labels[r.key] == r.value) != r.equal {
			return false
		}
	}
	return true
}
