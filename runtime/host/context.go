package host

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/gomcat/gomcat/runtime/session"
)

// Context is one deployed web application: its spec, its session manager
// and its request pipeline
//
//	session.Middleware → JvmRouteBinderValve → ReplicationValve → strip context path → app
//
// (the valves only on distributable contexts when configured). It counts its
// in-flight requests so an undeploy or redeploy can let them finish.
type Context struct {
	spec     ContextSpec
	mgr      session.Manager
	ownsMgr  bool // Stop stops mgr unless a redeploy took it over
	app      http.Handler
	pipeline http.Handler
	log      zerolog.Logger

	mu       sync.Mutex
	inflight int
	closed   bool
	idle     chan struct{} // closed when closed && inflight == 0
}

// ContextInfo is a read-only view of a deployed context.
type ContextInfo struct {
	Path           string
	App            string // "" = static files only
	DocBase        string
	Distributable  bool
	SessionTimeout time.Duration // negative = never
	Sessions       int           // live sessions on this node
	Source         string        // descriptor or bundle file
	Version        string
}

// ContextName maps a context path to Tomcat's base name: "/" → "ROOT",
// "/shop" → "shop", "/a/b" → "a#b".
func ContextName(path string) string {
	if path == "/" || path == "" {
		return "ROOT"
	}
	return strings.ReplaceAll(strings.TrimPrefix(path, "/"), "/", "#")
}

// ContextPath is the inverse of ContextName: "ROOT" → "/", "a#b" → "/a/b".
func ContextPath(name string) string {
	if name == "ROOT" {
		return "/"
	}
	return "/" + strings.ReplaceAll(name, "#", "/")
}

// startContext builds and starts a context. mgr, if not nil, is a running
// manager handed over by the previous version (redeploy).
func (h *Host) startContext(ctx context.Context, spec ContextSpec, mgr session.Manager) (c *Context, err error) {
	c = &Context{spec: spec, idle: make(chan struct{})}
	c.log = h.log.With().Str("context", spec.Path).Logger()
	work := filepath.Join(h.cfg.WorkDir, ContextName(spec.Path), "app")
	if err := os.MkdirAll(work, 0o755); err != nil {
		return nil, fmt.Errorf("context %s: work dir: %w", spec.Path, err)
	}
	created := mgr == nil
	if created {
		if mgr, err = h.cfg.Managers(spec); err != nil {
			return nil, fmt.Errorf("context %s: session manager: %w", spec.Path, err)
		}
	}
	c.mgr, c.ownsMgr = mgr, true
	defer func() {
		if err != nil && created {
			// Also after a failed Start (say, ctx ended mid state transfer):
			// Stop releases its sweeper and its router registration.
			_ = mgr.Stop(context.WithoutCancel(ctx))
		}
	}()
	if created {
		if err := mgr.Start(ctx); err != nil {
			return nil, fmt.Errorf("context %s: start session manager: %w", spec.Path, err)
		}
	}

	if spec.App != "" {
		f, ok := lookupApp(spec.App)
		if !ok {
			return nil, fmt.Errorf("context %s: %w %q (registered: %s)", spec.Path, ErrUnknownApp, spec.App, strings.Join(Apps(), ", "))
		}
		actx := AppContext{
			Name: spec.App, Path: spec.Path, DocBase: spec.DocBase, WorkDir: work,
			Host: h.cfg.Name, JvmRoute: h.cfg.JvmRoute, Distributable: spec.Distributable,
			SessionTimeout: spec.timeout(h.cfg.SessionTimeout), Params: spec.Params,
			Logger:         h.cfg.Logger.With().Str("component", "app").Str("app", spec.App).Str("context", spec.Path).Logger(),
			ActiveSessions: mgr.Count,
		}
		if c.app, err = f(actx); err != nil {
			return nil, fmt.Errorf("context %s: app %q: %w", spec.Path, spec.App, err)
		}
		if c.app == nil {
			return nil, fmt.Errorf("context %s: app %q returned a nil handler", spec.Path, spec.App)
		}
		if spec.DocBase != "" {
			if fi, err := os.Stat(spec.DocBase); err == nil && fi.IsDir() {
				st, err := Static(spec.DocBase)
				if err != nil {
					return nil, fmt.Errorf("context %s: docBase: %w", spec.Path, err)
				}
				c.app = &withStatic{static: st, app: c.app}
			}
		}
	} else {
		st, err := Static(spec.DocBase)
		if err != nil {
			return nil, fmt.Errorf("context %s: docBase: %w", spec.Path, err)
		}
		c.app = st
	}

	var next http.Handler = stripPrefix(spec.Path, c.app)
	if _, ext := mgr.(session.Loader); ext {
		// An external store: every node reads it, so no route binding and
		// no replication filter; the response waits for the write, and a
		// failed write is a 503, never a success the store did not keep.
		next = &ReplicationValve{Sync: true, FailClosed: true, BufferBytes: h.cfg.Valves.SyncBufferBytes, Logger: c.log, Next: next}
		c.pipeline = session.MiddlewareWith(mgr, session.MiddlewareOptions{Cookie: session.DefaultCookieConfig(spec.Path), Logger: c.log}, next)
		return c, nil
	}
	v := h.cfg.Valves
	cluster := spec.Distributable && (v.Replication || v.JvmRouteBinder)
	if spec.Distributable && v.Replication {
		next = &ReplicationValve{Filter: h.filter, Sync: v.Sync, BufferBytes: v.SyncBufferBytes, Logger: c.log, Next: next}
	}
	if spec.Distributable && v.JvmRouteBinder {
		next = &JvmRouteBinderValve{Manager: mgr, Logger: c.log, Next: next}
	}
	var mm session.Manager = mgr
	if cluster && h.filter != nil {
		mm = filterManager{mgr}
	}
	next = session.MiddlewareWith(mm, session.MiddlewareOptions{Cookie: session.DefaultCookieConfig(spec.Path), Logger: c.log}, next)
	if cluster && h.filter != nil {
		next = markFiltered(h.filter, next)
	}
	c.pipeline = next
	return c, nil
}

