package transport

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"sync"
	"testing"
	"time"
)

func TestArenaReuse(t *testing.T) {
	var a arena
	b1, c1, off1 := a.reserve(100)
	b2, c2, off2 := a.reserve(50)
	if c1 == nil || c1 != c2 || off1 != 0 || off2 != 100 || cap(b1) != 100 || cap(b2) != 50 {
		t.Fatalf("reserve: %v %v %d %d", c1, c2, off1, off2)
	}
	// A frame cannot grow into its neighbour.
	if b1 = append(b1, make([]byte, 101)...); c1.data[100] != 0 {
		t.Fatal("append wrote into the next frame")
	}
	big, cb, _ := a.reserve(maxChunkFrame + 1)
	if cb != nil || cap(big) != maxChunkFrame+1 {
		t.Fatal("a large frame came from a chunk")
	}
	a.release(c1)
	a.release(c2)
	// Every frame of the tail was released: the next one starts over.
	_, c3, off3 := a.reserve(10)
	if c3 != c1 || off3 != 0 {
		t.Fatalf("tail not reused: %v %d", c3 == c1, off3)
	}
	// Filling the tail retires it; released, it becomes a spare.
	held := []*chunk{c3}
	for range chunkSize / 1000 * 3 {
		_, c, _ := a.reserve(1000)
		held = append(held, c)
	}
	for _, c := range held {
		a.release(c)
	}
	if a.spare() == 0 {
		t.Fatal("no spare chunk after releasing a retired one")
	}
	a.trim()
	if a.spare() != 0 {
		t.Fatal("trim kept spares")
	}
	a.close()
	if _, c, _ := a.reserve(10); c == nil {
		t.Fatal("closed arena refused a frame")
	}
}

func TestGatherMergesAdjacentFrames(t *testing.T) {
	var a arena
	var items []*item
	for _, n := range []int{10, 20, maxChunkFrame + 1, 30, 40} {
		b, c, off := a.reserve(n)
		items = append(items, &item{buf: b[:n], ck: c, off: off})
	}
	iov := gather(nil, items)
	if len(iov) != 3 || len(iov[0]) != 30 || len(iov[1]) != maxChunkFrame+1 || len(iov[2]) != 70 {
		lens := []int{}
		for _, b := range iov {
			lens = append(lens, len(b))
		}
		t.Fatalf("iovecs %v", lens)
	}
	// Skipping a frame (a cancelled one) splits the run.
	if iov = gather(nil, []*item{items[0], items[3], items[4]}); len(iov) != 2 {
		t.Fatalf("%d iovecs, want 2", len(iov))
	}
}

// Borrowed payloads are valid during the handler; the bytes are right
// with and without sealing, and across frames that straddle reads.
func TestBorrowPayload(t *testing.T) {
	for _, key := range [][]byte{nil, bytes.Repeat([]byte{3}, 32)} {
		t.Run(fmt.Sprintf("key=%v", key != nil), func(t *testing.T) {
			c := testConfig(t)
			c.Key = key
			c.BorrowPayload = true
			// 60 messages of up to 2 MiB, each byte checked by the handler:
			// seconds of work under -race on a loaded machine. The deadlines
			// only bound a hang; the test is about the bytes.
			c.Timeout = 30 * time.Second
			var mu sync.Mutex
			var got []string
			r := startReceiver(t, c, HandlerFunc(func(_ context.Context, _ Peer, m *Message) error {
				n := binary.BigEndian.Uint64(m.Payload)
				for i, b := range m.Payload[8:] {
					if b != byte(n+uint64(i)) {
						return fmt.Errorf("message %d: byte %d is %d", n, i, b)
					}
				}
				mu.Lock()
				got = append(got, fmt.Sprint(n, ":", len(m.Payload)))
				mu.Unlock()
				return nil
			}))
			s := newSender(t, c)
			addr := r.Addr().String()
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			var want []string
			sizes := []int{8, 1000, 70000, 300 << 10, 9, 2 << 20, 100}
			for i := range 60 {
				sz := sizes[i%len(sizes)]
				p := make([]byte, sz)
				binary.BigEndian.PutUint64(p, uint64(i))
				for j := range p[8:] {
					p[8+j] = byte(uint64(i) + uint64(j))
				}
				opts := OptAsync
				if i%10 == 9 {
					opts = OptUseAck | OptSync
				}
				if err := s.Send(ctx, addr, Message{Options: opts, Payload: p}); err != nil {
					t.Fatal(err)
				}
				want = append(want, fmt.Sprint(i, ":", sz))
			}
			if err := s.Ping(ctx, addr); err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			defer mu.Unlock()
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("got %v\nwant %v", got, want)
			}
			if st := r.Stats(); st.HandlerErrors != 0 {
				t.Fatalf("stats %+v", st)
			}
		})
	}
}

// Concurrent sync callers (which may write their own frames) and async
// ones keep each caller's order and never interleave bytes on the wire.
func TestMixedModesConcurrent(t *testing.T) {
	c := testConfig(t)
	var mu sync.Mutex
	last := map[byte]uint64{}
	var bad error
	r := startReceiver(t, c, HandlerFunc(func(_ context.Context, _ Peer, m *Message) error {
		w, n := m.Payload[0], binary.BigEndian.Uint64(m.Payload[1:])
		mu.Lock()
		defer mu.Unlock()
		if n != last[w]+1 && bad == nil {
			bad = fmt.Errorf("caller %d: %d after %d", w, n, last[w])
		}
		last[w] = n
		return nil
	}))
	s := newSender(t, c)
	addr := r.Addr().String()
	ctx := ctxT(t)
	const callers, each = 6, 300
	var wg sync.WaitGroup
	for w := range callers {
		wg.Go(func() {
			opts := []int{OptAsync, OptUseAck, OptUseAck | OptSync}[w%3]
			for n := uint64(1); n <= each; n++ {
				p := make([]byte, 9+int(n%7)*100)
				p[0] = byte(w)
				binary.BigEndian.PutUint64(p[1:], n)
				if err := s.Send(ctx, addr, Message{Options: opts, Payload: p}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err := s.Ping(ctx, addr); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if bad != nil {
		t.Fatal(bad)
	}
	for w := range callers {
		if last[byte(w)] != each {
			t.Fatalf("caller %d: last %d", w, last[byte(w)])
		}
	}
}
