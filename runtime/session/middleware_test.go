package session

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// countingManager counts RequestCompleted calls.
type countingManager struct {
	*LocalManager
	completed atomic.Int32
}

func (m *countingManager) RequestCompleted(ctx context.Context, s *Session) error {
	m.completed.Add(1)
	if ctx.Err() != nil {
		return errors.New("canceled context")
	}
	return m.LocalManager.RequestCompleted(ctx, s)
}

func newMW(t *testing.T, h http.HandlerFunc) (*countingManager, http.Handler) {
	t.Helper()
	lm, _, _ := newLocal(t, nil)
	m := &countingManager{LocalManager: lm}
	return m, Middleware(m, DefaultCookieConfig("/app"), h)
}

func do(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func get(target string, cookies ...string) *http.Request {
	r := httptest.NewRequest("GET", target, nil)
	for _, c := range cookies {
		r.Header.Add("Cookie", c)
	}
	return r
}

func TestMiddlewareCreatesCookie(t *testing.T) {
	var created *Session
	m, h := newMW(t, func(w http.ResponseWriter, r *http.Request) {
		if From(r) != nil {
			t.Error("From before Ensure")
		}
		s, err := Ensure(r)
		if err != nil {
			t.Error(err)
			return
		}
		if !s.IsNew() {
			t.Error("new session not IsNew")
		}
		created = s
		s.Set("n", 1)
		io.WriteString(w, "hi")
	})
	w := do(h, get("/app/x"))
	want := "JSESSIONID=" + created.ID() + "; Path=/app; HttpOnly; SameSite=Lax"
	if got := w.Header().Values("Set-Cookie"); len(got) != 1 || got[0] != want {
		t.Fatalf("Set-Cookie = %q, want %q", got, want)
	}
	if v, cc := w.Header().Get("Vary"), w.Header().Get("Cache-Control"); v != "Cookie" || cc != `no-cache="Set-Cookie"` {
		t.Fatalf("Vary %q, Cache-Control %q: a shared cache could store the session cookie", v, cc)
	}
	if created.IsNew() || created.InUse() || created.Dirty() || m.completed.Load() != 1 {
		t.Fatalf("after the request: new=%v inUse=%v dirty=%v completed=%d",
			created.IsNew(), created.InUse(), created.Dirty(), m.completed.Load())
	}

	// Next request with the cookie: found, no new cookie.
	var seen *Session
	h2 := Middleware(m, DefaultCookieConfig("/app"), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = From(r)
		if RequestedID(r) != created.ID() || !Touched(r) {
			t.Error("RequestedID/Touched")
		}
	}))
	w = do(h2, get("/app/x", "JSESSIONID="+created.ID()))
	if seen != created || w.Header().Get("Set-Cookie") != "" || w.Header().Get("Vary") != "" {
		t.Fatalf("seen=%v Set-Cookie=%q", seen != nil, w.Header().Get("Set-Cookie"))
	}
}

func TestMiddlewareNoSessionNoCookie(t *testing.T) {
	m, h := newMW(t, func(w http.ResponseWriter, r *http.Request) {
		if From(r) != nil || Touched(r) || Current(r) != nil {
			t.Error("unexpected session")
		}
		w.Write([]byte("static"))
	})
	w := do(h, get("/app/static.css", "JSESSIONID=UNKNOWN.node1"))
	if w.Header().Get("Set-Cookie") != "" || m.Count() != 0 || m.completed.Load() != 0 {
		t.Fatalf("Set-Cookie %q, count %d", w.Header().Get("Set-Cookie"), m.Count())
	}
}

