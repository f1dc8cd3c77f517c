package balancer

import (
	"context"
	"errors"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gomcat/gomcat/internal/bodylimit"
	"github.com/rs/zerolog"
	"golang.org/x/net/netutil"
)

// Balancer is a sticky reverse proxy in front of Gomcat (or Tomcat) nodes.
// Create it with New, run it with Start, end it with Stop. Its methods are
// safe for concurrent use.
type Balancer struct {
	cfg         Config
	log         zerolog.Logger
	disc        Discovery
	pool        *pool
	rp          *httputil.ReverseProxy
	checkClient *http.Client
	st          balancerCounters // retries, no live node (stats.go)

	mu        sync.Mutex // guards the fields below
	started   bool
	stopped   bool
	runCtx    context.Context
	cancel    context.CancelFunc // ends discovery and checkers
	reqCancel context.CancelFunc // ends proxied requests still running (WebSockets)
	srv       *http.Server
	admin     *http.Server
	ln        net.Listener
	adminLn   net.Listener
	wg        sync.WaitGroup
	stopping  bool // readyz answers 503

	applyMu    sync.Mutex // serialises apply
	pinsByConn sync.Map   // client net.Conn → *pins

	slowBodies atomic.Uint64 // client bodies refused: too slow (408)
	movesHeld  atomic.Uint64 // unverified claims that a live node moved
	busyNote   burst         // "node busy" warnings
	desyncNote burst         // "node sent bytes outside a response" warnings
	slowNote   burst         // "client body too slow" warnings
}

// New validates cfg and builds a Balancer. It opens no sockets and starts no goroutines.
func New(cfg Config) (*Balancer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	b := &Balancer{
		cfg:  cfg,
		log:  cfg.Logger.With().Str("component", "balancer").Logger(),
		disc: cfg.Discovery,
		pool: newPool(),
	}
	if b.disc == nil {
		b.disc = Static(cfg.Backends)
	}
	b.checkClient = &http.Client{
		Transport: &http.Transport{
			DialContext:       (&net.Dialer{Timeout: cfg.Health.Timeout}).DialContext,
			DisableKeepAlives: true, // every check proves the listener accepts
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	b.rp = &httputil.ReverseProxy{
		Rewrite:      b.rewrite,
		Transport:    transport{b},
		ErrorHandler: b.proxyError,
		ErrorLog:     log.New(debugWriter{b.log}, "", 0),
		BufferPool:   newBufferPool(),
	}
	return b, nil
}

// Start opens the listeners (Config.Listen, Config.AdminListen; empty ones
// are skipped) and starts discovery, checkers and servers. ctx bounds only
// the start itself; Stop ends what Start started.
func (b *Balancer) Start(ctx context.Context) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.started {
		return ErrStarted
	}
	lc := net.ListenConfig{}
	if b.cfg.Listen != "" {
		ln, err := lc.Listen(ctx, "tcp", b.cfg.Listen)
		if err != nil {
			return err
		}
		if b.cfg.MaxConnections > 0 {
			ln = netutil.LimitListener(ln, b.cfg.MaxConnections)
		}
		b.ln = ln
	}
	if b.cfg.AdminListen != "" {
		ln, err := lc.Listen(ctx, "tcp", b.cfg.AdminListen)
		if err != nil {
			if b.ln != nil {
				_ = b.ln.Close()
			}
			return err
		}
		b.adminLn = ln
	}
	b.started = true
	b.runCtx, b.cancel = context.WithCancel(context.WithoutCancel(ctx))
	reqCtx, reqCancel := context.WithCancel(context.WithoutCancel(ctx))
	b.reqCancel = reqCancel

	b.wg.Go(func() {
		if err := b.disc.Run(b.runCtx, b.apply); err != nil && b.runCtx.Err() == nil {
			b.log.Error().Err(err).Msg("discovery stopped")
		}
	})
	if b.ln != nil {
		b.srv = &http.Server{
			Handler:           b,
			ReadHeaderTimeout: b.cfg.ReadHeaderTimeout,
			IdleTimeout:       b.cfg.ClientIdleTimeout,
			MaxHeaderBytes:    b.cfg.MaxHeaderBytes,
			BaseContext:       func(net.Listener) context.Context { return reqCtx },
			ConnContext:       b.connContext,
			ConnState:         b.connState,
			ErrorLog:          log.New(debugWriter{b.log}, "", 0),
		}
		srv, ln := b.srv, b.ln
		b.wg.Go(func() { b.serve(srv, ln, "balancer") })
	}
	if b.adminLn != nil {
		b.admin = &http.Server{
			Handler:           b.AdminHandler(),
			ReadHeaderTimeout: 5 * time.Second,
			ErrorLog:          log.New(debugWriter{b.log}, "", 0),
		}
		srv, ln := b.admin, b.adminLn
		b.wg.Go(func() { b.serve(srv, ln, "admin") })
	}
	ev := b.log.Info()
	if b.ln != nil {
		ev = ev.Str("listen", b.ln.Addr().String())
	}
	if b.adminLn != nil {
		ev = ev.Str("admin", b.adminLn.Addr().String())
	}
	ev.Msg("balancer started")
	return nil
}

func (b *Balancer) serve(srv *http.Server, ln net.Listener, what string) {
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		b.log.Error().Err(err).Str("server", what).Msg("server stopped")
	}
}

