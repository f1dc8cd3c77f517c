package burst

import (
	"sync"
	"time"
)

// DefaultInterval is the interval of New(0): one log line per 10 s per kind
// of event at most.
const DefaultInterval = 10 * time.Second

// Limiter rate-limits the log lines of one kind of event. Safe for
// concurrent use; the zero value is not usable (use New).
type Limiter struct {
	every time.Duration

	mu         sync.Mutex // guards the fields below
	last       time.Time  // when the last logged event happened; zero: never
	suppressed uint64     // events not logged since then
}

// New returns a Limiter that allows one log line per every (0:
// DefaultInterval).
func New(every time.Duration) *Limiter {
	if every <= 0 {
		every = DefaultInterval
	}
	return &Limiter{every: every}
}

// Allow records one event at now and reports whether it should be logged;
// when it should, suppressed is the number of events not logged since the
// previous log line (the rest of the previous burst).
func (l *Limiter) Allow(now time.Time) (ok bool, suppressed uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.last.IsZero() && now.Sub(l.last) < l.every {
		l.suppressed++
		return false, 0
	}
	l.last = now
	suppressed, l.suppressed = l.suppressed, 0
	return true, suppressed
}
