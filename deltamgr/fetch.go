package deltamgr

import "time"

// fetch is the asking side of the state transfer as a pure state machine
// (etcd-io/raft's style): which senior to ask next, which replies belong
// to the round in flight, and when a round or the whole transfer times
// out. It has no clock, goroutines, locks or I/O: the shell (transferState,
// under Manager.mu) feeds it the time and the inputs and performs what the
// results say (send GET_ALL_SESSIONS, install a chunk, log, wake Start).
//
// Deadlines: the whole transfer ends at begin+total (total < 0: never);
// one senior may stay silent for perSenior (before its first reply and
// between two replies) before the next senior is asked (0: no limit).
type fetch struct {
	total, perSenior time.Duration
	begin            time.Time

	tried     map[string]bool
	asked     int // rounds begun
	noContext int // seniors that answered NOCONTEXTMANAGER
	seq       uint64
	cur       *round
}

// round is one GET_ALL_SESSIONS with one senior.
type round struct {
	target string
	id     uint64
	sentAt time.Time
	quiet  time.Time // perSenior deadline for the next reply; zero: none

	closed   bool
	result   result
	sessions int   // sessions installed from this round's chunks
	chunks   int   // chunks received
	count    int   // sessions the target says it sent
	snapshot int64 // the target's snapshot time T, unix ms
}

type result uint8

const (
	resultPending    result = iota
	resultComplete          // every session the target sent was installed
	resultIncomplete        // TRANSFERCOMPLETE with another count
	resultNoContext         // the target has no such context
	resultGone              // the target left or restarted
	resultSilent            // the target did not answer within perSenior
	resultTimeout           // the total deadline passed
	resultCancelled         // Start's ctx ended or Stop
)

// end says why a fetch asks nobody any more.
type end uint8

const (
	endNone      end = iota
	endNoContext     // every senior asked has no such context: a new context
	endNoSenior      // every senior was tried (or left) without success
)

func newFetch(total, perSenior time.Duration, now time.Time) *fetch {
	return &fetch{total: total, perSenior: perSenior, begin: now, tried: map[string]bool{}}
}

// next begins a round with the oldest senior not tried yet, or says why
// there is none. id is the transfer id the shell chose (unique per round).
func (f *fetch) next(seniors []string, id uint64, now time.Time) (*round, end) {
	for _, s := range seniors {
		if f.tried[s] {
			continue
		}
		f.tried[s] = true
		f.asked++
		r := &round{target: s, id: id, sentAt: now}
		if f.perSenior > 0 {
			r.quiet = now.Add(f.perSenior)
		}
		f.cur = r
		return r, endNone
	}
	f.cur = nil
	if f.noContext == len(f.tried) {
		return nil, endNoContext
	}
	return nil, endNoSenior
}

// untried reports whether a senior of seniors has not been asked yet.
func (f *fetch) untried(seniors []string) bool {
	for _, s := range seniors {
		if !f.tried[s] {
			return true
		}
	}
	return false
}

// open returns the round a reply from from with transfer id belongs to,
// or nil: a stale reply (an earlier round, another member, after the end).
func (f *fetch) open(from string, id uint64) *round {
	r := f.cur
	if r == nil || r.closed || r.id != id || r.target != from {
		return nil
	}
	return r
}

// finish ends the open round r with res; it reports whether it did.
func (f *fetch) finish(r *round, res result) bool {
	if r == nil || r.closed {
		return false
	}
	r.closed, r.result = true, res
	if res == resultNoContext {
		f.noContext++
	}
	return true
}

// chunk records n sessions of an accepted ALL_SESSION_DATA at now.
func (f *fetch) chunk(r *round, n int, snapshot int64, now time.Time) {
	r.sessions += n
	r.chunks++
	r.snapshot = snapshot
	if f.perSenior > 0 {
		r.quiet = now.Add(f.perSenior)
	}
}

// complete applies TRANSFERCOMPLETE (count sessions in seq chunks): the
// round is complete only when every session and chunk arrived. Reports
// whether it ended the round.
func (f *fetch) complete(from string, id uint64, count, seq int, snapshot int64) bool {
	r := f.open(from, id)
	if r == nil {
		return false
	}
	r.count, r.snapshot = count, snapshot
	res := resultIncomplete
	if r.sessions == count && r.chunks == seq {
		res = resultComplete
	}
	return f.finish(r, res)
}

// left ends the round whose target left or restarted.
func (f *fetch) left(member string) bool {
	if r := f.cur; r != nil && r.target == member {
		return f.finish(r, resultGone)
	}
	return false
}

// deadline is when tick has something to do (zero: never).
func (f *fetch) deadline() time.Time {
	var d time.Time
	if f.total >= 0 {
		d = f.begin.Add(f.total)
	}
	if r := f.cur; r != nil && !r.closed && !r.quiet.IsZero() && (d.IsZero() || r.quiet.Before(d)) {
		d = r.quiet
	}
	return d
}

// tick ends the open round when a deadline passed at now: resultTimeout
// for the total, resultSilent for its senior's. Reports whether it did.
func (f *fetch) tick(now time.Time) bool {
	r := f.cur
	if r == nil || r.closed {
		return false
	}
	if f.total >= 0 && !now.Before(f.begin.Add(f.total)) {
		return f.finish(r, resultTimeout)
	}
	if !r.quiet.IsZero() && !now.Before(r.quiet) {
		return f.finish(r, resultSilent)
	}
	return false
}

// stale is the StateTimestampDrop rule for a message queued during the
// transfer: with drop on, a message stamped before the snapshot time snapT
// of the received state (unix ms; 0: no state received) is already in it.
func stale(drop bool, snapT, ts int64) bool { return drop && snapT > 0 && ts < snapT }
