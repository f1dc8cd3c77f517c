package host

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/gomcat/gomcat/runtime/session"
)

// Host is a virtual host: its contexts, routed by the longest matching
// context path ("/" last), and its appBase of bundles. It is an
// http.Handler.
//
// Deploy, Undeploy and Redeploy may be called at any time while running;
// they are serialized. Routing reads an immutable table (atomic pointer),
// so requests never wait for a deployment.
type Host struct {
	cfg    Config
	log    zerolog.Logger
	filter *regexp.Regexp

	mu       sync.Mutex // serializes deployments; guards the fields below
	contexts map[string]*Context
	order    []string // deployment order, for reverse stop
	watch    *watcher
	started  bool
	stopped  bool

	table atomic.Pointer[[]*Context] // sorted by path length, longest first
}

// New validates cfg and builds a Host. It opens nothing.
func New(cfg Config) (*Host, error) {
	cfg.fill()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Managers == nil {
		cfg.Managers = localManagers(cfg)
	}
	h := &Host{cfg: cfg, contexts: map[string]*Context{}}
	h.log = cfg.Logger.With().Str("component", "host").Str("host", cfg.Name).Logger()
	if cfg.Valves.Filter != "" {
		h.filter = regexp.MustCompile(cfg.Valves.Filter) // checked by Validate
	}
	h.table.Store(&[]*Context{})
	return h, nil
}

// localManagers is the default ManagerFactory: a LocalManager per context.
func localManagers(cfg Config) ManagerFactory {
	return func(spec ContextSpec) (session.Manager, error) {
		return session.NewLocal(session.Config{
			Route:             cfg.JvmRoute,
			MaxInactive:       spec.timeout(cfg.SessionTimeout),
			MaxActiveSessions: spec.MaxActiveSessions,
			Logger:            cfg.Logger,
		})
	}
}

// Name is the host's name.
func (h *Host) Name() string { return h.cfg.Name }

// Start deploys the configured contexts in order, then (DeployOnStartup)
// every bundle in AppBase, then starts the AppBase poller (AutoDeploy). A
// context that fails to deploy is logged and skipped, as Tomcat does; Start
// fails only when the host itself cannot run.
func (h *Host) Start(ctx context.Context) error {
	h.mu.Lock()
	if h.started {
		h.mu.Unlock()
		return nil
	}
	h.started = true
	h.mu.Unlock()

	for _, spec := range h.cfg.Contexts {
		if err := h.Deploy(ctx, spec); err != nil {
			h.log.Error().Err(err).Str("source", spec.Source).Msgf("Error deploying configuration descriptor [%s]", spec.Source)
		}
	}
	if h.cfg.AppBase != "" {
		w := h.bundleWatcher() // keeps what an earlier Install recorded
		if h.cfg.DeployOnStartup {
			w.scan(ctx, true)
		}
		if h.cfg.AutoDeploy {
			w.start()
		}
	}
	return nil
}

