package session

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/rs/zerolog"
)

// MiddlewareOptions configure MiddlewareWith.
type MiddlewareOptions struct {
	// Cookie; the zero value means DefaultCookieConfig("/").
	Cookie CookieConfig
	// Logger for RequestCompleted failures; default zerolog.Nop().
	Logger zerolog.Logger
}

// Middleware is MiddlewareWith(m, MiddlewareOptions{Cookie: c}, next).
func Middleware(m Manager, c CookieConfig, next http.Handler) http.Handler {
	return MiddlewareWith(m, MiddlewareOptions{Cookie: c}, next)
}

// MiddlewareWith returns the per-application session handler (Tomcat's
// session lookup plus the end-of-request part of ReplicationValve):
//
//  1. It reads the requested id from the cookie (of several cookies with
//     that name, the first that names a live session wins, else the first)
//     or, without a cookie, from the ";jsessionid=" path parameter, which
//     is stripped from URL.Path, URL.RawPath and RequestURI in any case.
//  2. m.Find; a live session is Accessed and becomes the request's session
//     (From, Current).
//  3. Right before the first WriteHeader/Write/Flush (or when next returns
//     without writing) it adds Set-Cookie when the request's session has an
//     id the client did not send: created (Ensure), renewed (RenewID),
//     renamed (ChangeID) or swapped (Rebind). The cookie has no Max-Age.
//     When the session the client sent is invalidated during the request
//     and no new one replaces it, it expires the cookie (Max-Age=0), unlike
//     Tomcat, so browsers stop sending a dead id.
//  4. When next returns (or panics): EndAccess, then
//     m.RequestCompleted(context.WithoutCancel(ctx), s) if s is still
//     valid, unless a valve already did so through Complete.
//
// Valves that wrap next (runtime/host's ReplicationValve and
// JvmRouteBinderValve) use RequestedID, Current, Rebind, Touched and
// Complete.
func MiddlewareWith(m Manager, o MiddlewareOptions, next http.Handler) http.Handler {
	c := o.Cookie
	if c == (CookieConfig{}) {
		c = DefaultCookieConfig("/")
	}
	c = c.withDefaults()
	log := o.Logger.With().Str("component", "session").Logger()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := &reqState{m: m, cookie: c, secure: secureRequest(r)}
		r, err := q.begin(r)
		if err != nil {
			log.Warn().Err(err).Msg("session store unavailable")
			http.Error(w, "503 session store unavailable", http.StatusServiceUnavailable)
			return
		}
		rw := &responseWriter{ResponseWriter: w, q: q}
		defer func() {
			rw.commit()
			if err := q.complete(r.Context()); err != nil {
				ev := log.Warn().Err(err)
				if s := q.current(); s != nil {
					ev = ev.Str("session_id", LogID(s.ID()))
				}
				ev.Msg("request completion failed")
			}
		}()
		next.ServeHTTP(rw, r)
	})
}

type ctxKey struct{}

// reqState is the request handle kept in the request context.
type reqState struct {
	m          Manager
	cookie     CookieConfig
	secure     bool
	requested  string
	fromCookie bool
	found      bool // requested named a live session at the start

	mu        sync.Mutex
	s         *Session
	touched   bool
	completed bool
}

func state(r *http.Request) *reqState {
	q, _ := r.Context().Value(ctxKey{}).(*reqState)
	return q
}

func (q *reqState) current() *Session {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.s
}

// begin finds the requested session and returns the request for next; it
// fails only when a Loader manager's store cannot answer.
func (q *reqState) begin(r *http.Request) (*http.Request, error) {
	var param string
	if strings.Contains(r.URL.Path, ";") || strings.Contains(r.URL.RawPath, ";") {
		u := *r.URL
		u.Path, param = stripPathParam(u.Path, q.cookie.PathParam)
		u.RawPath, _ = stripPathParam(u.RawPath, q.cookie.PathParam)
		r = r.WithContext(context.WithValue(r.Context(), ctxKey{}, q))
		r.URL = &u
		if i := strings.IndexByte(r.RequestURI, '?'); i >= 0 {
			p, _ := stripPathParam(r.RequestURI[:i], q.cookie.PathParam)
			r.RequestURI = p + r.RequestURI[i:]
		} else {
			r.RequestURI, _ = stripPathParam(r.RequestURI, q.cookie.PathParam)
		}
	} else {
		r = r.WithContext(context.WithValue(r.Context(), ctxKey{}, q))
	}

	find := func(id string) (*Session, error) { return q.m.Find(id), nil }
	if l, ok := q.m.(Loader); ok {
		find = func(id string) (*Session, error) { return l.Load(r.Context(), id) }
	}
	var s *Session
	var err error
	if cookies := r.CookiesNamed(q.cookie.Name); len(cookies) > 0 {
		q.requested, q.fromCookie = cookies[0].Value, true
		for _, k := range cookies {
			if s, err = find(k.Value); err != nil {
				return r, err
			}
			if s != nil {
				q.requested = k.Value
				break
			}
		}
	} else if param != "" {
		q.requested = param
		if s, err = find(param); err != nil {
			return r, err
		}
	}
	if s != nil {
		s.Access(s.now())
		q.s, q.found = s, true
	}
	return r, nil
}