// Stop stops accepting, lets in-flight requests finish until ctx ends (then
// closes them), stops discovery and checkers and waits for every goroutine.
// It is idempotent; it returns ctx's error if the grace period ran out.
func (b *Balancer) Stop(ctx context.Context) error {
	b.mu.Lock()
	if !b.started || b.stopped {
		b.stopped = true
		b.mu.Unlock()
		return nil
	}
	b.stopped, b.stopping = true, true
	srv, admin := b.srv, b.admin
	b.mu.Unlock()

	var err error
	if srv != nil {
		if err = srv.Shutdown(ctx); err != nil {
			_ = srv.Close()
		}
	}
	b.reqCancel()
	b.cancel()
	if admin != nil {
		_ = admin.Close()
	}
	b.wg.Wait()
	for _, n := range b.pool.all() {
		n.closeIdle()
	}
	b.log.Info().Msg("balancer stopped")
	return err
}

// Addr is the client listener's address (nil before Start or without Listen).
func (b *Balancer) Addr() net.Addr {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ln == nil {
		return nil
	}
	return b.ln.Addr()
}

// AdminAddr is the admin listener's address (nil before Start or without AdminListen).
func (b *Balancer) AdminAddr() net.Addr {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.adminLn == nil {
		return nil
	}
	return b.adminLn.Addr()
}

// Handler is the proxy; it is what the client listener serves.
func (b *Balancer) Handler() http.Handler { return b }

// ServeHTTP routes r to a node (see the package doc) and proxies it.
func (b *Balancer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := bodylimit.Wrap(w, r, b.cfg.Body); err != nil {
		b.slowBody(w, r, err)
		return
	}
	if !b.cfg.AccessLog {
		b.rp.ServeHTTP(w, r)
		return
	}
	start := time.Now()
	info := &reqInfo{}
	r = r.WithContext(context.WithValue(r.Context(), infoKey{}, info))
	lw := &logWriter{ResponseWriter: w}
	b.rp.ServeHTTP(lw, r)
	b.accessLog(r, lw, info, time.Since(start))
}

// Nodes returns every known node with its state and counters, sorted by name.
func (b *Balancer) Nodes() []NodeStatus {
	all := b.pool.all()
	out := make([]NodeStatus, len(all))
	for i, n := range all {
		out[i] = n.status()
	}
	return out
}

// Ready reports whether at least one node is live (and Stop has not begun).
func (b *Balancer) Ready() bool {
	b.mu.Lock()
	stopping := b.stopping
	b.mu.Unlock()
	return !stopping && b.pool.liveCount() > 0
}

