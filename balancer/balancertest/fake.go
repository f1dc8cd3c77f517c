package balancertest

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"sync"
)

// Store is the session store that fake nodes share, standing in for
// session replication: a session created on one node is known on all.
type Store struct {
	mu sync.Mutex
	m  map[string]int // session base id → request count
}

// NewStore returns an empty Store.
func NewStore() *Store { return &Store{m: map[string]int{}} }

// Count returns how many requests session base id made (0 if unknown).
func (s *Store) Count(id string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.m[id]
}

// Node returns the handler of a fake Gomcat node called name:
//   - GET /healthz answers 200 "ok".
//   - Any other path is the app: it reads the JSESSIONID cookie or the
//     ";jsessionid=" path parameter. A known session id counts one more
//     request; if the id's route is not name, the id is rebound to
//     "<base>.<name>" with a new cookie (JvmRouteBinderValve). An unknown or
//     missing id gets a new session "<32 hex>.<name>".
//   - The body is "node=<name> session=<base> count=<n>\n"; header X-Node: name.
func Node(name string, store *Store) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" {
			_, _ = w.Write([]byte("ok\n"))
			return
		}
		id := requestedID(r)
		base, route, _ := strings.Cut(id, ".")
		store.mu.Lock()
		n, known := store.m[base]
		if !known || base == "" {
			base = newID()
			n = 0
			route = ""
		}
		n++
		store.m[base] = n
		store.mu.Unlock()
		if route != name {
			http.SetCookie(w, &http.Cookie{Name: "JSESSIONID", Value: base + "." + name, Path: "/", HttpOnly: true})
		}
		w.Header().Set("X-Node", name)
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		fmt.Fprintf(w, "node=%s session=%s count=%d\n", name, base, n)
	})
}

func requestedID(r *http.Request) string {
	if c, err := r.Cookie("JSESSIONID"); err == nil && c.Value != "" {
		return c.Value
	}
	p := r.URL.EscapedPath()
	if i := strings.Index(p, ";jsessionid="); i >= 0 {
		v := p[i+len(";jsessionid="):]
		if j := strings.IndexAny(v, ";/"); j >= 0 {
			v = v[:j]
		}
		return v
	}
	return ""
}

func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return strings.ToUpper(hex.EncodeToString(b[:]))
}

// Parse splits a fake node's body into node name, session base id and count.
func Parse(body string) (node, session string, count int, err error) {
	_, err = fmt.Sscanf(strings.TrimSpace(body), "node=%s session=%s count=%d", &node, &session, &count)
	return node, session, count, err
}