func TestMiddlewareSecure(t *testing.T) {
	_, h := newMW(t, func(w http.ResponseWriter, r *http.Request) { Ensure(r) })
	tests := map[string]func(*http.Request){
		"tls":             func(r *http.Request) { r.TLS = &tls.ConnectionState{} },
		"forwarded":       func(r *http.Request) { r.Header.Set("X-Forwarded-Proto", "HTTPS") },
		"forwarded chain": func(r *http.Request) { r.Header.Set("X-Forwarded-Proto", "https, http") },
		"plain":           func(r *http.Request) {},
		"forwarded http":  func(r *http.Request) { r.Header.Set("X-Forwarded-Proto", "http") },
	}
	for name, mod := range tests {
		r := get("/app/")
		mod(r)
		c := do(h, r).Header().Get("Set-Cookie")
		secure := strings.Contains(c, "; Secure")
		if want := !strings.HasPrefix(name, "plain") && name != "forwarded http"; secure != want {
			t.Errorf("%s: Set-Cookie %q, want Secure=%v", name, c, want)
		}
	}
}

func TestMiddlewarePathParam(t *testing.T) {
	m, _, _ := newLocal(t, nil)
	s, _ := m.Create(context.Background())
	var path, uri string
	var seen *Session
	h := Middleware(m, DefaultCookieConfig("/app"), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path, uri, seen = r.URL.Path, r.RequestURI, From(r)
	}))
	w := do(h, get("/app/page;jsessionid="+s.ID()+"?q=1"))
	if seen != s || path != "/app/page" || uri != "/app/page?q=1" || w.Header().Get("Set-Cookie") != "" {
		t.Fatalf("seen=%v path=%q uri=%q cookie=%q", seen == s, path, uri, w.Header().Get("Set-Cookie"))
	}
	// Parameter in a middle segment, other parameters kept.
	do(h, get("/app/a;jsessionid="+s.ID()+";v=1/b"))
	if path != "/app/a;v=1/b" || seen != s {
		t.Fatalf("path = %q", path)
	}
	// A cookie wins over the path parameter.
	other, _ := m.Create(context.Background())
	do(h, get("/app/p;jsessionid="+s.ID(), "JSESSIONID="+other.ID()))
	if seen != other {
		t.Fatal("cookie must take precedence")
	}
}

func TestMiddlewareSeveralCookies(t *testing.T) {
	m, _, _ := newLocal(t, nil)
	live, _ := m.Create(context.Background())
	var seen *Session
	var requested string
	h := Middleware(m, DefaultCookieConfig("/app"), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen, requested = From(r), RequestedID(r)
	}))
	// e.g. a ROOT-context cookie (Path=/) sent before ours.
	w := do(h, get("/app/", "JSESSIONID=DEAD.node1; other=1; JSESSIONID="+live.ID()))
	if seen != live || requested != live.ID() || w.Header().Get("Set-Cookie") != "" {
		t.Fatalf("seen=%v requested=%q cookie=%q", seen == live, requested, w.Header().Get("Set-Cookie"))
	}
	do(h, get("/app/", "JSESSIONID=DEAD1", "JSESSIONID=DEAD2"))
	if seen != nil || requested != "DEAD1" {
		t.Fatalf("none live: requested=%q", requested)
	}
}

func TestMiddlewareRenewInvalidate(t *testing.T) {
	m, _, _ := newLocal(t, nil)
	ctx := context.Background()
	cookieFor := func(action func(r *http.Request)) (string, *Session) {
		s, _ := m.Create(ctx)
		s.EndAccess()
		h := Middleware(m, DefaultCookieConfig("/app"), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			action(r)
			w.WriteHeader(204)
		}))
		return do(h, get("/app/", "JSESSIONID="+s.ID())).Header().Get("Set-Cookie"), s
	}

	c, s := cookieFor(func(r *http.Request) { From(r).RenewID() })
	if c != "JSESSIONID="+s.ID()+"; Path=/app; HttpOnly; SameSite=Lax" {
		t.Fatalf("renew: %q", c)
	}
	c, _ = cookieFor(func(r *http.Request) { From(r).Invalidate() })
	if c != "JSESSIONID=; Path=/app; Max-Age=0; HttpOnly; SameSite=Lax" {
		t.Fatalf("invalidate: %q", c)
	}
	var fresh *Session
	c, _ = cookieFor(func(r *http.Request) { From(r).Invalidate(); fresh, _ = Ensure(r) })
	if c != "JSESSIONID="+fresh.ID()+"; Path=/app; HttpOnly; SameSite=Lax" {
		t.Fatalf("invalidate+ensure: %q", c)
	}
	// Renewing after the header went out cannot set the cookie (as in Tomcat).
	s, _ = m.Create(ctx)
	h := Middleware(m, DefaultCookieConfig("/app"), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("x"))
		From(r).RenewID()
	}))
	if c := do(h, get("/app/", "JSESSIONID="+s.ID())).Header().Get("Set-Cookie"); c != "" {
		t.Fatalf("late renew: %q", c)
	}
}