// acquire counts a request in; false if the context is draining.
func (c *Context) acquire() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return false
	}
	c.inflight++
	return true
}

func (c *Context) release() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.inflight--
	if c.closed && c.inflight == 0 {
		close(c.idle)
	}
}

// drain refuses new requests and waits for the in-flight ones (or ctx).
func (c *Context) drain(ctx context.Context) error {
	c.mu.Lock()
	if !c.closed {
		c.closed = true
		if c.inflight == 0 {
			close(c.idle)
		}
	}
	c.mu.Unlock()
	select {
	case <-c.idle:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// stop closes the app and, if still owned, the session manager.
func (c *Context) stop(ctx context.Context) error {
	var errs []error
	if cl, ok := c.app.(io.Closer); ok {
		if err := cl.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close app: %w", err))
		}
	}
	if c.ownsMgr {
		if err := c.mgr.Stop(ctx); err != nil {
			errs = append(errs, fmt.Errorf("stop session manager: %w", err))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("context %s: %w", c.spec.Path, joinErrs(errs))
	}
	return nil
}

func (c *Context) info(def time.Duration) ContextInfo {
	return ContextInfo{
		Path: c.spec.Path, App: c.spec.App, DocBase: c.spec.DocBase, Distributable: c.spec.Distributable,
		SessionTimeout: c.spec.timeout(def), Sessions: c.mgr.Count(), Source: c.spec.Source, Version: c.spec.Version,
	}
}

// serve runs one request through the pipeline. "/shop" (no slash) is
// redirected to "/shop/" for GET and HEAD, as Tomcat does.
func (c *Context) serve(w http.ResponseWriter, r *http.Request) {
	p := c.spec.Path
	if p != "/" && (r.URL.Path == p) && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
		u := p + "/"
		if r.URL.RawQuery != "" {
			u += "?" + r.URL.RawQuery
		}
		http.Redirect(w, r, u, http.StatusFound)
		return
	}
	c.pipeline.ServeHTTP(w, r)
}

// stripPrefix gives next the request with the context path removed from
// URL.Path and URL.RawPath ("/shop/cart" → "/cart"; "/shop" → "/") and any
// ";jsessionid=..." path parameter dropped. RequestURI stays the original.
func stripPrefix(prefix string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r2 := new(http.Request)
		*r2 = *r
		u := *r.URL
		r2.URL = &u
		u.Path = dropSessionParam(trimContext(prefix, u.Path))
		if u.RawPath != "" {
			u.RawPath = dropSessionParam(trimContext(prefix, u.RawPath))
		}
		next.ServeHTTP(w, r2)
	})
}

func trimContext(prefix, p string) string {
	if prefix != "/" {
		p = strings.TrimPrefix(p, prefix)
	}
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	return p
}

func dropSessionParam(p string) string {
	i := strings.Index(strings.ToLower(p), ";jsessionid=")
	if i < 0 {
		return p
	}
	rest := p[i+1:]
	if j := strings.IndexByte(rest, '/'); j >= 0 {
		return p[:i] + rest[j:]
	}
	if p[:i] == "" {
		return "/"
	}
	return p[:i]
}
