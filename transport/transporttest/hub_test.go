package transporttest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gomcat/gomcat/internal/testkit"
)

// recorder collects delivered messages.
type recorder struct {
	mu  sync.Mutex
	got []string
	err error // returned by deliver
}

func (r *recorder) deliver(_ context.Context, from string, msg []byte) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, from+":"+string(msg))
	return r.err
}

func (r *recorder) list() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got)
}

func newHub(t *testing.T, seed int64) *Hub {
	h := NewHub(seed)
	t.Cleanup(h.Close)
	return h
}

func TestMembersSeniors(t *testing.T) {
	h := newHub(t, 1)
	nop := func(context.Context, string, []byte) error { return nil }
	a := h.Join("a", nop)
	b := h.Join("b", nop)
	c := h.Join("c", nop)
	if got := fmt.Sprint(a.Members(), b.Members(), c.Members()); got != "[b c] [a c] [a b]" {
		t.Fatalf("members %s", got)
	}
	if got := fmt.Sprint(a.Seniors(), b.Seniors(), c.Seniors()); got != "[] [a] [a b]" {
		t.Fatalf("seniors %s", got)
	}
	if a.Self() != "a" {
		t.Fatal(a.Self())
	}
	h.Leave("a")
	a2 := h.Join("a", nop) // restarted: now the youngest
	if got := fmt.Sprint(a2.Seniors(), c.Seniors()); got != "[b c] [b]" {
		t.Fatalf("after rejoin %s", got)
	}
	if err := a.Send(context.Background(), "b", nil, 6); !errors.Is(err, ErrClosed) {
		t.Fatalf("send from left port: %v", err)
	}
}

func TestSendModes(t *testing.T) {
	h := newHub(t, 1)
	ra, rb := &recorder{}, &recorder{err: errors.New("rejected")}
	a := h.Join("a", ra.deliver)
	h.Join("b", rb.deliver)
	ctx := context.Background()
	if err := a.Send(ctx, "b", []byte("sync"), 6); err == nil || err.Error() != "rejected" {
		t.Fatalf("sync: got %v, want deliver's error", err)
	}
	if err := a.Send(ctx, "b", []byte("ack"), 2); err != nil {
		t.Fatalf("use_ack: %v", err)
	}
	if err := a.Send(ctx, "b", []byte("async"), 8); err != nil {
		t.Fatalf("async: %v", err)
	}
	testkit.WaitFor(t, "async delivery", func() bool { return len(rb.list()) == 3 })
	if got := fmt.Sprint(rb.list()); got != "[a:sync a:ack a:async]" {
		t.Fatalf("got %s", got)
	}
	for _, to := range []string{"zz", "a"} {
		if err := a.Send(ctx, to, nil, 8); !errors.Is(err, ErrUnknownMember) {
			t.Fatalf("send to %s: %v", to, err)
		}
	}
}

