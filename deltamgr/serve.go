package deltamgr

import (
	"errors"
	"time"

	"github.com/gomcat/gomcat/runtime/session"
)

// serve is the answering side of one GET_ALL_SESSIONS as a pure state
// machine: how many chunks are in flight (at most window), which are
// acknowledged, when an ack is overdue, and when TRANSFERCOMPLETE may
// leave (every chunk acked) or the answer is aborted (a failed or overdue
// ack). No clock, goroutines or I/O: the shell (sendAllSessions) cuts and
// encodes the chunks, sends them, and feeds the acks and the time back.
type serve struct {
	window  int
	timeout time.Duration // an ack is overdue after this; <= 0: never

	inflight map[int]time.Time // seq → ack deadline (zero: none)
	chunks   int               // chunks sent (the last seq)
	sessions int               // sessions in the chunks sent
	cut      bool              // every session is in a chunk sent
	complete int               // TRANSFERCOMPLETE's seq once sent (chunks+1), else 0
	err      error             // the first failure: the answer is aborted
	acked    bool              // TRANSFERCOMPLETE acknowledged: the answer is done
}

// errAckOverdue aborts an answer whose chunk was not acknowledged within
// StateTransferTimeout.
var errAckOverdue = errors.New("deltamgr: state transfer chunk not acknowledged in time")

// action is what the shell does next.
type action uint8

const (
	actWait     action = iota // wait for an ack, a deadline or ctx
	actSend                   // cut, encode and send the next chunk
	actComplete               // send TRANSFERCOMPLETE (seq chunks+1, count sessions)
	actDone                   // answered completely
	actAbort                  // failed; nothing is in flight any more
)

func newServe(window int, timeout time.Duration) *serve {
	return &serve{window: window, timeout: timeout, inflight: map[int]time.Time{}}
}

// next says what to do now.
func (s *serve) next() action {
	switch {
	case s.err != nil && len(s.inflight) == 0:
		return actAbort
	case s.err != nil:
		return actWait // let the sends in flight return first
	case s.acked:
		return actDone
	case s.complete > 0:
		return actWait
	case s.cut && len(s.inflight) == 0:
		return actComplete
	case !s.cut && len(s.inflight) < s.window:
		return actSend
	}
	return actWait
}

// sent records a chunk of n sessions leaving at now; it returns its seq.
func (s *serve) sent(n int, now time.Time) int {
	s.chunks++
	s.sessions += n
	s.inflight[s.chunks] = s.ackBy(now)
	return s.chunks
}

// exhausted records that no session is left to cut.
func (s *serve) exhausted() { s.cut = true }

// completeSent records TRANSFERCOMPLETE leaving at now; it returns its seq.
func (s *serve) completeSent(now time.Time) int {
	s.complete = s.chunks + 1
	s.inflight[s.complete] = s.ackBy(now)
	return s.complete
}

func (s *serve) ackBy(now time.Time) time.Time {
	if s.timeout <= 0 {
		return time.Time{}
	}
	return now.Add(s.timeout)
}

// ack records the outcome of send seq (nil: acknowledged).
func (s *serve) ack(seq int, err error) {
	if _, ok := s.inflight[seq]; !ok {
		return
	}
	delete(s.inflight, seq)
	switch {
	case err != nil:
		s.fail(err)
	case seq == s.complete:
		s.acked = true
	}
}

// fail aborts the answer with err (the first failure wins).
func (s *serve) fail(err error) {
	if s.err == nil {
		s.err = err
	}
}

// deadline is the earliest ack deadline (zero: none).
func (s *serve) deadline() time.Time {
	var d time.Time
	for _, t := range s.inflight {
		if !t.IsZero() && (d.IsZero() || t.Before(d)) {
			d = t
		}
	}
	return d
}

// tick aborts the answer if an ack is overdue at now.
func (s *serve) tick(now time.Time) {
	if d := s.deadline(); !d.IsZero() && !now.Before(d) {
		s.fail(errAckOverdue)
	}
}

// chunker cuts a snapshot of sessions into chunks of at most size records
// and about maxBytes bytes (a record alone may exceed it). Pure.
type chunker struct {
	list      []*session.Session
	i         int
	size      int
	maxBytes  int
	principal bool // keep the principal (ReplicatePrincipal)
	recs      []session.Record
	carry     session.Record // cut off the previous chunk: first of the next
	carried   bool
}

// next returns the next chunk's records (reused by the call after), or
// false when every session was cut. Invalid (expired) sessions are skipped.
func (c *chunker) next() ([]session.Record, bool) {
	clear(c.recs) // drop the attribute maps the next chunk does not overwrite
	c.recs = c.recs[:0]
	n := 0
	if c.carried {
		c.recs = append(c.recs, c.carry)
		n += recordSize(&c.carry)
		c.carry, c.carried = session.Record{}, false
	}
	for c.i < len(c.list) {
		s := c.list[c.i]
		c.i++
		if !s.Valid() {
			continue
		}
		r := s.Snapshot()
		if !c.principal {
			r.Principal, r.AuthType = "", ""
		}
		size := recordSize(&r)
		if len(c.recs) > 0 && (len(c.recs) >= c.size || n+size > c.maxBytes) {
			c.carry, c.carried = r, true
			return c.recs, true
		}
		c.recs = append(c.recs, r)
		n += size
	}
	return c.recs, len(c.recs) > 0
}

// recordSize is an upper bound of r's encoded size, for cutting chunks.
func recordSize(r *session.Record) int {
	n := 64 + len(r.ID) + len(r.Principal) + len(r.AuthType)
	for k, v := range r.Attrs {
		n += 18 + len(k) + len(v)
	}
	return n
}
