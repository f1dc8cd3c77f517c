package mcast

import (
	"context"
	"time"
)

// solicitGap is the least time between two answers to solicits: a flood
// of solicits (forged ones on an unsealed group included) costs at most
// one extra heartbeat per gap; solicits heard meanwhile share the next.
const solicitGap = 20 * time.Millisecond

// join is a starting member's fast join: the state between its solicit
// and Joined. Guarded by Service.mu.
type join struct {
	done     chan struct{} // closed when the join ends
	ended    bool
	answered bool // an answer arrived
	want     int  // the most members an answer said it knows
}

// heard records one accepted heartbeat's payload p while the table holds
// known members; it reports whether the join is complete: some member
// answered and this node knows at least as many members as any answer
// said it knew (the answerer counts this node, not itself).
func (j *join) heard(p Payload, known int) bool {
	if p.Flags&FlagAnswer != 0 {
		j.answered = true
		j.want = max(j.want, int(min(p.Members, 1<<20)))
	}
	return j.answered && known >= j.want
}

// end closes done once. Service.mu is held.
func (j *join) end() {
	if !j.ended {
		j.ended = true
		close(j.done)
	}
}

// Joined is closed when the fast join of Start ended (JoinTimeout): every
// member that answered the solicit is known, nobody answered within
// JoinQuiet, or JoinTimeout passed. With JoinTimeout 0 (and for an
// Observer) it is closed by Start.
func (s *Service) Joined() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.join.done
}

// joinLoop resends the solicit halfway through JoinQuiet if nobody has
// answered, ends a join nobody answered at JoinQuiet and any join at
// JoinTimeout. It runs once, from Start.
func (s *Service) joinLoop(ctx context.Context) {
	began := s.cfg.Now()
	steps := []time.Duration{s.cfg.JoinQuiet / 2, s.cfg.JoinQuiet, s.cfg.JoinTimeout}
	for i, at := range steps {
		t := time.NewTimer(at - s.cfg.Now().Sub(began))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-s.join.done:
			t.Stop()
			return
		case <-t.C:
		}
		s.mu.Lock()
		answered := s.join.answered
		if i > 0 && (!answered || i == len(steps)-1) {
			s.join.end()
			known := len(s.tab.members)
			s.mu.Unlock()
			s.log.Debug().Bool("answered", answered).Int("members", known).Msg("join ended without every answer")
			return
		}
		s.mu.Unlock()
		if i == 0 && !answered {
			s.send(FlagSolicit)
		}
	}
}

// answer asks the tick loop for a heartbeat in answer to a solicit.
func (s *Service) answer() {
	s.st.solicits.Add(1)
	select {
	case s.answers <- struct{}{}:
	default: // one is pending: it answers this solicit too
	}
}
