package cluster

import (
	"context"
	"errors"
	"syscall"
	"time"

	"github.com/gomcat/gomcat/mcast"
)

// state is where an entry stands in the failure detector.
type state uint8

const (
	statePending   state = iota // heard, receiver not confirmed: not a member
	stateLive                   // a member
	stateVerifying              // the membership lost it; probing its receiver
	stateSuspect                // the membership lost it; its receiver answers
	stateLeaving                // said goodbye unsealed: removed once its receiver stops answering
)

// entry is the event loop's record of one member name.
type entry struct {
	m       mcast.Member
	addr    string
	st      state
	gen     uint64
	probing bool      // a probe is in flight
	warned  bool      // pending: "receiver does not answer" logged
	asked   bool      // pending static member: answered its probe, its name asked
	since   time.Time // suspect: when verification found it alive

	// A newer incarnation of this name at another address: it replaces
	// this member only once this member's receiver stops answering.
	claim        *mcast.Member
	claimProbing bool
	claimUntil   time.Time // the last claim was refused: ignore claims until then
}

// provisional reports a static member whose name is still its address.
func (e *entry) provisional() bool { return e.m.Name == e.addr }

// heard takes the liveness fields of m, a later copy of e's member (from
// a Disappeared or Left event): entries keep the member of the event that
// added them, whose Alive is from the first heartbeat.
func (e *entry) heard(m mcast.Member) {
	if !m.LastHeard.Before(e.m.LastHeard) {
		e.m.Alive, e.m.LastHeard = m.Alive, m.LastHeard
	}
}

// aliveNow returns e's member with Alive brought up to now, for a member
// whose receiver just answered (it kept running since it was last heard).
func (e *entry) aliveNow(now time.Time) mcast.Member {
	m := e.m
	if !m.LastHeard.IsZero() && now.After(m.LastHeard) {
		m.Alive += now.Sub(m.LastHeard)
	}
	return m
}

// table is the failure detector's state; only the event loop touches it.
type table struct {
	entries map[string]*entry // by member name
	gens    map[string]uint64 // last generation per name, never reset
	dropped uint64            // membership events dropped, last seen
}

func newTable() *table {
	return &table{entries: map[string]*entry{}, gens: map[string]uint64{}}
}

type probeResult struct {
	name  string
	id    [16]byte
	err   error
	claim bool // a probe deciding a claim on the name (claim)
}

// nudge asks the loop to probe a member a send could not reach.
type nudge struct {
	name string
	gen  uint64
}

