package lifecycle

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
)

// State is where a Runner stands: New → Starting → Running → Stopped; Stop
// may come at any point (Stopped is final).
type State int32

const (
	New      State = iota
	Starting       // Begin was called; Start is still opening (or waiting)
	Running        // Ready was called
	Stopped
)

// String returns "new", "starting", "running" or "stopped".
func (s State) String() string {
	switch s {
	case New:
		return "new"
	case Starting:
		return "starting"
	case Running:
		return "running"
	}
	return "stopped"
}

// Runner is one component's lifecycle: its state, the context its
// goroutines live under (created on first use, cancelled by End), and
// those goroutines. A
// component keeps one and writes only its own part: what its Start opens
// and its Stop closes. The zero value is New. Safe for concurrent use;
// its lock is a leaf (a component may hold its own lock while calling it).
type Runner struct {
	mu     sync.Mutex
	state  atomic.Int32 // a State; written under mu, read without it
	life   context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// Begin moves New → Starting and returns the lifetime context, which ends
// when End is called. Starting twice fails with ErrStarted, after End with
// ErrClosed.
func (r *Runner) Begin() (context.Context, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch State(r.state.Load()) {
	case Starting, Running:
		return nil, ErrStarted
	case Stopped:
		return nil, ErrClosed
	}
	r.state.Store(int32(Starting))
	return r.lifeLocked(), nil
}

// Abort moves Starting back to New after a Start that failed before it
// started anything, so Start may be tried again; the lifetime context of
// the failed attempt is cancelled.
func (r *Runner) Abort() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if State(r.state.Load()) != Starting {
		return
	}
	r.state.Store(int32(New))
	r.cancel()
	r.life, r.cancel = nil, nil
}

// Ready moves Starting → Running (Start finished opening); it reports
// whether it did (false once stopped).
func (r *Runner) Ready() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if State(r.state.Load()) != Starting {
		return false
	}
	r.state.Store(int32(Running))
	return true
}

// Context returns the lifetime context (usable before Begin: it ends at End).
func (r *Runner) Context() context.Context {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.lifeLocked()
}

func (r *Runner) lifeLocked() context.Context {
	if r.life == nil {
		r.life, r.cancel = context.WithCancel(context.Background())
		if State(r.state.Load()) == Stopped {
			r.cancel()
		}
	}
	return r.life
}

// Go runs f on a goroutine owned by the runner, with the lifetime context;
// Wait waits for it. Before Begin or after End, f is not run.
func (r *Runner) Go(f func(ctx context.Context)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if st := State(r.state.Load()); st != Starting && st != Running {
		return
	}
	life := r.lifeLocked()
	r.wg.Go(func() { f(life) })
}

// End moves to Stopped and cancels the lifetime context. It returns the
// state before: Starting or Running for the first Stop of a started
// component (it closes what Start opened), New for one never started,
// Stopped for a repeated Stop (nothing to do).
func (r *Runner) End() (was State) {
	r.mu.Lock()
	defer r.mu.Unlock()
	was = State(r.state.Swap(int32(Stopped)))
	if r.cancel != nil {
		r.cancel()
	}
	return was
}

// State returns the current state. Lock-free.
func (r *Runner) State() State { return State(r.state.Load()) }

// Wait waits for the goroutines started with Go, or until ctx ends.
func (r *Runner) Wait(ctx context.Context) error { return Wait(ctx, &r.wg) }

// Wait waits for wg, or until ctx ends (then it returns ctx's error, and
// the goroutines keep running: their owner has been cancelled and they
// end on their own).
func Wait(ctx context.Context, wg *sync.WaitGroup) error {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("lifecycle: waiting for goroutines: %w", ctx.Err())
	}
}