// routeBinder is a JvmRouteBinderValve-like wrapper, as runtime/host
// would write it.
func routeBinder(m Manager, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		base, route := SplitID(RequestedID(r))
		if route != "" && route != m.Route() {
			newID := base + "." + m.Route()
			if s := Current(r); s != nil {
				m.ChangeID(s, newID)
			} else if s := m.Find(newID); s != nil {
				Rebind(r, s)
			}
		}
		next.ServeHTTP(w, r)
	})
}

func TestMiddlewareValveHooks(t *testing.T) {
	m, _, _ := newLocal(t, nil) // route node1
	ctx := context.Background()
	s, _ := m.Create(ctx)
	base, _ := SplitID(s.ID())
	m.ChangeID(s, base+".node2") // a session failed over from node2

	var seen *Session
	h := Middleware(m, DefaultCookieConfig("/app"), routeBinder(m, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = From(r)
	})))
	w := do(h, get("/app/", "JSESSIONID="+base+".node2"))
	if seen != s || s.ID() != base+".node1" {
		t.Fatalf("binder: seen=%v id=%s", seen == s, s.ID())
	}
	if c := w.Header().Get("Set-Cookie"); !strings.HasPrefix(c, "JSESSIONID="+base+".node1;") {
		t.Fatalf("binder cookie: %q", c)
	}
	// A concurrent request already renamed it: the old id is gone, Rebind.
	w = do(h, get("/app/", "JSESSIONID="+base+".node2"))
	if seen != s || !strings.HasPrefix(w.Header().Get("Set-Cookie"), "JSESSIONID="+base+".node1;") {
		t.Fatalf("rebind: seen=%v cookie=%q", seen == s, w.Header().Get("Set-Cookie"))
	}
	if s.InUse() {
		t.Fatal("Rebind left the session in use")
	}
}

func TestMiddlewareCompleteOnce(t *testing.T) {
	lm, _, _ := newLocal(t, nil)
	m := &countingManager{LocalManager: lm}
	// A ReplicationValve (sync) completes before releasing its buffer.
	valve := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			buf := httptest.NewRecorder()
			next.ServeHTTP(buf, r)
			if err := Complete(r); err != nil {
				t.Error(err)
			}
			if m.completed.Load() != 1 {
				t.Error("Complete did not call RequestCompleted")
			}
			w.WriteHeader(buf.Code)
			w.Write(buf.Body.Bytes())
		})
	}
	h := Middleware(m, DefaultCookieConfig("/"), valve(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, _ := Ensure(r)
		s.Set("k", "v")
		w.Write([]byte("body"))
	})))
	w := do(h, get("/"))
	if m.completed.Load() != 1 || w.Body.String() != "body" || w.Header().Get("Set-Cookie") == "" {
		t.Fatalf("completed %d, body %q, cookie %q", m.completed.Load(), w.Body, w.Header().Get("Set-Cookie"))
	}

	// Canceled client context: RequestCompleted still gets a live context.
	m.completed.Store(0)
	cctx, cancel := context.WithCancel(context.Background())
	cancel()
	h = Middleware(m, CookieConfig{}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { Ensure(r) }))
	do(h, get("/").WithContext(cctx))
	if m.completed.Load() != 1 {
		t.Fatal("not completed")
	}
}

