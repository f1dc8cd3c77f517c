package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// Component is anything with a start and a stop. Start may block (a state
// transfer does); Stop must be idempotent and honour ctx as a deadline.
type Component interface {
	Start(ctx context.Context) error
	Stop(ctx context.Context) error
}

// Funcs adapts two functions to a Component; nil functions do nothing.
type Funcs struct {
	OnStart func(ctx context.Context) error
	OnStop  func(ctx context.Context) error
}

// Start calls OnStart.
func (f Funcs) Start(ctx context.Context) error {
	if f.OnStart == nil {
		return nil
	}
	return f.OnStart(ctx)
}

// Stop calls OnStop.
func (f Funcs) Stop(ctx context.Context) error {
	if f.OnStop == nil {
		return nil
	}
	return f.OnStop(ctx)
}

// Step is one named component of a Group; the name prefixes its errors.
type Step struct {
	Name string
	Component
}

// Group starts its steps in order and stops them in reverse. Safe for
// concurrent use. Stop may be called from another goroutine while Start
// runs a step: it cancels Start's ctx, waits (within its own ctx) for that
// step to return, and stops it too if it started; then it stops the
// others. If Stop's ctx ends first, Start stops the late step itself when
// it returns.
type Group struct {
	mu       sync.Mutex
	steps    []Step
	started  []Step
	began    bool
	stopped  bool
	cancel   context.CancelFunc // cancels Start's ctx
	starting chan struct{}      // closed when Start returns
	late     bool               // Stop gave up waiting: Start stops what it started after
}

// NewGroup returns a Group of steps, in start order.
func NewGroup(steps ...Step) *Group {
	return &Group{steps: steps}
}

// Start starts every step in order. On the first failure it stops the steps
// already started (reverse order) and returns the failure wrapped with the
// step's name. A Stop meanwhile ends it with context.Canceled.
func (g *Group) Start(ctx context.Context) error {
	g.mu.Lock()
	if g.began {
		g.mu.Unlock()
		return ErrStarted
	}
	g.began = true
	if g.stopped {
		g.mu.Unlock()
		return fmt.Errorf("start: %w", context.Canceled)
	}
	ctx, cancel := context.WithCancel(ctx)
	g.cancel, g.starting = cancel, make(chan struct{})
	steps := g.steps
	g.mu.Unlock()
	defer cancel()
	defer close(g.starting)

	for _, s := range steps {
		g.mu.Lock()
		stopped := g.stopped
		g.mu.Unlock()
		if stopped {
			return fmt.Errorf("start %s: %w", s.Name, context.Canceled)
		}
		err := s.Start(ctx)
		g.mu.Lock()
		if err == nil {
			g.started = append(g.started, s)
		}
		stopped, late := g.stopped, g.late
		g.mu.Unlock()
		switch {
		case stopped && late: // Stop returned without waiting for s
			if serr := g.stopStarted(context.WithoutCancel(ctx)); serr != nil {
				return errors.Join(fmt.Errorf("start %s: %w", s.Name, context.Canceled), serr)
			}
			return fmt.Errorf("start %s: %w", s.Name, context.Canceled)
		case stopped: // Stop is waiting for this step; it stops it
			return fmt.Errorf("start %s: %w", s.Name, context.Canceled)
		case err != nil:
			err = fmt.Errorf("start %s: %w", s.Name, err)
			g.mu.Lock()
			g.stopped = true
			g.mu.Unlock()
			if serr := g.stopStarted(context.WithoutCancel(ctx)); serr != nil {
				err = errors.Join(err, serr)
			}
			return err
		}
	}
	return nil
}

// Stop stops the started steps in reverse order and returns their errors
// joined. Only the first call does anything. During Start it first cancels
// and waits for the step in flight (see Group).
func (g *Group) Stop(ctx context.Context) error {
	g.mu.Lock()
	if g.stopped {
		g.mu.Unlock()
		return nil
	}
	g.stopped = true
	cancel, starting := g.cancel, g.starting
	g.mu.Unlock()
	var errs []error
	if cancel != nil {
		cancel()
		select {
		case <-starting:
		case <-ctx.Done():
			g.mu.Lock()
			select {
			case <-starting: // returned meanwhile
			default:
				g.late = true
				errs = append(errs, fmt.Errorf("stop: a step still starting: %w", ctx.Err()))
			}
			g.mu.Unlock()
		}
	}
	if err := g.stopStarted(ctx); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// stopStarted stops and forgets the started steps, last first.
func (g *Group) stopStarted(ctx context.Context) error {
	g.mu.Lock()
	started := g.started
	g.started = nil
	g.mu.Unlock()
	var errs []error
	for i := len(started) - 1; i >= 0; i-- {
		if err := started[i].Stop(ctx); err != nil {
			errs = append(errs, fmt.Errorf("stop %s: %w", started[i].Name, err))
		}
	}
	return errors.Join(errs...)
}