func TestFIFOWithDelays(t *testing.T) {
	h := newHub(t, 7)
	h.SetDelay(0, 2*time.Millisecond)
	r := &recorder{}
	h.Join("dst", r.deliver)
	const senders, n = 3, 300
	var wg sync.WaitGroup
	for i := range senders {
		p := h.Join("s"+strconv.Itoa(i), func(context.Context, string, []byte) error { return nil })
		wg.Go(func() {
			for j := range n {
				opts := 8
				if j%50 == 0 {
					opts = 6
				}
				if err := p.Send(context.Background(), "dst", []byte(strconv.Itoa(j)), opts); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	testkit.WaitFor(t, "all delivered", func() bool { return len(r.list()) == senders*n })
	next := map[string]int{}
	for _, m := range r.list() {
		from, num, _ := strings.Cut(m, ":")
		if got, _ := strconv.Atoi(num); got != next[from] {
			t.Fatalf("from %s: got %d, want %d", from, got, next[from])
		}
		next[from]++
	}
}

func TestPartitionHeal(t *testing.T) {
	h := newHub(t, 1)
	ra, rb, rc := &recorder{}, &recorder{}, &recorder{}
	a := h.Join("a", ra.deliver)
	b := h.Join("b", rb.deliver)
	h.Join("c", rc.deliver)
	h.Partition([]string{"a"}, []string{"b"})
	if got := fmt.Sprint(a.Members(), b.Members()); got != "[c] [c]" {
		t.Fatalf("members during partition %s", got)
	}
	ctx := context.Background()
	if err := a.Send(ctx, "b", []byte("x"), 6); !errors.Is(err, ErrUnreachable) {
		t.Fatalf("sync across partition: %v", err)
	}
	if err := a.Send(ctx, "b", []byte("lost"), 8); err != nil {
		t.Fatalf("async across partition: %v", err)
	}
	if err := a.Broadcast(ctx, []byte("bc"), 6); err != nil {
		t.Fatalf("broadcast reaches the reachable: %v", err)
	}
	h.Heal()
	if err := a.Send(ctx, "b", []byte("after"), 6); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(rb.list(), rc.list()); got != "[a:after] [a:bc]" {
		t.Fatalf("got %s", got)
	}
}

func TestDropIsSeeded(t *testing.T) {
	run := func(seed int64) (string, int) {
		h := NewHub(seed)
		defer h.Close()
		r := &recorder{}
		a := h.Join("a", func(context.Context, string, []byte) error { return nil })
		h.Join("b", r.deliver)
		h.SetDrop(0.3)
		var failed int
		for i := range 200 {
			opts := 8
			if i%2 == 0 {
				opts = 6
			}
			if err := a.Send(context.Background(), "b", []byte(strconv.Itoa(i)), opts); err != nil {
				if !errors.Is(err, ErrDropped) {
					panic(err)
				}
				failed++
			}
		}
		h.SetDrop(0)
		if err := a.Send(context.Background(), "b", []byte("end"), 6); err != nil { // flushes the async ones
			panic(err)
		}
		return fmt.Sprint(r.list()), failed
	}
	got1, f1 := run(42)
	got2, f2 := run(42)
	if got1 != got2 || f1 != f2 {
		t.Fatal("same seed, different drops")
	}
	if f1 == 0 || f1 == 100 {
		t.Fatalf("drop 0.3 failed %d of 100 sync sends", f1)
	}
}

func TestBroadcastJoinsErrors(t *testing.T) {
	h := newHub(t, 1)
	a := h.Join("a", func(context.Context, string, []byte) error { return nil })
	h.Join("b", func(context.Context, string, []byte) error { return errors.New("b failed") })
	h.Join("c", func(context.Context, string, []byte) error { return errors.New("c failed") })
	err := a.Broadcast(context.Background(), []byte("x"), 6)
	if err == nil || !strings.Contains(err.Error(), "b failed") || !strings.Contains(err.Error(), "c failed") {
		t.Fatalf("got %v", err)
	}
}

func TestDeliverMaySend(t *testing.T) {
	h := newHub(t, 1)
	r := &recorder{}
	a := h.Join("a", r.deliver)
	var b *Port
	b = h.Join("b", func(ctx context.Context, from string, msg []byte) error {
		// reply from inside Deliver, as a state transfer does
		return b.Send(ctx, from, append([]byte("re:"), msg...), 6)
	})
	if err := a.Send(context.Background(), "b", []byte("get"), 6); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(r.list()); got != "[b:re:get]" {
		t.Fatalf("got %s", got)
	}
}

func TestLeaveAndClose(t *testing.T) {
	h := NewHub(1)
	entered := make(chan struct{})
	a := h.Join("a", func(context.Context, string, []byte) error { return nil })
	h.Join("b", func(ctx context.Context, _ string, _ []byte) error {
		close(entered)
		<-ctx.Done() // blocks until b leaves
		return ctx.Err()
	})
	errc := make(chan error, 1)
	go func() { errc <- a.Send(context.Background(), "b", []byte("x"), 6) }()
	<-entered
	h.Leave("b")
	if err := <-errc; err == nil {
		t.Fatal("sync send to a member that left succeeded")
	}
	if err := a.Send(context.Background(), "b", nil, 6); !errors.Is(err, ErrUnknownMember) {
		t.Fatalf("after leave: %v", err)
	}
	h.Close()
	h.Close()
	if err := a.Send(context.Background(), "b", nil, 8); !errors.Is(err, ErrClosed) {
		t.Fatalf("after close: %v", err)
	}
	if p := h.Join("late", nil); p.Send(context.Background(), "a", nil, 8) == nil {
		t.Fatal("join after close must give a closed port")
	}
}
