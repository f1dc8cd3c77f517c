package transport

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
)

func TestRoundTripModes(t *testing.T) {
	for _, key := range [][]byte{nil, bytes.Repeat([]byte{7}, 32)} {
		t.Run(fmt.Sprintf("key=%v", key != nil), func(t *testing.T) {
			c := testConfig(t)
			c.Key = key
			var mu sync.Mutex
			var got []string
			var from Peer
			r := startReceiver(t, c, HandlerFunc(func(_ context.Context, p Peer, m *Message) error {
				mu.Lock()
				defer mu.Unlock()
				from = p
				got = append(got, fmt.Sprintf("%d:%s", m.Channel, m.Payload))
				if string(m.Payload) == "fail" {
					return errors.New("boom")
				}
				return nil
			}))
			s := newSender(t, c)
			addr := r.Addr().String()
			ctx := ctxT(t)
			if err := s.Send(ctx, addr, Message{Channel: ChannelSessions, Options: OptAsync, Payload: []byte("a")}); err != nil {
				t.Fatal(err)
			}
			if err := s.Send(ctx, addr, Message{Channel: ChannelFarm, Options: OptUseAck, Payload: []byte("b")}); err != nil {
				t.Fatal(err)
			}
			if err := s.Send(ctx, addr, Message{Channel: ChannelProbe, Options: OptUseAck | OptSync, Payload: []byte("c")}); err != nil {
				t.Fatal(err)
			}
			err := s.Send(ctx, addr, Message{Channel: ChannelSessions, Options: OptUseAck | OptSync, Payload: []byte("fail")})
			var re *RemoteError
			if !errors.As(err, &re) || re.Text != "boom" {
				t.Fatalf("fail-ack: got %v", err)
			}
			if err := s.Ping(ctx, addr); err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			defer mu.Unlock()
			want := []string{"1:a", "2:b", "3:c", "1:fail"}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("got %v, want %v", got, want)
			}
			if from.Name != "node1" || from.UniqueID == ([16]byte{}) {
				t.Fatalf("peer %+v", from)
			}
			st := s.Stats()
			if len(st) != 1 || st[0].QueuedMessages != 0 || st[0].Acked != 5 {
				t.Fatalf("stats %+v", st)
			}
		})
	}
}