// setCookie returns the Set-Cookie header value to add, or "".
func (q *reqState) setCookie() string {
	s := q.current()
	if s != nil && s.Valid() {
		if id := s.ID(); id != q.requested {
			return q.cookie.cookie(id, q.secure)
		}
		return ""
	}
	if q.found && q.fromCookie {
		return q.cookie.cookie("", q.secure)
	}
	return ""
}

func (q *reqState) complete(ctx context.Context) error {
	q.mu.Lock()
	if q.completed {
		q.mu.Unlock()
		return nil
	}
	q.completed = true
	s := q.s
	q.mu.Unlock()
	if s == nil {
		return nil
	}
	s.EndAccess()
	if !s.Valid() {
		return nil
	}
	return q.m.RequestCompleted(context.WithoutCancel(ctx), s)
}

// From returns the request's live session, or nil (Servlet
// getSession(false)), and marks the session touched.
func From(r *http.Request) *Session {
	q := state(r)
	if q == nil {
		return nil
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.s == nil || !q.s.Valid() {
		return nil
	}
	q.touched = true
	return q.s
}

// Ensure returns the request's live session, creating one when there is
// none (Servlet getSession(true)); the response then carries its cookie
// (call it before writing). Errors come from Manager.Create:
// ErrTooManySessions, which the host answers with 503, or ErrClosed; and
// ErrNoMiddleware outside Middleware.
func Ensure(r *http.Request) (*Session, error) {
	q := state(r)
	if q == nil {
		return nil, ErrNoMiddleware
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.s != nil && q.s.Valid() {
		q.touched = true
		return q.s, nil
	}
	s, err := q.m.Create(r.Context())
	if err != nil {
		return nil, err
	}
	s.Access(s.now())
	if old := q.s; old != nil {
		old.EndAccess()
	}
	q.s, q.touched = s, true
	return s, nil
}

// RequestedID returns the session id the client sent ("" for none).
func RequestedID(r *http.Request) string {
	if q := state(r); q != nil {
		return q.requested
	}
	return ""
}

// Current returns the request's session, valid or not, without marking it
// touched: for valves.
func Current(r *http.Request) *Session {
	if q := state(r); q != nil {
		return q.current()
	}
	return nil
}

// Touched reports whether the handler asked for the session (From or
// Ensure returned one).
func Touched(r *http.Request) bool {
	q := state(r)
	if q == nil {
		return false
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.touched
}

// Rebind makes s the request's session (JvmRouteBinderValve: another
// request already renamed the session). s is Accessed, the previous one
// EndAccessed; the response carries s's cookie if the client sent another
// id. A nil s detaches the session.
func Rebind(r *http.Request, s *Session) error {
	q := state(r)
	if q == nil {
		return ErrNoMiddleware
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.s == s {
		return nil
	}
	if s != nil {
		s.Access(s.now())
	}
	if q.s != nil {
		q.s.EndAccess()
	}
	q.s = s
	return nil
}

// Complete ends the request's use of its session now: EndAccess, then
// m.RequestCompleted(context.WithoutCancel(r.Context()), s) if the session is
// valid. Only the first call (Complete or the middleware's own, after
// next) does anything. ReplicationValve calls it before releasing a
// buffered response (sync mode).
func Complete(r *http.Request) error {
	q := state(r)
	if q == nil {
		return nil
	}
	return q.complete(r.Context())
}

// responseWriter adds the session cookie before the header is written.
type responseWriter struct {
	http.ResponseWriter
	q    *reqState
	done atomic.Bool
}

func (w *responseWriter) commit() {
	if !w.done.CompareAndSwap(false, true) {
		return
	}
	if v := w.q.setCookie(); v != "" {
		h := w.ResponseWriter.Header()
		h.Add("Set-Cookie", v)
		// A shared cache must neither store this session's cookie nor hand
		// the response to another user.
		h.Add("Vary", "Cookie")
		if h.Get("Cache-Control") == "" {
			h.Set("Cache-Control", `no-cache="Set-Cookie"`)
		}
	}
}

func (w *responseWriter) WriteHeader(code int) {
	if code < 100 || code > 199 || code == http.StatusSwitchingProtocols {
		w.commit() // not for 1xx informational headers
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *responseWriter) Write(b []byte) (int, error) {
	w.commit()
	return w.ResponseWriter.Write(b)
}

// ReadFrom keeps net/http's sendfile path for io.Copy.
func (w *responseWriter) ReadFrom(src io.Reader) (int64, error) {
	w.commit()
	if rf, ok := w.ResponseWriter.(io.ReaderFrom); ok {
		return rf.ReadFrom(src)
	}
	return io.Copy(struct{ io.Writer }{w.ResponseWriter}, src)
}

func (w *responseWriter) Flush() {
	_ = w.FlushError()
}

func (w *responseWriter) FlushError() error {
	w.commit()
	return http.NewResponseController(w.ResponseWriter).Flush()
}

func (w *responseWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(w.ResponseWriter).Hijack()
}

// Unwrap lets http.NewResponseController reach the underlying writer.
func (w *responseWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
