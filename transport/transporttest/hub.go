package transporttest

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"time"
)

// Send option bits (Tomcat's channelSendOptions).
const (
	optSync  = 4
	optAsync = 8
)

// DeliverFunc receives a message sent by the member named from.
type DeliverFunc func(ctx context.Context, from string, msg []byte) error

// Hub connects ports in memory. Safe for concurrent use.
type Hub struct {
	evMu sync.Mutex         // serialises membership changes and their events; taken before mu
	subs map[*Port][]hubSub // Subscribe, by subscribing port; guarded by evMu
	next int                // last subscription id; guarded by evMu

	mu     sync.Mutex // guards the fields below; taken before Port.mu
	rng    *rand.Rand
	ports  map[string]*Port // live members by name
	order  []*Port          // live members in join order
	cut    map[[2]string]bool
	drop   float64
	dmin   time.Duration
	dmax   time.Duration
	closed bool

	wg sync.WaitGroup
}

// NewHub returns an empty hub whose drops and delays come from seed.
func NewHub(seed int64) *Hub {
	return &Hub{
		rng:   rand.New(rand.NewPCG(uint64(seed), 0x9e3779b97f4a7c15)),
		ports: make(map[string]*Port),
		cut:   make(map[[2]string]bool),
	}
}

// Join adds a member named name whose messages go to deliver, and starts
// its delivery goroutine. A live member with the same name is replaced
// (like a restarted node). After Close, the port is returned closed.
func (h *Hub) Join(name string, deliver DeliverFunc) *Port {
	ctx, cancel := context.WithCancel(context.Background())
	p := &Port{h: h, name: name, deliver: deliver, ctx: ctx, cancel: cancel,
		wake: make(chan struct{}, 1), last: make(map[string]time.Time)}
	h.change(func() {
		if h.closed {
			cancel()
			return
		}
		if old := h.ports[name]; old != nil {
			h.leaveLocked(old)
		}
		h.ports[name] = p
		h.order = append(h.order, p)
		h.wg.Go(p.run)
	})
	return p
}

// Leave removes the member: its delivery goroutine stops, messages not
// yet delivered to it are lost, and its own sends fail with ErrClosed.
func (h *Hub) Leave(name string) {
	h.change(func() {
		if p := h.ports[name]; p != nil {
			h.leaveLocked(p)
		}
	})
}

func (h *Hub) leaveLocked(p *Port) {
	delete(h.ports, p.name)
	h.order = slices.DeleteFunc(h.order, func(q *Port) bool { return q == p })
	p.cancel()
}

// Partition cuts every member of a from every member of b, both ways,
// until Heal. Calls accumulate.
func (h *Hub) Partition(a, b []string) {
	h.change(func() {
		for _, x := range a {
			for _, y := range b {
				h.cut[[2]string{x, y}] = true
				h.cut[[2]string{y, x}] = true
			}
		}
	})
}

// Heal removes every partition.
func (h *Hub) Heal() {
	h.change(func() { clear(h.cut) })
}

// SetDrop sets the probability (0..1) that a message is lost.
func (h *Hub) SetDrop(prob float64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.drop = prob
}

// SetDelay makes each message wait a random time in [lo, hi] before
// delivery (order per sender→receiver is kept).
func (h *Hub) SetDelay(lo, hi time.Duration) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.dmin, h.dmax = lo, max(hi, lo)
}

// Close removes every member and waits for the delivery goroutines.
// Idempotent.
func (h *Hub) Close() {
	h.change(func() {
		h.closed = true
		for _, p := range slices.Clone(h.order) {
			h.leaveLocked(p)
		}
	})
	h.wg.Wait()
}

// Port is one member's view of the hub. Safe for concurrent use.
type Port struct {
	h       *Hub
	name    string
	deliver DeliverFunc
	ctx     context.Context // ends when the member leaves
	cancel  context.CancelFunc
	wake    chan struct{}

	mu    sync.Mutex // guards the inbox
	inbox inbox
	last  map[string]time.Time // latest delivery time queued per sender
	seq   uint64
}

// Self returns the member's name.
func (p *Port) Self() string { return p.name }

// Members returns the live members reachable from p, in join order,
// excluding p itself.
func (p *Port) Members() []string { return p.members(false) }

// Seniors returns the Members that joined before p, in join order.
func (p *Port) Seniors() []string { return p.members(true) }

func (p *Port) members(seniorsOnly bool) []string {
	h := p.h
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, q := range h.order {
		if q == p {
			if seniorsOnly {
				break
			}
			continue
		}
		if !h.cut[[2]string{p.name, q.name}] {
			out = append(out, q.name)
		}
	}
	return out
}