// run is the event loop: it owns the table, consumes membership events,
// probe results and nudges, and re-checks on a ticker. It ends when ctx
// ends (Stop).
func (c *Cluster) run(ctx context.Context) {
	events := c.members.Events()
	every := c.cfg.FailureDetector.RecheckInterval
	if every <= 0 {
		every = 500 * time.Millisecond
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	var ping <-chan time.Time // keeps members' connections from going idle
	if d := c.cfg.idleTimeout(); d > 0 {
		t := time.NewTicker(max(d/4, time.Millisecond))
		defer t.Stop()
		ping = t.C
	}
	c.publish()
	var settled []chan struct{} // Start's join waiters
	for {
		if len(settled) > 0 && c.settled() {
			for _, ch := range settled {
				close(ch)
			}
			settled = nil
		}
		select {
		case <-ctx.Done():
			return
		case ch := <-c.settle:
			settled = append(settled, ch)
		case ev, ok := <-events:
			if !ok {
				events = nil // membership stopped
				continue
			}
			c.onEvent(ctx, ev)
		case r := <-c.results:
			c.onProbe(ctx, r)
		case n := <-c.nudges:
			if e := c.tab.entries[n.name]; e != nil && e.gen == n.gen && e.st == stateLive && !e.probing {
				c.startProbe(ctx, e)
			}
		case <-c.urlSet:
			c.reannounce(ctx)
		case <-tick.C:
			c.onTick(ctx)
		case <-ping:
			c.keepAlive(ctx)
		}
	}
}

// settled reports whether every member the membership lists has been
// through its first probe: a member, or pending with the probe failed
// (a static member whose probe answered waits for its name too).
func (c *Cluster) settled() bool {
	for _, m := range c.members.Members() {
		e := c.find(m)
		if e == nil || e.st == statePending && (e.probing || e.asked && e.provisional()) {
			return false // its Added event is still queued, its probe runs, or its name is asked
		}
	}
	return true
}

func (c *Cluster) onEvent(ctx context.Context, ev mcast.Event) {
	m := ev.Member
	if m.Name == c.cfg.Name && m.UniqueID == c.self.UniqueID {
		return
	}
	switch ev.Kind {
	case mcast.Added:
		c.st.added.Add(1)
		c.added(ctx, m)
	case mcast.Disappeared:
		c.st.disappeared.Add(1)
		c.dropClaim(m)
		c.disappeared(ctx, m)
	case mcast.Left:
		c.st.left.Add(1)
		c.dropClaim(m)
		if e := c.find(m); e != nil {
			e.heard(m)
			c.left(ctx, e)
		}
	case mcast.Replaced:
		c.st.replaced.Add(1)
		c.replaced(ctx, ev.Old, m)
	case mcast.Updated:
		c.st.updated.Add(1)
		if e := c.find(m); e != nil {
			e.m = m
			if e.st != statePending {
				c.publish()
			}
		}
	}
}

// find returns the entry of m's name if it is the same incarnation.
func (c *Cluster) find(m mcast.Member) *entry {
	if e := c.tab.entries[m.Name]; e != nil && e.m.UniqueID == m.UniqueID {
		return e
	}
	return nil
}

// added handles a member the membership heard for the first time (or again
// after it had lost it): it becomes a member once its receiver answers.
func (c *Cluster) added(ctx context.Context, m mcast.Member) {
	if e := c.tab.entries[m.Name]; e != nil {
		if e.m.UniqueID == m.UniqueID {
			e.m = m
			if e.st == stateLeaving {
				c.st.goodbyesIgnored.Add(1)
				if ok, n := c.goodbyeLog.Allow(time.Now()); ok {
					c.log.Warn().Str("member", m.Name).Uint64("suppressed", n).
						Msg("goodbye not applied: the member's receiver answers and its heartbeats go on")
				}
			}
			if e.st == stateVerifying || e.st == stateSuspect || e.st == stateLeaving {
				e.st = stateLive
				c.log.Debug().Str("member", m.Name).Msg("member heartbeats resumed")
				c.publish()
			}
			return
		}
		if e.st != statePending && e.addr != m.Addr() && c.cfg.FailureDetector.Enabled {
			c.claim(ctx, e, m) // another address: a restart, or a takeover
			return
		}
		c.remove(e, "restarted") // a new incarnation under the same name
	}
	e := &entry{m: m, addr: m.Addr(), st: statePending}
	c.tab.entries[m.Name] = e
	if c.learn != nil {
		c.publish() // its host may announce itself now (staticHosts)
	}
	if !c.cfg.FailureDetector.Enabled {
		c.admit(ctx, e)
		return
	}
	c.startProbe(ctx, e)
}

// left handles a goodbye. A sealed one (a cluster key) is a fact: the
// member leaves at once. An unsealed one could come from anybody (its
// fields are all in the member's heartbeats), so it is applied only once
// the member's receiver stops answering; a member that goes on
// heartbeating stays. A stopping node says goodbye before it closes its
// receiver, so the first refused probe (every RecheckInterval) ends it.
func (c *Cluster) left(ctx context.Context, e *entry) {
	if len(c.cfg.Key) > 0 || c.cfg.Keys != nil || !c.cfg.FailureDetector.Enabled || e.st == statePending {
		c.remove(e, "left")
		c.takeClaim(ctx, e)
		return
	}
	e.st, e.since = stateLeaving, time.Now()
	if !e.probing {
		c.startProbe(ctx, e)
	}
}

// claim handles m, heard under the name of the live member e from another
// receiver address: m replaces e only once e's receiver stops answering
// (the membership may have dropped e after a forged goodbye, so it cannot
// tell). While e answers, claims are ignored for SuspectTimeout.
func (c *Cluster) claim(ctx context.Context, e *entry, m mcast.Member) {
	if e.claimProbing || time.Now().Before(e.claimUntil) {
		e.claim = &m // held: the newest claimant is the one takeClaim adds
		return
	}
	e.claim, e.claimProbing = &m, true
	c.st.probes.Add(1)
	host, port, timeout := e.m.Host.String(), e.m.Port, c.cfg.FailureDetector.ConnectTimeout
	r := probeResult{name: e.m.Name, id: e.m.UniqueID, claim: true}
	c.life.Go(func(context.Context) {
		r.err = c.verify(ctx, host, port, timeout)
		select {
		case c.results <- r:
		case <-ctx.Done():
		}
	})
}

// onClaim applies the probe that decides e's name claim.
func (c *Cluster) onClaim(ctx context.Context, e *entry, probeErr error) {
	e.claimProbing = false
	m := e.claim
	e.claim = nil
	if m == nil {
		return
	}
	if probeErr == nil {
		c.st.takeoversRefused.Add(1)
		e.claim = m // held until e leaves (takeClaim) or the claimant does (dropClaim)
		e.claimUntil = time.Now().Add(c.cfg.FailureDetector.SuspectTimeout)
		if ok, n := c.claimLog.Allow(time.Now()); ok {
			c.log.Warn().Str("member", e.m.Name).Str("claimant", m.String()).Uint64("suppressed", n).
				Msg("member not added: claims the name of a live member whose receiver still answers")
		}
		return
	}
	c.st.probeFailures.Add(1)
	c.remove(e, "restarted")
	c.added(ctx, *m)
}

// dropClaim forgets a held claim whose claimant the membership lost.
func (c *Cluster) dropClaim(m mcast.Member) {
	if e := c.tab.entries[m.Name]; e != nil && e.claim != nil && e.claim.UniqueID == m.UniqueID {
		e.claim = nil
	}
}

// takeClaim hands a claim on e's name to added once e was removed some
// other way (its goodbye or disappearance verified, a suspect timed out)
// while the claim was held (refused while e answered) or its probe was in
// flight (that probe's result finds no entry): the membership reports the
// claimant only once, so it would otherwise never become a member.
func (c *Cluster) takeClaim(ctx context.Context, e *entry) {
	if e.claim == nil || c.tab.entries[e.m.Name] == e {
		return
	}
	m := *e.claim
	e.claim, e.claimProbing = nil, false
	c.added(ctx, m)
}

// disappeared handles a member whose heartbeats stopped: verify first.
func (c *Cluster) disappeared(ctx context.Context, m mcast.Member) {
	e := c.find(m)
	if e == nil {
		return
	}
	e.heard(m) // log the alive time of its last heartbeat, not of its first
	switch e.st {
	case statePending:
		delete(c.tab.entries, m.Name)
		c.log.Debug().Str("member", m.Name).Msg("member gone before its receiver answered")
	case stateLive:
		if !c.cfg.FailureDetector.Enabled {
			c.remove(e, "expired")
			c.takeClaim(ctx, e)
			return
		}
		c.log.Info().Str("member", m.Name).Msg("Received memberDisappeared[" + e.m.String() + "] message. Will verify.")
		e.st = stateVerifying
		c.publish()
		if !e.probing {
			c.startProbe(ctx, e)
		}
	}
}

// replaced handles a restart (same name or address, new unique id): the
// old incarnation leaves and the new one joins at once. The same unique id
// under a new name is a static member whose real name was learned.
func (c *Cluster) replaced(ctx context.Context, old, m mcast.Member) {
	c.batch(func() { c.replace(ctx, old, m) })
}

func (c *Cluster) replace(ctx context.Context, old, m mcast.Member) {
	oe := c.find(old)
	if oe != nil && old.UniqueID == m.UniqueID {
		delete(c.tab.entries, old.Name)
		if e := c.tab.entries[m.Name]; e != nil {
			c.remove(e, "renamed")
		}
		oe.m = m
		c.tab.entries[m.Name] = oe
		// A probe in flight reports under the old name and is dropped:
		// the next tick probes again under the new one.
		oe.probing = false
		c.log.Debug().Str("member", m.Name).Str("was", old.Name).Msg("member name learned")
		switch {
		case oe.st == statePending && !oe.provisional() && !oe.probing:
			c.admit(ctx, oe) // its receiver answered: it was waiting for its name
		case oe.st != statePending:
			c.tab.gens[m.Name]++
			oe.gen = c.tab.gens[m.Name]
			c.publish()
		}
		return
	}
	if oe != nil {
		oe.heard(old)
		c.remove(oe, "restarted")
	}
	if e := c.tab.entries[m.Name]; e != nil {
		c.remove(e, "restarted")
	}
	e := &entry{m: m, addr: m.Addr(), st: statePending}
	c.tab.entries[m.Name] = e
	c.admit(ctx, e)
}

// admit makes e a member.
func (c *Cluster) admit(ctx context.Context, e *entry) {
	e.st = stateLive
	e.warned = false
	c.tab.gens[e.m.Name]++
	e.gen = c.tab.gens[e.m.Name]
	c.log.Info().Str("member", e.m.Name).Msg("Replication member added: " + e.m.String())
	c.publish()
	if c.learn != nil {
		c.announce(ctx, e.addr, announceAsk)
	}
}

// remove drops e: from the view (sends to it fail fast), then its sender
// connection (pending messages fail with transport.ErrPeerClosed).
func (c *Cluster) remove(e *entry, why string) {
	delete(c.tab.entries, e.m.Name)
	if e.st == statePending {
		return
	}
	c.st.removed.Add(1)
	c.log.Info().Str("member", e.m.Name).Str("reason", why).Msg("Replication member disappeared: " + e.m.String())
	c.publish()
	c.sender.ClosePeer(e.addr)
}

// probeAttempts bounds the TCP connects of one verification: at most
// probeAttempts × ConnectTimeout.
const probeAttempts = 3

func (c *Cluster) startProbe(ctx context.Context, e *entry) {
	e.probing = true
	c.st.probes.Add(1)
	host, port, timeout := e.m.Host.String(), e.m.Port, c.cfg.FailureDetector.ConnectTimeout
	r := probeResult{name: e.m.Name, id: e.m.UniqueID}
	c.life.Go(func(context.Context) {
		r.err = c.verify(ctx, host, port, timeout)
		select {
		case c.results <- r:
		case <-ctx.Done():
		}
	})
}

// verify probes a member's receiver with up to probeAttempts TCP connects
// of timeout each, stopping at the first that succeeds. One connect is not
// enough: its timeout (1 s by default) is the kernel's first SYN
// retransmit, so a single lost SYN or SYN-ACK would drop a live member
// (half the probes failed under 30% loss each way). A refusal (nothing
// listens, or the host or network is unreachable) ends it at once: asking
// again would get the same answer. A reset after connecting (a busy
// backlog) is asked again, like a timeout.
func (c *Cluster) verify(ctx context.Context, host string, port int, timeout time.Duration) error {
	var err error
	for range probeAttempts {
		err = c.probe(ctx, host, port, timeout)
		if err == nil || refused(err) || ctx.Err() != nil {
			return err
		}
	}
	return err
}

// refused reports a connect the member's host actively turned down.
func refused(err error) bool {
	return errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EHOSTUNREACH) ||
		errors.Is(err, syscall.ENETUNREACH)
}

