package transport

import (
	"bytes"
	"context"
	"errors"
	"net"
	"testing"
	"time"
)

func TestGreet(t *testing.T) {
	key := bytes.Repeat([]byte{7}, 32)
	c := testConfig(t)
	c.Key = key
	r := startReceiver(t, c, HandlerFunc(func(context.Context, Peer, *Message) error { return nil }))
	ctx := context.Background()
	if err := Greet(ctx, r.Addr().String(), key, nil, 2*time.Second); err != nil {
		t.Fatalf("same key: %v", err)
	}
	if err := Greet(ctx, r.Addr().String(), bytes.Repeat([]byte{8}, 32), nil, 2*time.Second); err == nil {
		t.Fatal("another key: no error")
	}
	if err := Greet(ctx, r.Addr().String(), nil, nil, time.Second); !errors.Is(err, ErrNoKey) {
		t.Fatalf("no key: %v", err)
	}
	// A TCP service that is not a Gomcat receiver: it says nothing, or
	// something else.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Write([]byte("SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n"))
			defer c.Close()
		}
	}()
	if err := Greet(ctx, l.Addr().String(), key, nil, 500*time.Millisecond); err == nil {
		t.Fatal("an ssh server passed as a receiver")
	}
}