// peersLocked returns the members p sees, in join order; h.mu held.
func (h *Hub) peersLocked(p *Port, seniorsOnly bool) []*Port {
	var out []*Port
	for _, q := range h.order {
		if q == p {
			if seniorsOnly {
				break
			}
			continue
		}
		if !h.cut[[2]string{p.name, q.name}] {
			out = append(out, q)
		}
	}
	return out
}

// Send sends msg to the member named to; opts as in the package doc.
func (p *Port) Send(ctx context.Context, to string, msg []byte, opts int) error {
	h := p.h
	h.mu.Lock()
	if p.ctx.Err() != nil {
		h.mu.Unlock()
		return fmt.Errorf("send to %s: %w", to, ErrClosed)
	}
	dst := h.ports[to]
	if dst == nil || dst == p {
		h.mu.Unlock()
		return fmt.Errorf("send to %s: %w", to, ErrUnknownMember)
	}
	cut := h.cut[[2]string{p.name, to}]
	dropped := h.drop > 0 && h.rng.Float64() < h.drop
	delay := h.dmin
	if h.dmax > h.dmin {
		delay += time.Duration(h.rng.Int64N(int64(h.dmax - h.dmin + 1)))
	}
	h.mu.Unlock()
	async := opts&optAsync != 0
	switch {
	case cut && async, dropped && async:
		return nil
	case cut:
		return fmt.Errorf("send to %s: %w", to, ErrUnreachable)
	case dropped:
		return fmt.Errorf("send to %s: %w", to, ErrDropped)
	}
	e := &envelope{from: p.name, msg: slices.Clone(msg), sync: opts&optSync != 0}
	if !async {
		e.reply = make(chan error, 1)
	}
	dst.push(e, delay)
	if async {
		return nil
	}
	select {
	case err := <-e.reply:
		return err
	case <-dst.ctx.Done():
		return fmt.Errorf("send to %s: %w", to, ErrUnreachable)
	case <-ctx.Done():
		return fmt.Errorf("send to %s: %w", to, ctx.Err())
	}
}

// Broadcast sends msg to every member concurrently and returns the
// errors.Join of the failures.
func (p *Port) Broadcast(ctx context.Context, msg []byte, opts int) error {
	to := p.Members()
	errs := make([]error, len(to))
	var wg sync.WaitGroup
	for i, name := range to {
		wg.Go(func() { errs[i] = p.Send(ctx, name, msg, opts) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (p *Port) push(e *envelope, delay time.Duration) {
	p.mu.Lock()
	e.at = time.Now().Add(delay)
	if last := p.last[e.from]; e.at.Before(last) {
		e.at = last // keep per-sender order
	}
	p.last[e.from] = e.at
	p.seq++
	e.seq = p.seq
	heap.Push(&p.inbox, e)
	p.mu.Unlock()
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// run is the port's delivery goroutine.
func (p *Port) run() {
	var timer *time.Timer
	for {
		p.mu.Lock()
		var wait <-chan time.Time
		var e *envelope
		if len(p.inbox) > 0 {
			if d := time.Until(p.inbox[0].at); d > 0 {
				if timer == nil {
					timer = time.NewTimer(d)
				} else {
					timer.Reset(d)
				}
				wait = timer.C
			} else {
				e = heap.Pop(&p.inbox).(*envelope)
			}
		}
		p.mu.Unlock()
		if e == nil {
			select {
			case <-p.wake:
			case <-wait:
			case <-p.ctx.Done():
				return
			}
			continue
		}
		if p.ctx.Err() != nil {
			return
		}
		if e.reply != nil && !e.sync {
			e.reply <- nil
		}
		err := p.deliver(p.ctx, e.from, e.msg)
		if e.reply != nil && e.sync {
			e.reply <- err
		}
	}
}

// envelope is a message in a port's inbox.
type envelope struct {
	from  string
	msg   []byte
	sync  bool
	reply chan error // nil for async
	at    time.Time
	seq   uint64
}

// inbox orders envelopes by delivery time, then arrival.
type inbox []*envelope

func (q inbox) Len() int { return len(q) }
func (q inbox) Less(i, j int) bool {
	if !q[i].at.Equal(q[j].at) {
		return q[i].at.Before(q[j].at)
	}
	return q[i].seq < q[j].seq
}
func (q inbox) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *inbox) Push(x any)   { *q = append(*q, x.(*envelope)) }
func (q *inbox) Pop() any {
	old := *q
	e := old[len(old)-1]
	old[len(old)-1] = nil
	*q = old[:len(old)-1]
	return e
}
