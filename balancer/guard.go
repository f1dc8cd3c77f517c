package balancer

import (
	"errors"
	"net"
	"sync"
	"sync/atomic"
)

// guardConn is a node connection as http.Transport sees it. It lets the
// Transport read only the bytes of the response to the request it wrote (see
// framer): bytes the node sends while no request is in flight, or after the
// end of a response, fail the connection (the Transport then closes it, and
// a request that was about to reuse it fails before it is written, so it is
// retried on a fresh connection). A connection that failed is never reused.
//
// Read and Write are called from the Transport's reader and writer
// goroutines; mu guards the framer between them, never across socket I/O.
type guardConn struct {
	net.Conn
	onDesync func(error) // counts and logs; called at most once

	mu   sync.Mutex
	fr   framer
	err  error // sticky: every later Read and Write fails
	peek *peeker

	once   sync.Once
	closed atomic.Bool
}

// errClosedIdle: the node closed the connection while it was idle.
var errClosedIdle = errors.New("balancer: node closed an idle connection")

type pendingState uint8

const (
	pendingNone pendingState = iota
	pendingData
	pendingEOF
)

func newGuardConn(nc net.Conn, headLimit int, onDesync func(error)) *guardConn {
	return &guardConn{Conn: nc, fr: newFramer(headLimit), onDesync: onDesync, peek: newPeeker(nc)}
}

func (g *guardConn) fail(err error) error {
	if g.err == nil {
		g.err = err
		if g.onDesync != nil && !g.closed.Load() {
			g.once.Do(func() { g.onDesync(err) })
		}
	}
	return g.err
}

func (g *guardConn) Read(p []byte) (int, error) {
	g.mu.Lock()
	if g.err != nil {
		err := g.err
		g.mu.Unlock()
		return 0, err
	}
	pass := g.fr.passthrough()
	g.mu.Unlock()
	n, rerr := g.Conn.Read(p)
	if pass || n == 0 {
		return n, rerr
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.fr.idle() {
		return 0, g.fail(errDesync)
	}
	k, ferr := g.fr.feed(p[:n])
	switch {
	case ferr != nil:
		// The bytes before the bad one are handed on; the next Read fails.
		err := g.fail(ferr)
		if k == 0 {
			return 0, err
		}
		return k, nil
	case k < n:
		g.fail(errDesync) // the response ended: the rest is not the node's to send
		return k, nil
	}
	return n, rerr
}

func (g *guardConn) Write(p []byte) (int, error) {
	g.mu.Lock()
	if g.err != nil {
		err := g.err
		g.mu.Unlock()
		return 0, err
	}
	if g.fr.idle() {
		// Bytes the node sent since its last response that the reader has
		// not met yet are still in the socket: look before writing.
		switch g.peek.pending() {
		case pendingData:
			err := g.fail(errDesync)
			g.mu.Unlock()
			return 0, err
		case pendingEOF: // closed by the node while idle: nothing was written, the Transport retries
			g.err = errClosedIdle
			g.mu.Unlock()
			return 0, errClosedIdle
		}
		if err := g.fr.request(p); err != nil {
			err = g.fail(err)
			g.mu.Unlock()
			return 0, err
		}
	} else if g.fr.st == stUntilClose {
		// the body ends with the connection: no second request on it
		err := g.fail(errDesync)
		g.mu.Unlock()
		return 0, err
	}
	g.mu.Unlock()
	return g.Conn.Write(p)
}

func (g *guardConn) Close() error {
	g.closed.Store(true)
	return g.Conn.Close()
}

// CloseWrite half-closes a tunnelled (101) connection, as net/http's
// upgraded response bodies offer.
func (g *guardConn) CloseWrite() error {
	if cw, ok := g.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}
