package testkit

import (
	"testing"
	"time"
)

// DefaultWait is how long WaitFor waits before failing the test.
const DefaultWait = 10 * time.Second

// The pause between two checks of a condition starts at minPoll and doubles
// up to maxPoll, so a quick condition is seen at once and a slow one costs
// little CPU.
const (
	minPoll = time.Millisecond
	maxPoll = 10 * time.Millisecond
)

// WaitFor polls cond until it holds, failing t (naming what) after
// DefaultWait. It blocks; cond must be safe to call from t's goroutine.
func WaitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	WaitWithin(t, what, DefaultWait, cond)
}

// WaitWithin is WaitFor with its own timeout.
func WaitWithin(t testing.TB, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for pause := minPoll; !cond(); pause = min(2*pause, maxPoll) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(pause)
	}
}
