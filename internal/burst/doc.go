// Package burst decides when an event that can repeat thousands of times a
// second (a refused connection, a forged message, a capped table) is
// logged: the first of a burst at once, then at most once per interval,
// carrying how many were not logged meanwhile. The counters that go with
// the events live with their owners; this package only rate-limits logs.
//
// Main type: Limiter. Pure: the caller passes the time. No goroutines.
package burst
