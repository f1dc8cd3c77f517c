package deltamgr

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/gomcat/gomcat/runtime/session"
)

// javaDate is the layout of java.util.Date.toString, which Tomcat's state
// transfer log lines print.
const javaDate = "Mon Jan 02 15:04:05 MST 2006"

// sendWindow is how many ALL_SESSION_DATA chunks a responder keeps in
// flight (sent, not yet acknowledged by the requester's Deliver).
const sendWindow = 3

// transferState is Start's state transfer (DeltaManager.getAllClusterSessions):
// the shell around fetch. It asks one senior at a time, waits for the
// round to end (a reply, its target leaving, a deadline, ctx), logs
// Tomcat's lines and moves on as fetch says.
func (m *Manager) transferState(ctx context.Context) error {
	name := m.cfg.Name
	members := m.cl.Members()
	if len(members) == 0 {
		m.log.Info().Msgf("Manager [%s]: skipping state transfer. No members active in cluster group.", name)
		return nil
	}
	if len(m.cl.Seniors()) == 0 {
		m.log.Info().Int("members", len(members)).
			Msgf("Manager [%s]: skipping state transfer. No member started before this one (%d younger members).", name, len(members))
		return nil
	}
	timeout := m.cfg.StateTransferTimeout
	secs := int64(timeout / time.Second)
	if timeout < 0 {
		secs = -1
	}
	begin := time.Now()
	total, per := timeout, m.cfg.StateTransferSeniorTimeout
	if timeout == 0 { // ask, do not wait: chunks are applied whenever they come
		total, per = -1, 0
	}
	f := newFetch(total, per, begin)
	m.mu.Lock()
	m.fetch = f
	m.mu.Unlock()
	for {
		r, why, done := m.nextRound(f)
		switch why {
		case endNoContext:
			// Every senior answered that it has no such context: the context
			// is new to the cluster (a bundle deployed everywhere at once).
			m.log.Info().Int("asked", f.asked).
				Msgf("Manager [%s]: skipping state transfer. No member has this context yet.", name)
			return nil
		case endNoSenior:
			m.stats.transfersFailed.Add(1)
			m.log.Error().Int("tried", f.asked).
				Msgf("Manager [%s]: no senior member left to send the session state; continuing without it.", name)
			return nil
		}
		target := r.target
		if !slices.Contains(m.cl.Members(), target) {
			m.onMember(MemberLeft, target) // left before r began: its event found no round
		}
		m.log.Info().Msgf("Manager [%s], requesting session state from [%s]. This operation will timeout if no session state has been received within [%d] seconds.", name, target, secs)
		err := m.sendTo(ctx, target, &Message{Kind: KindGetAllSessions, SessionID: "GET-ALL", Transfer: r.id}, OptionsAsync)
		if err != nil {
			m.endRound(r, resultGone)
			m.log.Warn().Err(err).Str("member", target).Msg("cannot request session state; asking the next senior member")
			continue
		}
		if timeout == 0 {
			m.mu.Lock()
			if !m.stoppedLocked() {
				m.run.Go(func(ctx context.Context) { m.awaitInBackground(ctx, f, r, done, begin) })
			}
			m.mu.Unlock()
			return nil
		}
		res := m.await(ctx, f, r, done)
		elapsed := time.Since(begin).Milliseconds()
		switch res {
		case resultComplete:
			m.completed(r, begin)
			m.endFetch(f)
			return nil
		case resultIncomplete:
			m.log.Error().Str("member", target).Int("sessions", r.sessions).Int("expected", r.count).
				Msgf("Manager [%s]: incomplete session state from [%s]: received [%d] of [%d] sessions; asking the next senior member.", name, target, r.sessions, r.count)
		case resultNoContext:
			m.log.Warn().Str("member", target).
				Msgf("Manager [%s]: In reply to the 'Get all session data' message sent at [%s], a 'No matching context manager' message was received after [%d] ms.", name, r.sentAt.Format(javaDate), elapsed)
		case resultGone:
			m.log.Warn().Str("member", target).Int("sessions", r.sessions).
				Msgf("Manager [%s]: member [%s] disappeared during state transfer after [%d] ms; asking the next senior member.", name, target, elapsed)
		case resultSilent:
			m.mu.Lock()
			more := f.untried(m.cl.Seniors())
			m.mu.Unlock()
			if more {
				m.log.Warn().Str("member", target).Int("sessions", r.sessions).Dur("senior_timeout", per).
					Msgf("Manager [%s]: member [%s] sent no session state for [%d] ms; asking the next senior member.", name, target, per.Milliseconds())
				continue
			}
			fallthrough // the last senior: the transfer timed out
		case resultTimeout:
			m.endFetch(f)
			m.stats.transfersFailed.Add(1)
			m.log.Error().Str("member", target).Int("sessions", r.sessions).
				Msgf("Manager [%s]: No session state sent at [%s] received, timing out after [%d] ms.", name, r.sentAt.Format(javaDate), elapsed)
			return nil
		case resultCancelled:
			m.endFetch(f)
			m.stats.transfersFailed.Add(1)
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("state transfer: %w", err)
			}
			return session.ErrClosed
		}
	}
}

