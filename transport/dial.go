package transport

import (
	"errors"
	"syscall"
	"time"
)

const (
	backoffMin = 10 * time.Millisecond
	backoffMax = time.Second
	// refusedGrace is how many dials in a row a peer may refuse before the
	// messages waited for are failed (ErrUnreachable) instead of retried
	// until Timeout: the re-dial right after a lost connection and one
	// more backoffMin later, a short grace for a restarting peer.
	refusedGrace = 2
)

// dialPolicy decides when a peer is dialled again and when its messages
// are given up, from the failures it is told about. Pure: the caller
// passes the time and acts on the verdicts (the peer guards it with
// peer.mu). An outage starts at the first failed dial or lost connection
// and ends at the first ack on a new connection.
type dialPolicy struct {
	timeout   time.Duration // Config.Timeout: how long an outage may last
	failures  int           // failed dials or connections since the last ack
	refusals  int           // dials actively refused in a row
	downSince time.Time     // first failure of the current outage; zero when up
	next      time.Time     // no dial before this
}

// verdict is what a failure means for the peer's messages and logs.
type verdict struct {
	first      bool // the first failure of an outage (log it)
	giveUp     bool // the outage lasted timeout: fail everything pending
	refusing   bool // the peer just reached refusedGrace refusals (log once)
	failWaited bool // fail waited-for messages at once (the peer refuses), unless giveUp
}

// failed records a failed dial (refused: actively turned down) or, with
// dial false, a lost connection.
func (d *dialPolicy) failed(now time.Time, dial, refused bool) verdict {
	d.failures++
	if d.downSince.IsZero() {
		d.downSince = now
	}
	d.next = now.Add(backoff(d.failures))
	v := verdict{first: d.failures == 1, giveUp: now.Sub(d.downSince) >= d.timeout}
	if dial {
		if refused {
			d.refusals++
			v.refusing = d.refusals == refusedGrace
			v.failWaited = !v.giveUp && d.refusals >= refusedGrace
		} else {
			d.refusals = 0
		}
	}
	return v
}

// connected records a dial that succeeded (the outage lasts until an ack).
func (d *dialPolicy) connected() { d.refusals = 0 }

// acked records an ack on the current connection; it reports whether
// that ended an outage.
func (d *dialPolicy) acked() bool {
	if d.failures == 0 {
		return false
	}
	d.failures, d.downSince, d.next = 0, time.Time{}, time.Time{}
	return true
}

// refusing reports whether waited-for sends fail at once.
func (d *dialPolicy) refusing() bool { return d.refusals >= refusedGrace }

// dialNow lifts the back-off: a waited-for send to a refusing peer dials
// at once, so it fails (or gets through) fast.
func (d *dialPolicy) dialNow() { d.next = time.Time{} }

// wait is how long to wait before the next dial.
func (d *dialPolicy) wait(now time.Time) time.Duration { return max(d.next.Sub(now), 0) }

// backoff is the wait before the next dial: none after the first
// failure (Tomcat's one immediate retry), then doubling from backoffMin.
func backoff(failures int) time.Duration {
	if failures <= 1 {
		return 0
	}
	return min(backoffMin<<min(failures-2, 10), backoffMax)
}

// refused reports a dial the peer's host actively turned down: nothing
// listens there (ECONNREFUSED) or the host or network is known to be
// unreachable. A dial timeout is not one: the peer may only be slow.
func refused(err error) bool {
	return errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EHOSTUNREACH) ||
		errors.Is(err, syscall.ENETUNREACH)
}