func (c *Cluster) onProbe(ctx context.Context, r probeResult) {
	e := c.tab.entries[r.name]
	if e == nil || e.m.UniqueID != r.id {
		return
	}
	if r.claim {
		c.onClaim(ctx, e, r.err)
		return
	}
	defer c.takeClaim(ctx, e)
	e.probing = false
	if r.err != nil {
		c.st.probeFailures.Add(1)
	}
	switch e.st {
	case statePending:
		if r.err == nil && c.learn != nil && e.provisional() {
			// A static member known by address only: ask its name first
			// (asked again on every re-check until the reply renames it).
			e.asked = true
			c.announce(ctx, e.addr, announceAsk)
			return
		}
		if r.err == nil {
			c.admit(ctx, e)
			return
		}
		c.st.notAdded.Add(1)
		if !e.warned {
			e.warned = true
			if ok, n := c.notAddedLog.Allow(time.Now()); ok {
				c.log.Warn().Err(r.err).Str("member", e.m.Name).Uint64("suppressed", n).
					Msg("member sends heartbeats but its receiver does not answer; not added until it does: " + e.m.String())
			}
		}
	case stateLive: // probed after a failed send
		if r.err != nil {
			c.log.Warn().Err(r.err).Str("member", e.m.Name).Msg("member's receiver does not answer; removed until it does")
			c.remove(e, "unreachable")
			e.st, e.warned = statePending, true
			c.tab.entries[e.m.Name] = e // heartbeats continue: re-probed on every tick
		}
	case stateVerifying:
		if r.err == nil {
			c.st.suspects.Add(1)
			e.st = stateSuspect
			e.since = time.Now()
			c.log.Info().Str("member", e.m.Name).Msg("Verification complete. Member still alive[" + e.aliveNow(e.since).String() + "]")
			c.publish()
			return
		}
		c.log.Info().Err(r.err).Str("member", e.m.Name).Msg("Verification complete. Member disappeared[" + e.m.String() + "]")
		c.remove(e, "expired")
	case stateSuspect:
		if r.err != nil {
			c.remove(e, "expired")
		}
	case stateLeaving:
		if r.err != nil {
			c.remove(e, "left")
		}
	}
}