func TestMiddlewareInvalidatedNotCompleted(t *testing.T) {
	m, h := newMW(t, func(w http.ResponseWriter, r *http.Request) {
		s, _ := Ensure(r)
		s.Invalidate()
	})
	do(h, get("/"))
	if m.completed.Load() != 0 {
		t.Fatal("RequestCompleted for an invalidated session")
	}
}

func TestMiddlewarePanicEndsAccess(t *testing.T) {
	var s *Session
	_, h := newMW(t, func(w http.ResponseWriter, r *http.Request) {
		s, _ = Ensure(r)
		panic(http.ErrAbortHandler)
	})
	func() {
		defer func() { recover() }()
		do(h, get("/"))
	}()
	if s.InUse() {
		t.Fatal("session left in use after panic")
	}
}

func TestMiddlewareTooManySessions(t *testing.T) {
	m, _, _ := newLocal(t, func(c *Config) { c.MaxActiveSessions = 1 })
	m.Create(context.Background())
	h := Middleware(m, CookieConfig{}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := Ensure(r); errors.Is(err, ErrTooManySessions) {
			http.Error(w, "busy", http.StatusServiceUnavailable)
		}
	}))
	if w := do(h, get("/")); w.Code != 503 || w.Header().Get("Set-Cookie") != "" {
		t.Fatalf("code %d cookie %q", w.Code, w.Header().Get("Set-Cookie"))
	}
}

func TestNoMiddleware(t *testing.T) {
	r := get("/")
	if From(r) != nil || Current(r) != nil || RequestedID(r) != "" || Touched(r) || Complete(r) != nil {
		t.Fatal("helpers outside the middleware")
	}
	if _, err := Ensure(r); !errors.Is(err, ErrNoMiddleware) {
		t.Fatal(err)
	}
	if err := Rebind(r, nil); !errors.Is(err, ErrNoMiddleware) {
		t.Fatal(err)
	}
}

func TestMiddlewareCookieBeforeImplicitHeader(t *testing.T) {
	var id string
	_, h := newMW(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusEarlyHints) // informational: no cookie yet
		s, _ := Ensure(r)
		id = s.ID()
		// no write at all: the cookie still goes out
	})
	w := do(h, get("/app/"))
	if c := w.Header().Get("Set-Cookie"); !strings.HasPrefix(c, "JSESSIONID="+id+";") {
		t.Fatalf("Set-Cookie %q", c)
	}
}

func TestMiddlewareFlushAndHijack(t *testing.T) {
	lm, _, _ := newLocal(t, nil)
	release := make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("/stream", func(w http.ResponseWriter, r *http.Request) {
		Ensure(r)
		io.WriteString(w, "first\n")
		if err := http.NewResponseController(w).Flush(); err != nil {
			t.Error("Flush:", err)
		}
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-time.After(10 * time.Second):
		}
		io.WriteString(w, "second\n")
	})
	mux.HandleFunc("/hijack", func(w http.ResponseWriter, r *http.Request) {
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Error("Hijack:", err)
			return
		}
		defer conn.Close()
		brw.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhj")
		brw.Flush()
	})
	srv := httptest.NewServer(Middleware(lm, CookieConfig{}, mux))
	defer srv.Close()

	resp, err := http.Get(srv.URL + "/stream")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.Header.Get("Set-Cookie") == "" {
		t.Fatal("no cookie on a flushed response")
	}
	line, err := bufio.NewReader(resp.Body).ReadString('\n')
	close(release) // the first chunk arrived before the handler finished
	if err != nil || line != "first\n" {
		t.Fatalf("first chunk %q %v", line, err)
	}

	resp2, err := http.Get(srv.URL + "/hijack")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp2.Body)
	resp2.Body.Close()
	if string(b) != "hj" {
		t.Fatalf("hijacked body %q", b)
	}
}
