package balancer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"syscall"
	"time"
)

// reqInfo travels in the request context from ServeHTTP to roundTrip when
// the access log is on: roundTrip records where the request went.
type reqInfo struct {
	node  string // node that answered
	tries int
}

type infoKey struct{}

// transport is the RoundTripper given to httputil.ReverseProxy: it picks the
// node for each attempt and retries once on another node.
type transport struct{ b *Balancer }

func (t transport) RoundTrip(out *http.Request) (*http.Response, error) {
	return t.b.roundTrip(out)
}

// roundTrip sends out to a node. When the attempt fails before a response and
// the request may be replayed (see retryable), it is sent once more to
// another live node. The response body keeps the node's outstanding count
// until it is closed.
func (b *Balancer) roundTrip(out *http.Request) (*http.Response, error) {
	var info *reqInfo
	if b.cfg.AccessLog {
		info, _ = out.Context().Value(infoKey{}).(*reqInfo)
	}
	// The proxy passes Cookie and the path through, so the routes are read here.
	var buf [2]string
	var routes []string
	if !b.cfg.NonSticky {
		routes = sessionRoutes(buf[:0], out, b.cfg.CookieName, b.cfg.PathParam)
	}
	var body *sharedBody
	if out.Body != nil && out.Body != http.NoBody {
		body = &sharedBody{rc: out.Body}
	}
	var (
		prev    *node
		lastErr error
	)
	for attempt := 0; attempt < 2; attempt++ {
		n, routed := b.pool.pick(routes, prev)
		if n == nil {
			if lastErr != nil {
				return nil, lastErr
			}
			b.st.noLiveNode.Add(1)
			return nil, ErrNoLiveNode
		}
		if attempt > 0 {
			b.st.retries.Add(1)
		}
		switch {
		case prev != nil:
			prev.failovers.Add(1)
			b.log.Warn().Str("from", prev.name).Str("to", n.name).Err(lastErr).
				Msg("failover: route " + prev.name + " → " + n.name)
		case !routed && len(routes) > 0:
			b.stickyMiss(routes, n)
		}
		if info != nil {
			info.node, info.tries = n.name, attempt+1
		}
		if !n.acquire(out.Context(), b.cfg.QueueTimeout) {
			if out.Context().Err() != nil {
				return nil, out.Context().Err()
			}
			n.busy.Add(1)
			b.busyLog(n)
			return nil, fmt.Errorf("%w: %s has %d requests in flight", ErrNodeBusy, n.name, b.cfg.MaxConnsPerNode)
		}
		n.outstanding.Add(1)
		n.requests.Add(1)

		// out is the proxy's own copy: the first attempt uses it as is; a
		// retry gets a fresh shallow copy, since the failed attempt's
		// transport goroutines may still look at theirs.
		req := out
		if attempt > 0 {
			req = out.WithContext(out.Context())
			u := *out.URL
			req.URL = &u
		}
		req.URL.Scheme, req.URL.Host = n.url.Scheme, n.url.Host
		if body != nil {
			req.Body = &attemptBody{s: body, id: int32(attempt)}
		}
		start := time.Now()
		resp, err := b.send(n, req, body)
		if err == nil {
			n.st.observe(resp.StatusCode, time.Since(start))
			if b.cfg.LearnRoutes {
				b.learnRoute(n, resp.Header)
			}
			resp.Body = doneBody(resp.Body, n)
			return resp, nil
		}
		n.outstanding.Add(-1)
		n.release()
		n.failures.Add(1)
		lastErr = err
		if out.Context().Err() != nil {
			return nil, err // the client went away; not the node's fault
		}
		if connFailure(err) {
			b.markFailed(n, err)
		}
		if !retryable(out.Method, err, body) {
			return nil, err
		}
		prev = n
	}
	return nil, lastErr
}