// apply is the discovery callback: it updates the routing table.
func (b *Balancer) apply(ev Event) {
	b.applyMu.Lock() // discovery, and checkers applying a move
	defer b.applyMu.Unlock()
	if n := b.pool.get(ev.Name); n != nil {
		n.mu.Lock()
		n.moveTo = nil // a newer event supersedes a pending move claim
		n.mu.Unlock()
	}
	switch ev.Kind {
	case NodeUp:
		b.nodeUp(ev)
	case NodeDown, NodeLeaving:
		n := b.pool.get(ev.Name)
		if n == nil {
			return
		}
		n.mu.Lock()
		if ev.Kind == NodeDown {
			n.present = false
		} else {
			n.leaving = true
		}
		was, now := n.update()
		n.mu.Unlock()
		if ev.Kind == NodeLeaving {
			b.log.Info().Str("node", n.name).Int64("outstanding", n.outstanding.Load()).Msg("node draining: said goodbye")
		} else if was && !now {
			b.log.Warn().Str("node", n.name).Msg("node down: gone from membership")
		}
		if ev.Kind == NodeDown {
			n.closeIdle()
		}
	}
}

func (b *Balancer) nodeUp(ev Event) {
	if !ValidRoute(ev.Name) {
		b.log.Warn().Str("node", ev.Name).Msg("node ignored: name is not a valid jvmRoute")
		return
	}
	u, err := ParseNodeURL(ev.URL)
	if err != nil {
		b.log.Warn().Str("node", ev.Name).Err(err).Msg("node ignored: no usable HTTP URL")
		return
	}
	unverified := !ev.Checked && !b.cfg.TrustDiscovery
	old := b.pool.get(ev.Name)
	if old != nil && unverified && old.url.String() != u.String() && old.live.Load() {
		// Anyone on the cluster network can claim to be this node at
		// another address; while the node still answers where it is, the
		// claim waits (its checker probes; Fall failures apply it).
		old.mu.Lock()
		old.moveTo = &ev
		old.mu.Unlock()
		b.movesHeld.Add(1)
		b.log.Warn().Str("node", ev.Name).Str("url", old.url.String()).Str("claimed_url", u.String()).
			Msg("node move not applied: unverified heartbeat, and the node still answers at its URL")
		return
	}
	if n := old; n != nil && n.url.String() == u.String() && n.checked == ev.Checked {
		n.mu.Lock()
		n.present, n.leaving = true, false // passiveDown stays: probes clear it
		was, now := n.update()
		n.mu.Unlock()
		if !was && now {
			b.log.Info().Str("node", n.name).Str("url", u.String()).Msg("node live")
		}
		return
	}
	n := newNode(ev.Name, u, ev.Checked, unverified, &b.cfg, b.desyncLog)
	n.mu.Lock()
	n.update()
	n.mu.Unlock()
	ctx, cancel := context.WithCancel(b.runCtx)
	n.cancel = cancel
	if old := b.pool.put(n); old != nil {
		old.cancel()
		old.closeIdle()
		b.log.Info().Str("node", n.name).Str("old_url", old.url.String()).Str("url", u.String()).Msg("node replaced")
	}
	if n.live.Load() {
		b.log.Info().Str("node", n.name).Str("url", u.String()).Msg("node live")
	} else if unverified {
		b.log.Info().Str("node", n.name).Str("url", u.String()).Msg("node added: unverified, waiting for a health check of its advertised URL")
	} else {
		b.log.Info().Str("node", n.name).Str("url", u.String()).Msg("node added: waiting for a health check")
	}
	b.wg.Go(func() { b.runChecker(ctx, n) })
}

// debugWriter sends net/http's own log lines to zerolog at debug level.
type debugWriter struct{ l zerolog.Logger }

func (d debugWriter) Write(p []byte) (int, error) {
	d.l.Debug().Msg(string(trimNL(p)))
	return len(p), nil
}

func trimNL(p []byte) []byte {
	for len(p) > 0 && (p[len(p)-1] == '\n' || p[len(p)-1] == '\r') {
		p = p[:len(p)-1]
	}
	return p
}

// bufferPool lends ReverseProxy its 32 KiB copy buffers. It pools array
// pointers, so Put does not allocate.
type bufferPool struct{ p sync.Pool }

const copyBufSize = 32 << 10

func newBufferPool() *bufferPool {
	return &bufferPool{p: sync.Pool{New: func() any { return new([copyBufSize]byte) }}}
}

func (p *bufferPool) Get() []byte { return p.p.Get().(*[copyBufSize]byte)[:] }

func (p *bufferPool) Put(b []byte) {
	if cap(b) >= copyBufSize {
		p.p.Put((*[copyBufSize]byte)(b[:copyBufSize]))
	}
}