// nextRound begins f's next round under m.mu, with a fresh transfer id and
// the channel closed when the round ends.
func (m *Manager) nextRound(f *fetch) (*round, end, chan struct{}) {
	seniors := m.cl.Seniors()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.xferSeq++
	id := m.xferSeq<<16 | uint64(time.Now().UnixNano()&0xffff)
	r, why := f.next(seniors, id, time.Now())
	if r == nil {
		return nil, why, nil
	}
	m.roundDone = make(chan struct{})
	return r, why, m.roundDone
}

// endRoundLocked ends the open round r with res and wakes its waiter; m.mu held.
func (m *Manager) endRoundLocked(r *round, res result) {
	if m.fetch != nil && m.fetch.cur == r && m.fetch.finish(r, res) {
		close(m.roundDone)
	}
}

func (m *Manager) endRound(r *round, res result) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.endRoundLocked(r, res)
}

// endFetch makes every later reply of f stale.
func (m *Manager) endFetch(f *fetch) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fetch == f {
		m.fetch = nil
	}
}

// await waits for the round r to end (a reply, its target leaving, one of
// f's deadlines) or for ctx, and returns how it ended.
func (m *Manager) await(ctx context.Context, f *fetch, r *round, done chan struct{}) result {
	for {
		m.mu.Lock()
		d := f.deadline()
		m.mu.Unlock()
		var timer *time.Timer
		var fire <-chan time.Time
		if !d.IsZero() {
			timer = time.NewTimer(time.Until(d))
			fire = timer.C
		}
		select {
		case <-done:
		case <-fire:
			m.mu.Lock()
			if f.tick(time.Now()) && m.fetch == f && f.cur == r {
				close(m.roundDone)
			}
			m.mu.Unlock()
		case <-ctx.Done():
			m.endRound(r, resultCancelled)
		case <-m.run.Context().Done():
			m.endRound(r, resultCancelled)
		}
		if timer != nil {
			timer.Stop()
		}
		m.mu.Lock()
		res, closed := r.result, r.closed
		m.mu.Unlock()
		if closed {
			return res
		}
	}
}

