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
	n     int // lines allowed per interval

	mu         sync.Mutex // guards the fields below
	start      time.Time  // when the current interval began; zero: never
	logged     int        // lines allowed in it
	suppressed uint64     // events not logged since the last line
}

// New returns a Limiter that allows one log line per every (0:
// DefaultInterval).
func New(every time.Duration) *Limiter { return NewN(every, 1) }

// NewN returns a Limiter that allows n log lines per every (0:
// DefaultInterval), for events a person wants to see one by one while
// they are few (a member that does not answer).
func NewN(every time.Duration, n int) *Limiter {
	if every <= 0 {
		every = DefaultInterval
	}
	return &Limiter{every: every, n: max(n, 1)}
}

// Allow records one event at now and reports whether it should be logged;
// when it should, suppressed is the number of events not logged since the
// previous log line (the rest of the previous burst).
func (l *Limiter) Allow(now time.Time) (ok bool, suppressed uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.start.IsZero() || now.Sub(l.start) >= l.every {
		l.start, l.logged = now, 0
	}
	if l.logged >= l.n {
		l.suppressed++
		return false, 0
	}
	l.logged++
	suppressed, l.suppressed = l.suppressed, 0
	return true, suppressed
}