// stickyMiss logs a request whose session route names a known node that is
// not live, now served by n.
func (b *Balancer) stickyMiss(routes []string, n *node) {
	for _, rt := range routes {
		if want := b.pool.get(rt); want != nil {
			want.failovers.Add(1)
			b.log.Info().Str("route", rt).Str("to", n.name).
				Msg("failover: route " + rt + " → " + n.name)
			return
		}
	}
}

// retryable reports whether a failed attempt may be sent to another node:
// the body (if any) must be untouched, and then either nothing reached the
// node (connect failed), or the method is idempotent (GET, HEAD, OPTIONS), or
// the request has a body the node never got (so it cannot have acted on it).
func retryable(method string, err error, body *sharedBody) bool {
	if body != nil && !body.handOff() {
		return false
	}
	if dialFailure(err) {
		return true
	}
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return true
	}
	return body != nil
}

func dialFailure(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// connFailure reports errors that say the node's listener is gone: they
// take the node down at once (passive health). A reset or EOF on an
// established connection does not (a keep-alive connection the node closed
// as we reused it looks the same); the next connect to a dead node fails.
func connFailure(err error) bool {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return false
	}
	return dialFailure(err) || errors.Is(err, syscall.ECONNREFUSED)
}

// sharedBody is the client's request body shared by the attempts of one
// request. Only the newest attempt may read; once any attempt started
// reading, no retry is possible. The net/http server closes the client body
// when the handler returns, so attempts never close it.
type sharedBody struct {
	rc      io.ReadCloser
	owner   atomic.Int32 // attempt allowed to read
	started atomic.Bool  // some attempt called Read
}

// handOff moves the body to the next attempt and reports whether it is
// still untouched. (started is set before owner is checked in Read, and
// owner is changed before started is checked here, so a late Read of the old
// attempt either fails or makes handOff report false.)
func (s *sharedBody) handOff() bool {
	s.owner.Add(1)
	return !s.started.Load()
}

type attemptBody struct {
	s  *sharedBody
	id int32
}

func (a *attemptBody) Read(p []byte) (int, error) {
	a.s.started.Store(true)
	if a.s.owner.Load() != a.id {
		return 0, errBodyTaken
	}
	return a.s.rc.Read(p)
}

func (a *attemptBody) Close() error { return nil }

// doneBody wraps a response body so that closing it ends the node's
// outstanding request. Upgraded (101) bodies stay io.ReadWriteCloser.
func doneBody(rc io.ReadCloser, n *node) io.ReadCloser {
	d := &respBody{ReadCloser: rc, n: n}
	if rwc, ok := rc.(io.ReadWriteCloser); ok {
		return &rwcBody{respBody: d, w: rwc}
	}
	return d
}

type respBody struct {
	io.ReadCloser
	n    *node
	done atomic.Bool
}

func (r *respBody) Close() error {
	err := r.ReadCloser.Close() // first: the connection goes back idle for the next slot holder
	if r.done.CompareAndSwap(false, true) {
		r.n.outstanding.Add(-1)
		r.n.release()
	}
	return err
}

type rwcBody struct {
	*respBody
	w io.Writer
}

func (r *rwcBody) Write(p []byte) (int, error) { return r.w.Write(p) }

// proxyError answers a request no node could serve: 503 when no node was
// live, 504 on a node timeout, 502 otherwise.
func (b *Balancer) proxyError(w http.ResponseWriter, r *http.Request, err error) {
	code := http.StatusBadGateway
	var ne net.Error
	switch {
	case errors.Is(err, ErrNoLiveNode), errors.Is(err, ErrNodeBusy):
		code = http.StatusServiceUnavailable
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		code = http.StatusGatewayTimeout
	}
	if r.Context().Err() == nil {
		b.log.Debug().Err(err).Str("method", r.Method).Str("path", r.URL.Path).Int("status", code).Msg("proxy error")
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(code)
	_, _ = io.WriteString(w, http.StatusText(code)+"\n")
}
