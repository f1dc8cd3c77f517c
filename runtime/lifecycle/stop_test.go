package lifecycle

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
)

// events is a concurrency-safe log of what the steps did.
type events struct {
	mu  sync.Mutex
	got []string
}

func (e *events) add(s string) { e.mu.Lock(); e.got = append(e.got, s); e.mu.Unlock() }
func (e *events) list() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.got)
}

func recorded(ev *events, name string, start func(ctx context.Context) error) Step {
	return Step{Name: name, Component: Funcs{
		OnStart: func(ctx context.Context) error {
			ev.add("start " + name)
			if start != nil {
				return start(ctx)
			}
			return nil
		},
		OnStop: func(context.Context) error { ev.add("stop " + name); return nil },
	}}
}

// Regression: Stop during Start cancels the step in flight, waits for it
// and stops it too (it used to be left running).
func TestGroupStopDuringStartStopsTheStepInFlight(t *testing.T) {
	var ev events
	inB := make(chan struct{})
	g := NewGroup(
		recorded(&ev, "a", nil),
		recorded(&ev, "b", func(ctx context.Context) error {
			close(inB)
			<-ctx.Done() // cancelled by Stop; it started all the same
			return nil
		}),
		recorded(&ev, "c", nil),
	)
	res := make(chan error, 1)
	go func() { res <- g.Start(context.Background()) }()
	<-inB
	if err := g.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := <-res; !errors.Is(err, context.Canceled) {
		t.Fatalf("Start: %v", err)
	}
	if want := []string{"start a", "start b", "stop b", "stop a"}; !slices.Equal(ev.list(), want) {
		t.Fatalf("got %v want %v", ev.list(), want)
	}
}

// Stop honours its ctx: a step that ignores cancellation does not hold it;
// the step is stopped by Start when it finally returns.
func TestGroupStopCtxEndsBeforeTheStepReturns(t *testing.T) {
	var ev events
	inB, release := make(chan struct{}), make(chan struct{})
	g := NewGroup(
		recorded(&ev, "a", nil),
		recorded(&ev, "b", func(context.Context) error { close(inB); <-release; return nil }),
	)
	res := make(chan error, 1)
	go func() { res <- g.Start(context.Background()) }()
	<-inB
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := g.Stop(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Stop: %v", err)
	}
	close(release)
	if err := <-res; !errors.Is(err, context.Canceled) {
		t.Fatalf("Start: %v", err)
	}
	if want := []string{"start a", "start b", "stop a", "stop b"}; !slices.Equal(ev.list(), want) {
		t.Fatalf("got %v want %v", ev.list(), want)
	}
}

// A Stop before Start makes Start do nothing.
func TestGroupStopBeforeStart(t *testing.T) {
	var ev events
	g := NewGroup(recorded(&ev, "a", nil))
	if err := g.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := g.Start(context.Background()); !errors.Is(err, context.Canceled) || len(ev.list()) != 0 {
		t.Fatalf("Start: %v, %v", err, ev.list())
	}
}

func TestRunner(t *testing.T) {
	var r Runner
	if r.State() != New {
		t.Fatal(r.State())
	}
	life, err := r.Begin()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Begin(); !errors.Is(err, ErrStarted) {
		t.Fatalf("second Begin: %v", err)
	}
	exited := make(chan struct{})
	r.Go(func(ctx context.Context) { <-ctx.Done(); close(exited) })
	if r.State() != Starting || !r.Ready() || r.State() != Running || r.Ready() {
		t.Fatal("Ready moves Starting to Running once")
	}
	if was := r.End(); was != Running {
		t.Fatalf("first End: was %v", was)
	}
	if was := r.End(); was != Stopped {
		t.Fatalf("second End: was %v", was)
	}
	if life.Err() == nil {
		t.Fatal("lifetime not cancelled")
	}
	if err := r.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	<-exited
	ran := false
	r.Go(func(context.Context) { ran = true })
	if err := r.Wait(context.Background()); err != nil || ran {
		t.Fatal("Go after End ran")
	}
	if _, err := r.Begin(); !errors.Is(err, ErrClosed) {
		t.Fatalf("Begin after End: %v", err)
	}
}

// Wait gives up when ctx ends.
func TestWaitHonoursCtx(t *testing.T) {
	var wg sync.WaitGroup
	block := make(chan struct{})
	defer close(block)
	wg.Go(func() { <-block })
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Wait(ctx, &wg); !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
}
