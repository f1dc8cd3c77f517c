package transport

import (
	"bufio"
	"context"
	"io"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// testConfig is DefaultLocalConfig with test logging and a short timeout.
func testConfig(t *testing.T) Config {
	t.Helper()
	c := DefaultLocalConfig()
	c.Timeout = 2 * time.Second
	c.Logger = zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.InfoLevel)
	c.Self = Peer{Name: "node1"}
	return c
}

// startReceiver starts a receiver with h; it is stopped at cleanup.
func startReceiver(t *testing.T, c Config, h Handler) *Receiver {
	t.Helper()
	r, err := NewReceiver(c, h)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := r.Stop(ctx); err != nil {
			t.Error(err)
		}
	})
	return r
}

// newSender returns a sender stopped at cleanup.
func newSender(t *testing.T, c Config) *Sender {
	t.Helper()
	s, err := NewSender(c)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.Stop(ctx); err != nil {
			t.Error(err)
		}
	})
	return s
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func bufioReader(r io.Reader) *bufio.Reader { return bufio.NewReader(r) }