// onMember is the membership subscription: GET_ALL_SESSIONS held for a
// name that was not a member are decided, and the round whose target left
// or restarted ends as gone. Runs on the cluster's goroutine; never blocks.
func (m *Manager) onMember(kind int, member string) {
	m.releaseGetAll(kind, member)
	if kind != MemberLeft && kind != MemberReplaced {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if f := m.fetch; f != nil && f.cur != nil && f.cur.target == member {
		m.endRoundLocked(f.cur, resultGone)
	}
}

// completed logs and counts a successful transfer.
func (m *Manager) completed(r *round, begin time.Time) {
	d := time.Since(begin)
	m.mu.Lock()
	m.snapT = r.snapshot
	m.mu.Unlock()
	m.stats.transfersCompleted.Add(1)
	m.stats.transferSessions.Store(uint64(r.sessions))
	m.stats.transferNanos.Store(uint64(d))
	m.log.Info().Str("member", r.target).Int("sessions", r.sessions).Int("chunks", r.chunks).
		Msgf("Manager [%s]; session state sent at [%s] received in [%d] ms.", m.cfg.Name, time.UnixMilli(r.snapshot).Format(javaDate), d.Milliseconds())
}

// awaitInBackground logs the outcome of a transfer Start did not wait for
// (StateTransferTimeout 0).
func (m *Manager) awaitInBackground(ctx context.Context, f *fetch, r *round, done chan struct{}, begin time.Time) {
	res := m.await(ctx, f, r, done)
	m.endFetch(f)
	if res == resultComplete {
		m.completed(r, begin)
		return
	}
	m.stats.transfersFailed.Add(1)
	m.log.Warn().Str("member", r.target).Int("sessions", r.sessions).
		Msgf("Manager [%s]: background session state transfer from [%s] did not complete.", m.cfg.Name, r.target)
}

// openLocked returns the round a reply from from belongs to, or nil; m.mu held.
func (m *Manager) openLocked(from string, id uint64) *round {
	if m.fetch == nil || m.stoppedLocked() {
		return nil
	}
	return m.fetch.open(from, id)
}

// receiveChunk installs one ALL_SESSION_DATA chunk. It runs on the
// transport's goroutine; the responder's sync send returns when it did.
func (m *Manager) receiveChunk(from string, msg *Message) error {
	m.mu.Lock()
	r := m.openLocked(from, msg.Transfer)
	m.mu.Unlock()
	if r == nil {
		m.stats.staleChunks.Add(1)
		return nil
	}
	recs := make([]session.Record, 0, len(msg.Sessions))
	for _, rec := range msg.Sessions {
		if rec.ID == "" {
			m.stats.badRecords.Add(1)
			continue
		}
		if rec, ok := m.guardRecord(from, rec); ok {
			recs = append(recs, rec)
		}
	}
	now := m.now()
	news := make([]*session.Session, len(recs))
	var olds []*session.Session
	m.mu.Lock()
	if m.openLocked(from, msg.Transfer) != r {
		m.mu.Unlock()
		m.stats.staleChunks.Add(1)
		return nil
	}
	for i, rec := range recs {
		s := session.FromRecord(rec, m.opts)
		if old := m.store.Put(s); old != nil {
			delete(m.meta, old)
			olds = append(olds, old)
		}
		m.meta[s] = &entry{announced: true, lastReplicated: now}
		news[i] = s
	}
	m.fetch.chunk(r, len(recs), msg.Timestamp, time.Now())
	m.mu.Unlock()
	for _, old := range olds {
		old.Expire(false)
	}
	m.stats.sessionsReplaced.Add(uint64(len(olds)))
	m.stats.sessionsReceived.Add(uint64(len(recs)))
	if m.cfg.NotifySessionListenersOnReplication && m.opts.Listeners != nil && m.opts.Listeners.Created != nil {
		for _, s := range news {
			m.opts.Listeners.FireCreated(s)
		}
	}
	return nil
}

// receiveComplete ends a round: complete only when every session the
// target says it sent was installed.
func (m *Manager) receiveComplete(from string, msg *Message) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.openLocked(from, msg.Transfer) == nil || !m.fetch.complete(from, msg.Transfer, msg.Count, msg.Seq, msg.Timestamp) {
		m.stats.staleChunks.Add(1)
		return
	}
	close(m.roundDone)
}

// receiveNoContext ends a round whose target has no such context.
func (m *Manager) receiveNoContext(from string, msg *Message) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if r := m.openLocked(from, msg.Transfer); r != nil {
		m.endRoundLocked(r, resultNoContext)
	}
}

// drainQueue applies what arrived during the transfer, dropping session
// events older than the snapshot (StateTimestampDrop), answers the
// GET_ALL_SESSIONS that waited, and switches to running.
func (m *Manager) drainQueue() {
	m.mu.Lock()
	snapT := m.snapT
	m.mu.Unlock()
	for {
		m.mu.Lock()
		if m.stoppedLocked() {
			m.mu.Unlock()
			return
		}
		q, g := m.queue, m.getAlls
		m.queue, m.getAlls = nil, nil
		if len(q) == 0 && len(g) == 0 {
			m.run.Ready()
			m.mu.Unlock()
			return
		}
		m.mu.Unlock()
		for _, it := range q {
			if stale(m.cfg.StateTimestampDrop, snapT, it.msg.Timestamp) {
				m.stats.staleDropped.Add(1)
				m.log.Warn().Str("peer", it.from).
					Msgf("Manager [%s]: Drop message [%s] inside GET_ALL_SESSIONS sync phase start date [%s] message date [%s]",
						m.cfg.Name, it.msg.Kind, time.UnixMilli(snapT).Format(javaDate), time.UnixMilli(it.msg.Timestamp).Format(javaDate))
				continue
			}
			m.apply(it.from, it.msg)
		}
		m.mu.Lock()
		for _, it := range g {
			m.goRespondLocked(it.from, it.msg.Transfer)
		}
		m.mu.Unlock()
	}
}

