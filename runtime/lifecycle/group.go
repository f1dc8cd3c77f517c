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
// concurrent use; Stop may be called from another goroutine while Start runs
// a later step (it then stops what has been started so far).
type Group struct {
	mu      sync.Mutex
	steps   []Step
	started []Step
	began   bool
	stopped bool
}

// NewGroup returns a Group of steps, in start order.
func NewGroup(steps ...Step) *Group {
	return &Group{steps: steps}
}

// Start starts every step in order. On the first failure it stops the steps
// already started (reverse order) and returns the failure wrapped with the
// step's name.
func (g *Group) Start(ctx context.Context) error {
	g.mu.Lock()
	if g.began {
		g.mu.Unlock()
		return ErrStarted
	}
	g.began = true
	steps := g.steps
	g.mu.Unlock()

	for _, s := range steps {
		g.mu.Lock()
		stopped := g.stopped
		g.mu.Unlock()
		if stopped {
			return fmt.Errorf("start %s: %w", s.Name, context.Canceled)
		}
		if err := s.Start(ctx); err != nil {
			err = fmt.Errorf("start %s: %w", s.Name, err)
			if serr := g.Stop(context.WithoutCancel(ctx)); serr != nil {
				err = errors.Join(err, serr)
			}
			return err
		}
		g.mu.Lock()
		g.started = append(g.started, s)
		g.mu.Unlock()
	}
	return nil
}

// Stop stops the started steps in reverse order and returns their errors
// joined. Only the first call does anything.
func (g *Group) Stop(ctx context.Context) error {
	g.mu.Lock()
	if g.stopped {
		g.mu.Unlock()
		return nil
	}
	g.stopped = true
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
