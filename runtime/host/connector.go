package host

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"
)

// ConnectorConfig configures one HTTP connector (Tomcat <Connector>).
type ConnectorConfig struct {
	// Address is the local address to bind; "" = all interfaces.
	Address string
	// Port to listen on; 0 = a free port (see Connector.Addr).
	Port int
	// ConnectionTimeout bounds reading request headers and idle keep-alive
	// connections (Tomcat connectionTimeout). Default: 20s.
	ConnectionTimeout time.Duration
	// KeepAliveTimeout is the idle time between requests on one
	// connection. Default: ConnectionTimeout.
	KeepAliveTimeout time.Duration
	// MaxHeaderBytes bounds request headers. Default: net/http's 1 MiB.
	MaxHeaderBytes int
	// CertFile and KeyFile (PEM) make the connector serve TLS.
	CertFile, KeyFile string
	// MaxThreads caps requests served at once; more wait for a slot while
	// their client waits (Tomcat maxThreads). Default: 200.
	MaxThreads int
	// MaxConnections caps open connections; more wait in the accept backlog
	// (Tomcat maxConnections). -1: no cap. Default: 8192.
	MaxConnections int
	// MaxHeaderCount caps the headers of a request; more are answered 400
	// (Tomcat maxHeaderCount). -1: no cap. Default: 100.
	MaxHeaderCount int
	// UploadTimeout bounds each read of a request body (Tomcat
	// connectionUploadTimeout; with disableUploadTimeout, connectionTimeout).
	// -1: none. Default: ConnectionTimeout.
	UploadTimeout time.Duration
	// MinUploadRate (bytes/s) is the slowest average body rate after a 5 s
	// grace; slower bodies are answered 408. -1: none. Default: 240.
	MinUploadRate int64
	// BodyBuffer: a body whose Content-Length is at most this is read in
	// full before the request takes a MaxThreads slot. -1: none. Default: 64 KiB.
	BodyBuffer int
	// ShutdownGrace bounds how long Stop waits for in-flight requests
	// before closing their connections. Default: 30s.
	ShutdownGrace time.Duration
	// Handler serves the requests (the Engine). Required.
	Handler http.Handler
	// Logger. Default: zerolog.Nop().
	Logger zerolog.Logger
}

// Validate checks the config.
func (c ConnectorConfig) Validate() error {
	if c.Port < 0 || c.Port > 65535 {
		return fmt.Errorf("host: Connector port %d: want 0-65535", c.Port)
	}
	if c.Handler == nil {
		return errors.New("host: Connector needs a Handler")
	}
	return nil
}

// Connector is an http.Server bound to one port. Listen binds it (optional,
// for bind-before-announce); Start binds if needed and serves on one
// goroutine; Stop (idempotent) shuts the server down gracefully and waits
// for that goroutine.
type Connector struct {
	cfg  ConnectorConfig
	log  zerolog.Logger
	srv  *http.Server
	name string
	lim  *limits

	mu      sync.Mutex
	ln      net.Listener // bound by Listen or Start
	serving bool         // Start ran: srv.Serve owns ln
	stopped bool
	wg      sync.WaitGroup
}

// NewConnector validates cfg; it opens nothing.
func NewConnector(cfg ConnectorConfig) (*Connector, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.ConnectionTimeout <= 0 {
		cfg.ConnectionTimeout = 20 * time.Second
	}
	if cfg.MaxThreads <= 0 {
		cfg.MaxThreads = 200
	}
	if cfg.ShutdownGrace <= 0 {
		cfg.ShutdownGrace = 30 * time.Second
	}
	if cfg.KeepAliveTimeout <= 0 {
		cfg.KeepAliveTimeout = cfg.ConnectionTimeout
	}
	c := &Connector{cfg: cfg, name: "http-" + strconv.Itoa(cfg.Port)}
	c.log = cfg.Logger.With().Str("component", "connector").Int("port", cfg.Port).Logger()
	c.lim = newLimits(cfg, c.log)
	c.srv = &http.Server{
		Handler:           c.lim.wrap(limit(cfg.MaxThreads, cfg.Handler)),
		ReadHeaderTimeout: cfg.ConnectionTimeout,
		IdleTimeout:       cfg.KeepAliveTimeout,
		MaxHeaderBytes:    cfg.MaxHeaderBytes,
		ErrorLog:          log.New(warnWriter{c.log}, "", 0),
	}
	return c, nil
}