// goRespondLocked answers a GET_ALL_SESSIONS on its own goroutine; m.mu held.
func (m *Manager) goRespondLocked(to string, id uint64) {
	if m.stoppedLocked() {
		return
	}
	m.run.Go(func(ctx context.Context) { m.sendAllSessions(ctx, to, id) })
}

// sendAllSessions streams every session, as of now, to the requester: the
// shell around serve. Chunks of at most SendAllSessionsSize sessions and
// SendAllSessionsBytes bytes, each sync-acked, no pause, then
// TRANSFERCOMPLETE with the count once every chunk was acknowledged. Up to
// sendWindow chunks are in flight (serve decides), so the requester finds
// the next chunk in its socket as soon as it has handled one; the next
// chunk is cut and encoded while they travel, into one of sendWindow+1
// reused buffers: that bounds the memory an answer takes. An ack not back
// within StateTransferTimeout aborts it.
func (m *Manager) sendAllSessions(life context.Context, to string, id uint64) {
	begin := time.Now()
	snapT := m.now().UnixMilli()
	ctx, cancel := context.WithCancel(life)
	defer cancel()
	sv := newServe(sendWindow, m.cfg.StateTransferTimeout)
	cut := chunker{list: m.store.Sessions(), size: m.cfg.SendAllSessionsSize,
		maxBytes: m.cfg.SendAllSessionsBytes, principal: m.cfg.ReplicatePrincipal}
	type ack struct {
		seq int
		buf *bytes.Buffer
		err error
	}
	acks := make(chan ack, sendWindow+1) // never blocks: at most that many in flight
	var free []*bytes.Buffer
	for range sendWindow + 1 {
		free = append(free, new(bytes.Buffer))
	}
	var sends sync.WaitGroup
	defer sends.Wait()
	send := func(seq int, k Kind, buf *bytes.Buffer) {
		sends.Go(func() { acks <- ack{seq, buf, m.sendBytes(ctx, to, k, buf.Bytes(), OptionsSync)} })
	}
	encode := func(msg *Message) *bytes.Buffer {
		buf := free[len(free)-1]
		free = free[:len(free)-1]
		if err := encodeTo(buf, m.stamp(msg)); err != nil {
			sv.fail(err) // a broken invariant; never claim a complete state
			free = append(free, buf)
			return nil
		}
		return buf
	}
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		if sv.err != nil {
			cancel() // the sends in flight return at once
		}
		switch sv.next() {
		case actSend:
			recs, ok := cut.next()
			if !ok {
				sv.exhausted()
				continue
			}
			if buf := encode(&Message{Kind: KindAllSessionData, SessionID: "SESSION-STATE", Timestamp: snapT,
				Transfer: id, Seq: sv.chunks + 1, Sessions: recs}); buf != nil {
				send(sv.sent(len(recs), time.Now()), KindAllSessionData, buf)
			}
			continue
		case actComplete:
			if buf := encode(&Message{Kind: KindAllSessionTransferComplete, SessionID: "SESSION-STATE-TRANSFERRED",
				Timestamp: snapT, Transfer: id, Seq: sv.chunks, Count: sv.sessions}); buf != nil {
				send(sv.completeSent(time.Now()), KindAllSessionTransferComplete, buf)
			}
			continue
		case actDone:
			m.stats.transfersServed.Add(1)
			m.stats.sessionsSent.Add(uint64(sv.sessions))
			m.log.Info().Str("peer", to).Int("sessions", sv.sessions).Int("chunks", sv.chunks).
				Int64("ms", time.Since(begin).Milliseconds()).Msg("session state sent")
			return
		case actAbort:
			m.stats.transfersAborted.Add(1)
			m.log.Warn().Err(sv.err).Str("peer", to).Int("sessions", sv.sessions).Msg("session state transfer aborted")
			return
		}
		var fire <-chan time.Time
		if d := sv.deadline(); !d.IsZero() {
			if timer == nil {
				timer = time.NewTimer(time.Until(d))
			} else {
				timer.Reset(time.Until(d))
			}
			fire = timer.C
		}
		stop := ctx.Done()
		if sv.err != nil {
			stop = nil // cancelled already: wait for the sends in flight
		}
		select {
		case a := <-acks:
			sv.ack(a.seq, a.err)
			if a.err == nil {
				free = append(free, a.buf) // a failed send's buffer is not reused
			}
		case now := <-fire:
			sv.tick(now)
		case <-stop:
			sv.fail(ctx.Err())
		}
	}
}
