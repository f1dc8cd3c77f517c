package balancer

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync"
)

// pins are one client connection's connections to nodes: a node connection
// serves the requests of a single client connection, so whatever a node
// sends outside its responses that the framer cannot tell apart (bytes that
// arrive just after the next request was written) reaches, at worst, the
// client whose request caused it — never another user (HAProxy's
// "http-reuse never"). A node therefore has at most one connection per open
// client connection (Config.MaxConnections). The connections come from the
// node's http.Transport (Transport.NewClientConn): same dialer, guard,
// timeouts and header cap as its pool, which still serves upgrades and
// requests that reach Handler without the balancer's own server.
type pins struct {
	mu     sync.Mutex
	conns  []pin
	closed bool
}

type pin struct {
	n    *node
	cc   *http.ClientConn
	used bool
}

type pinsKey struct{}

// connContext gives each client connection its pins (http.Server.ConnContext).
func (b *Balancer) connContext(ctx context.Context, c net.Conn) context.Context {
	p := &pins{}
	b.pinsByConn.Store(c, p)
	return context.WithValue(ctx, pinsKey{}, p)
}

// connState closes a client connection's node connections with it.
func (b *Balancer) connState(c net.Conn, st http.ConnState) {
	if st == http.StateClosed || st == http.StateHijacked {
		if p, ok := b.pinsByConn.LoadAndDelete(c); ok {
			p.(*pins).close()
		}
	}
}

// get returns the client connection's connection to n (reused: it served a
// request before), dialing one if there is none.
func (p *pins) get(ctx context.Context, n *node) (cc *http.ClientConn, reused bool, err error) {
	p.mu.Lock()
	for i := range p.conns {
		if pn := &p.conns[i]; pn.n == n {
			if pn.cc.Err() == nil && pn.cc.Available() > 0 {
				cc, reused = pn.cc, pn.used
				pn.used = true
				p.mu.Unlock()
				return cc, reused, nil
			}
			_ = pn.cc.Close()
			p.conns = append(p.conns[:i], p.conns[i+1:]...)
			break
		}
	}
	closed := p.closed
	p.mu.Unlock()
	if closed {
		return nil, false, errClientGone
	}
	cc, err = n.pinned.NewClientConn(ctx, "http", n.url.Host)
	if err != nil {
		return nil, false, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		_ = cc.Close()
		return nil, false, errClientGone
	}
	p.conns = append(p.conns, pin{n: n, cc: cc, used: true})
	return cc, false, nil
}

// drop closes cc (it failed) and forgets it.
func (p *pins) drop(n *node, cc *http.ClientConn) {
	_ = cc.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := range p.conns {
		if p.conns[i].cc == cc {
			p.conns = append(p.conns[:i], p.conns[i+1:]...)
			return
		}
	}
}

func (p *pins) close() {
	p.mu.Lock()
	conns := p.conns
	p.conns, p.closed = nil, true
	p.mu.Unlock()
	for _, pn := range conns {
		_ = pn.cc.Close()
	}
}

var errClientGone = errors.New("balancer: client connection closed")

// send makes one attempt of req on n: over the client connection's pinned
// connection when there is one, else over n's pool. A pinned connection
// that the node closed while it sat idle is replaced once, when nothing of
// the request can have been consumed.
func (b *Balancer) send(n *node, req *http.Request, body *sharedBody) (*http.Response, error) {
	p, _ := req.Context().Value(pinsKey{}).(*pins)
	if p == nil || req.Header["Upgrade"] != nil {
		return n.transport.RoundTrip(req)
	}
	for try := 0; ; try++ {
		cc, reused, err := p.get(req.Context(), n)
		if err != nil {
			return nil, err
		}
		resp, err := cc.RoundTrip(req)
		if err == nil {
			return resp, nil
		}
		p.drop(n, cc)
		if !reused || try > 0 || req.Context().Err() != nil || (body != nil && body.started.Load()) {
			return nil, err
		}
		if !errors.Is(err, errClosedIdle) && !idempotent(req.Method) {
			return nil, err
		}
	}
}

func idempotent(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return true
	}
	return false
}