// onTick re-probes pending members and suspects, times suspects out and
// reconciles with the membership when it dropped events.
func (c *Cluster) onTick(ctx context.Context) {
	if d := c.members.Stats().EventsDropped; d != c.tab.dropped {
		c.tab.dropped = d
		c.reconcile(ctx)
	}
	if !c.cfg.FailureDetector.Enabled {
		return
	}
	now := time.Now()
	for _, e := range c.tab.entries {
		switch {
		case e.probing:
		case e.st == statePending:
			c.startProbe(ctx, e)
		case e.st == stateSuspect && now.Sub(e.since) > c.cfg.FailureDetector.SuspectTimeout:
			c.log.Info().Str("member", e.m.Name).Dur("suspect_for", now.Sub(e.since)).
				Msg("suspect's heartbeats never resumed")
			c.remove(e, "suspect timeout")
			c.takeClaim(ctx, e)
		case e.st == stateSuspect:
			c.startProbe(ctx, e)
		case e.st == stateLeaving && now.Sub(e.since) > c.cfg.FailureDetector.SuspectTimeout:
			c.remove(e, "left")
			c.takeClaim(ctx, e)
		case e.st == stateLeaving:
			c.startProbe(ctx, e)
		}
	}
}

// reconcile replays what the membership knows after it dropped events.
func (c *Cluster) reconcile(ctx context.Context) {
	c.log.Warn().Msg("membership events were dropped; reconciling with its member list")
	heard := map[string]mcast.Member{}
	for _, m := range c.members.Members() {
		heard[m.Name] = m
		if e := c.find(m); e == nil || e.st == stateVerifying || e.st == stateSuspect {
			c.added(ctx, m)
		}
	}
	for name, e := range c.tab.entries {
		if m, ok := heard[name]; (!ok || m.UniqueID != e.m.UniqueID) && (e.st == statePending || e.st == stateLive) {
			c.disappeared(ctx, e.m)
		}
	}
}