// Listen binds the port without serving yet, so a node can fail fast on a
// port in use before it announces itself to the cluster; connections
// queue in the backlog until Start. A port in use fails with a
// *ListenError: "Connector port 8091 on 127.0.0.1: address already in use".
// Idempotent.
func (c *Connector) Listen(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.listenLocked(ctx)
}

func (c *Connector) listenLocked(ctx context.Context) error {
	if c.stopped {
		return ErrClosed
	}
	if c.ln != nil {
		return nil
	}
	addr := net.JoinHostPort(c.cfg.Address, strconv.Itoa(c.cfg.Port))
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return &ListenError{Element: "Connector", Addr: addr, Port: c.cfg.Port, Err: err}
	}
	ln = limitListener(ln, c.cfg.MaxConnections)
	if c.cfg.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(c.cfg.CertFile, c.cfg.KeyFile)
		if err != nil {
			ln.Close()
			return fmt.Errorf("Connector port %d: certificate: %w", c.cfg.Port, err)
		}
		c.srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12, NextProtos: []string{"h2", "http/1.1"}}
		ln = tls.NewListener(ln, c.srv.TLSConfig)
	}
	c.ln = ln
	if c.cfg.Port == 0 {
		c.name = "http-" + strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	}
	c.log.Info().Str("addr", ln.Addr().String()).Msgf("Initializing ProtocolHandler [\"%s\"]", c.name)
	return nil
}

// Start binds the port (unless Listen did) and starts serving.
func (c *Connector) Start(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.listenLocked(ctx); err != nil {
		return err
	}
	if c.serving {
		return nil
	}
	c.serving = true
	ln := c.ln
	c.log.Info().Str("addr", ln.Addr().String()).Msgf("Starting ProtocolHandler [\"%s\"]", c.name)
	c.wg.Go(func() {
		if err := c.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			c.log.Error().Err(err).Msg("connector stopped serving")
		}
	})
	return nil
}

// Stats returns the connector's refusal counters.
func (c *Connector) Stats() ConnectorStats {
	return ConnectorStats{SlowBodies: c.lim.slow.Load(), TooManyHeads: c.lim.heads.Load()}
}

// Addr is the bound address, or nil before Start.
func (c *Connector) Addr() net.Addr {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ln == nil {
		return nil
	}
	return c.ln.Addr()
}

// URL is "http://host:port" (https with TLS) of the bound address ("127.0.0.1" for a
// wildcard bind), or "" before Start.
func (c *Connector) URL() string {
	a, ok := c.Addr().(*net.TCPAddr)
	if !ok {
		return ""
	}
	h := a.IP.String()
	if a.IP.IsUnspecified() {
		h = "127.0.0.1"
	}
	scheme := "http://"
	if c.cfg.CertFile != "" {
		scheme = "https://"
	}
	return scheme + net.JoinHostPort(h, strconv.Itoa(a.Port))
}

// Stop stops accepting, lets in-flight requests finish for up to
// ShutdownGrace (or until ctx ends), then closes what is left.
func (c *Connector) Stop(ctx context.Context) error {
	c.mu.Lock()
	if c.stopped {
		c.mu.Unlock()
		return nil
	}
	c.stopped = true
	ln, serving := c.ln, c.serving
	c.mu.Unlock()
	if ln == nil {
		return nil
	}
	if !serving { // bound by Listen only
		return ln.Close()
	}
	c.log.Info().Msgf("Pausing ProtocolHandler [\"%s\"]", c.name)
	sctx, cancel := context.WithTimeout(ctx, c.cfg.ShutdownGrace)
	defer cancel()
	err := c.srv.Shutdown(sctx)
	if err != nil {
		c.log.Warn().Err(err).Dur("grace", c.cfg.ShutdownGrace).Msg("requests still running after the grace period; closing their connections")
		err = c.srv.Close()
	}
	c.wg.Wait()
	c.log.Info().Msgf("Stopping ProtocolHandler [\"%s\"]", c.name)
	return err
}

// limit serves at most n requests at once; the rest wait for a slot or for
// their client to go away.
func limit(n int, next http.Handler) http.Handler {
	sem := make(chan struct{}, n)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case sem <- struct{}{}:
		case <-r.Context().Done():
			return
		}
		defer func() { <-sem }()
		next.ServeHTTP(w, r)
	})
}

type warnWriter struct{ log zerolog.Logger }

func (w warnWriter) Write(p []byte) (int, error) {
	w.log.Warn().Msg(strings.TrimSpace(string(p)))
	return len(p), nil
}
