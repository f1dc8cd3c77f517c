package node

import (
	"context"
	"errors"
	"io"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/gomcat/gomcat/runtime/host"
)

// maxCommand is how much the shutdown port reads per connection (Tomcat
// reads at most 1024 characters).
const maxCommand = 1024

// shutdownPort is Tomcat's Server port: a TCP listener on loopback that
// stops the node when a connection sends the configured command. Anything
// else is logged and ignored. One connection is handled at a time, each
// with a read deadline. The connection of a valid command stays open until
// the node has stopped ("stopped\n", then close; or the process exit
// closes it), so the sender can wait for the stop. Bound by listen (before
// the node announces itself), accepting from serve until stop.
type shutdownPort struct {
	addr    string
	port    int
	command string
	timeout time.Duration
	log     zerolog.Logger
	fire    func(net.Conn) // a valid command arrived on this connection (now the node's)

	mu   sync.Mutex // guards ln
	ln   net.Listener
	once sync.Once
	wg   sync.WaitGroup
}

// loopbackAddr maps the Server address to a loopback IP, or fails: the
// shutdown port must never be reachable from the network.
func loopbackAddr(a string) (string, error) {
	switch a {
	case "", "localhost":
		return "127.0.0.1", nil
	}
	ip := net.ParseIP(a)
	if ip == nil || !ip.IsLoopback() {
		return "", errors.New("Server address " + strconv.Quote(a) + ": the shutdown port listens on a loopback address only (127.0.0.1)")
	}
	return ip.String(), nil
}

// listen binds the port (before the node announces itself); connections
// wait in the backlog until serve.
func (s *shutdownPort) listen(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln != nil {
		return nil
	}
	var lc net.ListenConfig
	addr := net.JoinHostPort(s.addr, strconv.Itoa(s.port))
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return &host.ListenError{Element: "Server", Addr: addr, Port: s.port, Err: err}
	}
	s.ln = ln
	return nil
}

// serve binds the port unless listen did, and starts accepting commands.
func (s *shutdownPort) serve(ctx context.Context) error {
	if err := s.listen(ctx); err != nil {
		return err
	}
	s.mu.Lock()
	ln := s.ln
	s.mu.Unlock()
	s.log.Info().Str("addr", ln.Addr().String()).Msg("shutdown port listening")
	s.wg.Go(func() { s.accept(ln) })
	return nil
}

func (s *shutdownPort) accept(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				s.log.Error().Err(err).Msg("shutdown port accept failed; port closed")
			}
			return
		}
		if s.handle(c) {
			s.log.Info().Msg("A valid shutdown command was received via the shutdown port. Stopping the Server instance.")
			s.fire(c)
		} else {
			c.Close()
		}
	}
}

// handle reads one command: up to maxCommand bytes, ending at EOF, a
// control character (newline) or the deadline. The caller closes c, or
// keeps it after a valid command: `gomcat stop` reads it until the node
// has stopped (see Node.Stop).
func (s *shutdownPort) handle(c net.Conn) bool {
	_ = c.SetReadDeadline(time.Now().Add(s.timeout))
	buf := make([]byte, 0, 64)
	chunk := make([]byte, 256)
	for len(buf) < maxCommand {
		n, err := c.Read(chunk[:min(len(chunk), maxCommand-len(buf))])
		end := -1
		for i, b := range chunk[:n] {
			if b < 32 || b == 127 {
				end = i
				break
			}
		}
		if end >= 0 {
			buf = append(buf, chunk[:end]...)
			break
		}
		buf = append(buf, chunk[:n]...)
		if err != nil {
			if !errors.Is(err, io.EOF) {
				s.log.Warn().Err(err).Str("remote", c.RemoteAddr().String()).Msg("shutdown port: read failed")
				return false
			}
			break
		}
	}
	if string(buf) == s.command {
		_ = c.SetReadDeadline(time.Time{})
		return true
	}
	shown := string(buf)
	if len(shown) > 64 {
		shown = shown[:64] + "…"
	}
	s.log.Warn().Str("remote", c.RemoteAddr().String()).Int("bytes", len(buf)).
		Msgf("Invalid shutdown command [%s] received", strconv.Quote(shown))
	return false
}

// Addr is the bound address (nil before start or when disabled).
func (s *shutdownPort) Addr() net.Addr {
	if s == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return nil
	}
	return s.ln.Addr()
}

func (s *shutdownPort) stop() {
	s.once.Do(func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.ln != nil {
			s.ln.Close()
		}
	})
	s.wg.Wait()
}
