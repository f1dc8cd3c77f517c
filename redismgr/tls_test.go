package redismgr

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"testing"

	"github.com/gomcat/gomcat/internal/redistest"
	"github.com/gomcat/gomcat/internal/testkit"
	"github.com/gomcat/gomcat/runtime/session"
)

// TestTLS: against a redis-server serving TLS with a private CA, a
// manager given that CA (RootCAs) stores and loads sessions over
// rediss://; one that trusts only the system's roots gets ErrUnavailable
// (the certificate is refused), never a plaintext fallback.
func TestTLS(t *testing.T) {
	c := testkit.NewCerts(t, net.IPv4(127, 0, 0, 1))
	srv := redistest.Start(t, redistest.Options{TLS: &redistest.TLSFiles{Cert: c.CertPEM, Key: c.KeyPEM}})
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(c.CAPEM) {
		t.Fatal("CA PEM")
	}
	url := fmt.Sprintf("rediss://127.0.0.1:%d", srv.TLSPort)
	m := newManager(t, srv, func(cfg *Config) { cfg.Address, cfg.RootCAs = url, pool })
	id := request(t, m, "", func(s *session.Session) { _ = s.Set("k", "v") }).ID()
	if n, _ := rawClient(t, srv).Exists(context.Background(), m.Key(id)).Result(); n != 1 {
		t.Fatal("the session did not reach the server over TLS")
	}
	// tls="true" with a host:port address and the CA works the same.
	m2 := newManager(t, srv, func(cfg *Config) {
		cfg.Address, cfg.TLS, cfg.RootCAs = fmt.Sprintf("redis://127.0.0.1:%d", srv.TLSPort), true, pool
	})
	if s, err := m2.Load(context.Background(), id); err != nil || s == nil {
		t.Fatalf("load over tls=true: %v %v", s, err)
	}

	untrusted := newManager(t, srv, func(cfg *Config) { cfg.Address = url })
	_, err := untrusted.Load(context.Background(), id)
	// go-redis retries the refused handshake until Timeout, so the error
	// is the deadline; what matters is that nothing was served.
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("load with an unknown CA: %v, want ErrUnavailable", err)
	}
}