// Stop stops the AppBase poller and undeploys every context in reverse
// deployment order, each after its in-flight requests finished (bounded by
// ctx). Idempotent.
func (h *Host) Stop(ctx context.Context) error {
	h.mu.Lock()
	if h.stopped {
		h.mu.Unlock()
		return nil
	}
	h.stopped = true
	w := h.watch
	h.mu.Unlock()
	if w != nil {
		w.stop()
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	var errs []error
	for i := len(h.order) - 1; i >= 0; i-- {
		if err := h.undeployLocked(ctx, h.order[i], false); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// ServeHTTP routes r to the context with the longest matching path.
func (h *Host) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	for range 3 { // a context may be swapped out between lookup and acquire
		c := h.match(r.URL.Path)
		if c == nil {
			http.NotFound(w, r)
			return
		}
		if c.acquire() {
			defer c.release()
			c.serve(w, r)
			return
		}
	}
	http.Error(w, "503 context is being redeployed", http.StatusServiceUnavailable)
}

func (h *Host) match(p string) *Context {
	for _, c := range *h.table.Load() {
		cp := c.spec.Path
		if cp == "/" || p == cp || strings.HasPrefix(p, cp+"/") || strings.HasPrefix(p, cp+";") {
			return c
		}
	}
	return nil
}

// publishLocked rebuilds the routing table. Caller holds h.mu.
func (h *Host) publishLocked() {
	t := make([]*Context, 0, len(h.contexts))
	for _, c := range h.contexts {
		t = append(t, c)
	}
	slices.SortFunc(t, func(a, b *Context) int {
		if a.spec.Path == "/" || b.spec.Path == "/" {
			return boolCmp(a.spec.Path == "/", b.spec.Path == "/")
		}
		if d := len(b.spec.Path) - len(a.spec.Path); d != 0 {
			return d
		}
		return strings.Compare(a.spec.Path, b.spec.Path)
	})
	h.table.Store(&t)
}

func boolCmp(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

// Contexts lists the deployed contexts, sorted by path.
func (h *Host) Contexts() []ContextInfo {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]ContextInfo, 0, len(h.contexts))
	for _, c := range h.contexts {
		out = append(out, c.info(h.cfg.SessionTimeout))
	}
	slices.SortFunc(out, func(a, b ContextInfo) int { return strings.Compare(a.Path, b.Path) })
	return out
}

// Manager returns the session manager of the context at path, or nil.
func (h *Host) Manager(path string) session.Manager {
	h.mu.Lock()
	defer h.mu.Unlock()
	if c := h.contexts[path]; c != nil {
		return c.mgr
	}
	return nil
}

// Deploy starts a new context and makes it routable. It fails with
// ErrContextExists if the path is taken.
func (h *Host) Deploy(ctx context.Context, spec ContextSpec) error {
	if err := spec.Validate(); err != nil {
		return err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.stopped {
		return ErrClosed
	}
	if old, ok := h.contexts[spec.Path]; ok {
		return fmt.Errorf("%w: %s (from %s)", ErrContextExists, spec.Path, old.spec.Source)
	}
	began := time.Now()
	kind := logKind(spec)
	h.log.Info().Str("source", spec.Source).Msgf("Deploying %s [%s]", kind, sourceName(spec))
	c, err := h.startContext(ctx, spec, nil)
	if err != nil {
		return err
	}
	h.contexts[spec.Path] = c
	h.order = append(h.order, spec.Path)
	h.publishLocked()
	h.log.Info().Str("app", spec.App).Bool("distributable", spec.Distributable).
		Msgf("Deployment of %s [%s] has finished in [%d] ms", kind, sourceName(spec), time.Since(began).Milliseconds())
	return nil
}

// Undeploy stops routing to the context at path, waits for its in-flight
// requests (up to Config.DrainTimeout or ctx), and stops it.
func (h *Host) Undeploy(ctx context.Context, path string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.undeployLocked(ctx, path, true)
}

func (h *Host) undeployLocked(ctx context.Context, path string, logIt bool) error {
	c, ok := h.contexts[path]
	if !ok {
		return fmt.Errorf("%w: %s", ErrNoContext, path)
	}
	if logIt {
		h.log.Info().Msgf("Undeploying context [%s]", displayPath(path))
	}
	delete(h.contexts, path)
	h.order = slices.DeleteFunc(h.order, func(p string) bool { return p == path })
	h.publishLocked()
	return h.retire(ctx, c)
}

// retire drains and stops a context that is no longer routable.
func (h *Host) retire(ctx context.Context, c *Context) error {
	dctx, cancel := context.WithTimeout(ctx, h.cfg.DrainTimeout)
	defer cancel()
	if err := c.drain(dctx); err != nil {
		c.log.Warn().Err(err).Msg("in-flight requests still running; stopping the context anyway")
	}
	return c.stop(ctx)
}

// Redeploy replaces the context at spec.Path with a new version: the new
// one starts first, then new requests go to it while in-flight requests
// finish on the old one, which is then stopped. The session manager is
// kept (sessions survive) when distributable, session timeout and maximum
// sessions are unchanged.
func (h *Host) Redeploy(ctx context.Context, spec ContextSpec) error {
	if err := spec.Validate(); err != nil {
		return err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.stopped {
		return ErrClosed
	}
	old, ok := h.contexts[spec.Path]
	if !ok {
		return fmt.Errorf("%w: %s", ErrNoContext, spec.Path)
	}
	began := time.Now()
	kind := logKind(spec)
	h.log.Info().Str("source", spec.Source).Msgf("Reloading context [%s] from %s [%s]", displayPath(spec.Path), kind, sourceName(spec))
	var keep session.Manager
	if old.spec.Distributable == spec.Distributable && old.spec.SessionTimeout == spec.SessionTimeout && old.spec.MaxActiveSessions == spec.MaxActiveSessions {
		keep = old.mgr
	}
	c, err := h.startContext(ctx, spec, keep)
	if err != nil {
		return err
	}
	if keep != nil {
		old.ownsMgr = false
	}
	h.contexts[spec.Path] = c
	h.publishLocked()
	err = h.retire(ctx, old)
	h.log.Info().Str("app", spec.App).
		Msgf("Reloading Context with name [%s] is completed in [%d] ms", displayPath(spec.Path), time.Since(began).Milliseconds())
	return err
}

func logKind(s ContextSpec) string {
	switch {
	case s.Bundle != "":
		return "web application archive"
	case s.Source != "":
		return "deployment descriptor"
	}
	return "web application"
}

func sourceName(s ContextSpec) string {
	if s.Source != "" {
		return s.Source
	}
	return displayPath(s.Path)
}

// displayPath is Tomcat's context name in logs: "" for ROOT.
func displayPath(p string) string {
	if p == "/" {
		return ""
	}
	return p
}

func joinErrs(errs []error) error { return errors.Join(errs...) }
