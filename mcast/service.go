package mcast

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/gomcat/gomcat/internal/burst"
	"github.com/gomcat/gomcat/internal/seal"
	"github.com/gomcat/gomcat/runtime/lifecycle"
)

// Membership is what Service, Observer and Static have in common.
type Membership interface {
	// Start opens sockets and starts goroutines; it blocks for EstablishWait
	// (Service) or until ctx ends. Call once.
	Start(ctx context.Context) error
	// Stop announces the shutdown (Service), stops every goroutine and closes
	// Events. Idempotent; returns ctx.Err() if ctx ends before goroutines exit.
	Stop(ctx context.Context) error
	// Events delivers membership changes; closed by Stop. Never blocks the
	// service: when full, the oldest event is dropped (Stats.EventsDropped).
	Events() <-chan Event
	// Members returns the live members, oldest first (StartedAt, UniqueID).
	Members() []Member
	// Stats returns counters. All methods are safe for concurrent use.
	Stats() Stats
}

var (
	_ Membership = (*Service)(nil)
	_ Membership = (*Observer)(nil)
	_ Membership = (*Static)(nil)
)

// Sealed datagram (format 2): "GMSEAL" 0x02 ‖ sender unique id (16) ‖
// seal output (heartbeat key) whose associated data is the 23 bytes before
// it, so a heartbeat opens only as the member it names. Format 1 (before
// key ids) is refused and counted (Stats.OldFormat).
var (
	sealMagic    = []byte("GMSEAL")
	sealPrefix   = []byte("GMSEAL\x02")
	sealHeader   = len(sealPrefix) + 16
	sealOldMagic = []byte("GMSEAL\x01")
)

// Service is Tomcat's McastService: it heartbeats the local member to the
// group, listens for the others and reports changes. Safe for concurrent use.
type Service struct {
	cfg    Config
	log    zerolog.Logger
	silent bool // Observer: never sends
	sealer *seal.Sealer
	ev     *emitter
	kick   chan struct{}
	st     counters

	answers chan struct{} // solicits to answer (cap 1: they coalesce)

	// receive loop counters of consecutive errors; either reaching
	// RecoveryCounter triggers recovery.
	recvErrs, sendErrs atomic.Int32

	connMu sync.Mutex // guards conn; never held with mu
	conn   packetConn

	mu    sync.Mutex // guards the fields below; taken before emitter.mu
	tab   *table
	local Member
	start time.Time
	run   lifecycle.Runner // Begin, Ready and End under mu
	join  join

	cappedLog, takeoverLog *burst.Limiter // once per burst
}

// New validates cfg (including cfg.Local) and allocates a Service with a
// fresh random UniqueID. No sockets, no goroutines until Start.
func New(cfg Config) (*Service, error) {
	if err := errors.Join(cfg.Validate(), cfg.Local.validate()); err != nil {
		return nil, err
	}
	s, err := newService(cfg, false)
	if err != nil {
		return nil, err
	}
	s.local = Member{
		Name:    cfg.Local.Name,
		Domain:  cfg.Domain,
		Host:    net.ParseIP(cfg.Local.Host),
		Port:    cfg.Local.Port,
		HTTPURL: cfg.Local.HTTPURL,
	}
	if v4 := s.local.Host.To4(); v4 != nil {
		s.local.Host = v4
	}
	_, _ = rand.Read(s.local.UniqueID[:])
	s.tab = newTable(s.cfg, &s.local)
	s.log = s.log.With().Str("member", s.local.Name).Logger()
	return s, nil
}

func newService(cfg Config, silent bool) (*Service, error) {
	cfg = cfg.withDefaults()
	s := &Service{
		cfg:    cfg,
		log:    cfg.Logger.With().Str("component", "mcast").Logger(),
		silent: silent,
		ev:     newEmitter(cfg.EventBuffer),
		kick:   make(chan struct{}, 1),

		answers: make(chan struct{}, 1),
		join:    join{done: make(chan struct{})},

		cappedLog:   burst.New(0),
		takeoverLog: burst.New(0),
	}
	if ring, err := cfg.ring(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrConfig, err)
	} else if ring != nil {
		if s.sealer, err = seal.New(ring, seal.PurposeHeartbeat); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrConfig, err)
		}
	}
	s.tab = newTable(cfg, nil)
	return s, nil
}

// Start joins the group, sends the first heartbeat (soliciting answers
// unless JoinTimeout is 0; see Joined), starts the goroutines and then
// waits EstablishWait (logged as Tomcat does) or until ctx ends, in which
// case it returns ctx.Err() with the service running: call Stop.
func (s *Service) Start(ctx context.Context) error {
	s.mu.Lock()
	life, err := s.run.Begin()
	switch {
	case errors.Is(err, lifecycle.ErrStarted):
		s.mu.Unlock()
		return ErrStarted
	case err != nil:
		s.mu.Unlock()
		return ErrClosed
	}
	pc, err := s.cfg.listen(s.cfg)
	if err != nil {
		s.run.Abort()
		s.mu.Unlock()
		return err
	}
	s.setConn(pc)
	s.start = s.cfg.Now()
	s.local.StartedAt = s.start.UnixMilli()
	solicit := !s.silent && s.cfg.JoinTimeout > 0
	if !solicit {
		s.join.end()
	}
	s.run.Ready()
	s.mu.Unlock()

	s.run.Go(s.receiveLoop)
	s.run.Go(s.tickLoop)
	ev := s.log.Info().Str("group", net.JoinHostPort(s.cfg.Address, strconv.Itoa(s.cfg.Port))).
		Str("bind", s.cfg.Bind).Str("domain", s.cfg.Domain).Bool("sealed", s.sealer != nil)
	if s.silent {
		ev.Msg("membership observer started")
		return nil
	}
	if solicit {
		s.send(FlagSolicit)
		s.run.Go(s.joinLoop)
	} else {
		s.send(0)
	}
	ev.Str("local", s.Local().String()).Msg("membership started")
	if w := s.cfg.EstablishWait; w > 0 {
		s.log.Info().Msgf("Sleeping for %d milliseconds to establish cluster membership", w.Milliseconds())
		t := time.NewTimer(w)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-life.Done(): // stopped meanwhile
			return nil
		case <-t.C:
		}
		s.log.Info().Msg("Done sleeping, membership established")
	}
	return nil
}

// Stop sends the shutdown heartbeat (BABY-ALEX, twice) unless silent, stops the
// goroutines, closes the socket and then Events. Idempotent.
func (s *Service) Stop(ctx context.Context) error {
	s.mu.Lock()
	prev := s.run.End() // cancels the loops
	s.mu.Unlock()
	if prev != lifecycle.Running {
		s.ev.close()
		return nil
	}
	if !s.silent {
		s.send(flagShutdown) // twice: one lost datagram should not cost peers DropTime;
		s.send(flagShutdown) // the second is ignored by whoever got the first
	}
	s.setConn(nil)
	if err := s.run.Wait(ctx); err != nil {
		return fmt.Errorf("mcast: stop: %w", err)
	}
	s.ev.close()
	s.log.Info().Msg("membership stopped")
	return nil
}

// Events delivers Added, Replaced, Disappeared, Left and Updated for Gomcat
// members (never for foreign ones). Closed by Stop.
func (s *Service) Events() <-chan Event { return s.ev.ch }

// Members returns the live Gomcat members except this node, oldest first.
func (s *Service) Members() []Member {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tab.list(s.silent)
}

// Foreign returns the live foreign (Tomcat) members heard on the group.
func (s *Service) Foreign() []Member {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Member
	for _, m := range s.tab.list(true) {
		if m.Foreign {
			out = append(out, m)
		}
	}
	return out
}

// Local returns this node as peers see it (StartedAt is set by Start).
func (s *Service) Local() Member {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.local.clone()
	if s.run.State() == lifecycle.Running {
		m.Alive = s.cfg.Now().Sub(s.start)
	}
	return m
}

// Update changes the advertised HTTP URL and sends an extra heartbeat now.
func (s *Service) Update(httpURL string) error {
	if err := validURL(httpURL); err != nil {
		return fmt.Errorf("%w: HTTPURL: %v", ErrConfig, err)
	}
	s.mu.Lock()
	s.local.HTTPURL = httpURL
	s.mu.Unlock()
	select {
	case s.kick <- struct{}{}:
	default:
	}
	return nil
}

// Stats returns the counters.
func (s *Service) Stats() Stats {
	st := s.st.snapshot()
	st.EventsDropped = s.ev.dropped.Load()
	s.mu.Lock()
	st.Members, st.ForeignMembers = len(s.tab.members), len(s.tab.foreign)
	s.mu.Unlock()
	return st
}

func (s *Service) getConn() packetConn {
	s.connMu.Lock()
	defer s.connMu.Unlock()
	return s.conn
}

// setConn swaps the socket, closing the old one.
func (s *Service) setConn(pc packetConn) {
	s.connMu.Lock()
	old := s.conn
	s.conn = pc
	s.connMu.Unlock()
	if old != nil {
		_ = old.Close()
	}
}

// flagShutdown is send's flag for the goodbye (BABY-ALEX); it is not a
// payload flag.
const flagShutdown uint64 = 1 << 63

// heartbeat encodes (and seals) the local member's packet with the payload
// flags (FlagSolicit, FlagAnswer: then with the member count) or the
// goodbye (flagShutdown).
func (s *Service) heartbeat(flags uint64) ([]byte, error) {
	s.mu.Lock()
	l := s.local
	alive := s.cfg.Now().Sub(s.start).Milliseconds()
	known := len(s.tab.members)
	s.mu.Unlock()
	p := Payload{Protocol: ProtocolVersion, Name: l.Name, HTTPURL: l.HTTPURL, StartedAt: l.StartedAt, Flags: flags &^ flagShutdown}
	if flags&FlagAnswer != 0 {
		p.Members = uint64(known)
	}
	payload, err := EncodePayload(nil, p)
	if err != nil {
		return nil, err
	}
	h := Heartbeat{Alive: alive, Port: l.Port, SecurePort: -1, UDPPort: -1, Host: l.Host,
		Domain: []byte(s.cfg.Domain), UniqueID: l.UniqueID, Payload: payload}
	if flags&flagShutdown != 0 {
		h.Command = ShutdownCommand
	}
	b, err := h.AppendTo(make([]byte, 0, h.Size()))
	if err != nil || s.sealer == nil {
		return b, err
	}
	out := append(make([]byte, 0, sealHeader+len(b)+seal.Overhead), sealPrefix...)
	out = append(out, l.UniqueID[:]...)
	return s.sealer.SealAD(out, b, out[:sealHeader]), nil
}

func (s *Service) send(flags uint64) {
	pc := s.getConn()
	if pc == nil {
		return
	}
	b, err := s.heartbeat(flags)
	if err != nil {
		s.log.Error().Err(err).Msg("encode heartbeat") // a broken invariant, not a peer's fault
		return
	}
	if err := pc.WriteTo(b); err != nil {
		s.st.sendErrors.Add(1)
		s.log.Debug().Err(err).Msg("send heartbeat")
		if int(s.sendErrs.Add(1)) >= s.cfg.RecoveryCounter {
			_ = pc.Close() // wakes the receive loop, which runs recovery
		}
		return
	}
	s.sendErrs.Store(0)
	s.st.sent.Add(1)
}

// tickLoop sends a heartbeat every Frequency (and on Update), answers
// solicits (at most one answer per solicitGap) and expires silent
// members. Exits when ctx ends.
func (s *Service) tickLoop(ctx context.Context) {
	t := time.NewTicker(s.cfg.Frequency)
	defer t.Stop()
	var gap <-chan time.Time // set while an answer waits for solicitGap
	var lastAnswer time.Time
	answer := func() {
		lastAnswer = time.Now()
		s.st.answers.Add(1)
		s.send(FlagAnswer)
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if !s.silent {
				s.send(0)
			}
			s.expire()
		case <-s.kick:
			if !s.silent {
				s.send(0)
			}
		case <-s.answers:
			if gap != nil {
				continue // the answer already waiting covers this solicit
			}
			if wait := solicitGap - time.Since(lastAnswer); wait > 0 {
				gap = time.After(wait)
				continue
			}
			answer()
		case <-gap:
			gap = nil
			answer()
		}
	}
}

func (s *Service) expire() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ev := range s.tab.expire(s.cfg.Now()) {
		s.log.Debug().Str("peer", ev.Member.String()).Msg("member disappeared")
		s.ev.emit(ev)
	}
}

// receiveLoop reads the group socket until ctx ends; it owns recovery.
func (s *Service) receiveLoop(ctx context.Context) {
	buf := make([]byte, MaxPacket+1)
	for ctx.Err() == nil {
		pc := s.getConn()
		if pc == nil || int(s.sendErrs.Load()) >= s.cfg.RecoveryCounter {
			if !s.recover(ctx, errors.New("send errors")) {
				return
			}
			continue
		}
		_ = pc.SetReadDeadline(time.Now().Add(s.cfg.Frequency))
		n, misdirected, err := pc.ReadFrom(buf)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			if errors.Is(err, os.ErrDeadlineExceeded) {
				continue
			}
			s.st.receiveErrors.Add(1)
			s.log.Debug().Err(err).Msg("receive heartbeat")
			if int(s.recvErrs.Add(1)) >= s.cfg.RecoveryCounter {
				if !s.recover(ctx, err) {
					return
				}
				continue
			}
			if !sleep(ctx, s.cfg.Frequency) { // never spin on a broken socket
				return
			}
			continue
		}
		s.recvErrs.Store(0)
		s.st.received.Add(1)
		if misdirected {
			s.st.misdirected.Add(1)
			continue
		}
		s.handle(buf[:n])
	}
}

// recover closes the socket and reopens it every RecoverySleep until it
// works or ctx ends (false). One warning per episode, like Tomcat's
// "Tribes membership running recovery thread. Multicasting is not functional."
// With RecoveryDisabled it closes the socket, logs an error and returns
// false: the receive loop ends and heartbeats stop (the tick loop finds no
// socket), while expiry goes on.
func (s *Service) recover(ctx context.Context, cause error) bool {
	s.setConn(nil)
	if s.cfg.RecoveryDisabled {
		s.st.gaveUp.Store(true)
		s.log.Error().Err(cause).Int("errors", s.cfg.RecoveryCounter).
			Msg("membership socket failing and recovery is disabled (recoveryEnabled=\"false\"); multicasting stopped")
		return false
	}
	s.st.recoveries.Add(1)
	s.log.Warn().Err(cause).Int("errors", s.cfg.RecoveryCounter).Dur("retry", s.cfg.RecoverySleep).
		Msg("membership socket failing, multicasting is not functional; recovering")
	for {
		if !sleep(ctx, s.cfg.RecoverySleep) {
			return false
		}
		pc, err := s.cfg.listen(s.cfg)
		if err != nil {
			s.log.Debug().Err(err).Msg("membership recovery attempt failed")
			continue
		}
		s.connMu.Lock()
		if ctx.Err() != nil {
			s.connMu.Unlock()
			_ = pc.Close()
			return false
		}
		s.conn = pc
		s.connMu.Unlock()
		s.recvErrs.Store(0)
		s.sendErrs.Store(0)
		s.log.Info().Msg("membership socket recovered")
		select {
		case s.kick <- struct{}{}:
		default:
		}
		return true
	}
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// handle unseals, decodes and applies one datagram.
func (s *Service) handle(b []byte) {
	var sender []byte // the unique id the seal binds, nil if clear
	if s.sealer != nil {
		if bytes.HasPrefix(b, sealOldMagic) {
			s.st.rejected.Add(1)
			if s.st.oldFormat.Add(1) == 1 {
				s.log.Warn().Msg("heartbeat sealed in format 1 (a gomcat before key ids) refused; upgrade that node (counted in rejected)")
			}
			return
		}
		if !bytes.HasPrefix(b, sealPrefix) || len(b) < sealHeader {
			s.st.rejected.Add(1)
			s.log.Debug().Err(ErrSealed).Msg("drop unsealed datagram")
			return
		}
		pt, err := s.sealer.OpenAD(nil, b[sealHeader:], b[:sealHeader])
		if err != nil {
			s.st.rejected.Add(1)
			s.log.Debug().Err(err).Msg("drop sealed datagram")
			return
		}
		sender, b = b[len(sealPrefix):sealHeader], pt
	} else if bytes.HasPrefix(b, sealMagic) {
		s.st.rejected.Add(1)
		s.log.Debug().Err(ErrSealed).Msg("drop sealed datagram: no key configured")
		return
	}
	h, err := DecodeHeartbeat(b)
	if err != nil {
		s.st.decodeErrors.Add(1)
		s.log.Debug().Err(err).Int("bytes", len(b)).Msg("drop heartbeat")
		return
	}
	if sender != nil && !bytes.Equal(sender, h.UniqueID[:]) {
		s.st.rejected.Add(1)
		s.log.Debug().Msg("drop sealed heartbeat: its unique id differs from the sealed sender's")
		return
	}
	s.apply(h)
}

func (s *Service) apply(h Heartbeat) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, m, evs, err := s.tab.receive(h, s.cfg.Now())
	if o == oKnown || o == oNew {
		s.solicited(h.Payload)
	}
	switch o {
	case oOtherDomain:
		s.st.otherDomain.Add(1)
	case oBadPayload:
		s.st.decodeErrors.Add(1)
		s.log.Debug().Err(err).Msg("drop heartbeat")
	case oForeign:
		s.st.foreign.Add(1)
	case oForeignNew:
		s.st.foreign.Add(1)
		s.log.Info().Str("peer", m.String()).Msg("foreign member (not gomcat) on the multicast group; ignored")
	case oConflict:
		s.st.conflicts.Add(1)
		if s.tab.firstLog(m.UniqueID) {
			s.log.Warn().Str("peer", m.String()).Msg("member conflicts with this node or a newer incarnation; ignored")
		}
	case oCapped:
		s.st.capped.Add(1)
		if ok, n := s.cappedLog.Allow(s.cfg.Now()); ok {
			s.log.Warn().Str("peer", m.String()).Int("max", s.cfg.MaxMembers).Uint64("suppressed", n).
				Msg("member not added: membership table full (maxMembers)")
		}
	case oChallenge:
		s.st.conflicts.Add(1)
	case oProbe:
		s.st.conflicts.Add(1)
		if old, ok := s.tab.claimed(m.identity()); ok {
			s.probeTakeover(old, m.identity())
		}
	}
	s.emit(evs)
}

// solicited answers a solicit and advances this node's own join with the
// payload of an accepted member's heartbeat. s.mu is held.
func (s *Service) solicited(payload []byte) {
	p, err := DecodePayload(payload) // decoded again: the table keeps no flags
	if err != nil {
		return
	}
	if p.Flags&FlagSolicit != 0 && !s.silent {
		s.answer()
	}
	if !s.join.ended && s.join.heard(p, len(s.tab.members)) {
		s.join.end()
	}
}

// probeTakeover probes old's receiver on its own goroutine and settles the
// claim on its name (table.settle). s.mu is held.
func (s *Service) probeTakeover(old Member, claimant identity) {
	host, port, timeout := old.Host.String(), old.Port, s.cfg.TakeoverProbeTimeout
	s.run.Go(func(ctx context.Context) { // ends at Stop
		err := s.cfg.probe(ctx, host, port, timeout)
		if ctx.Err() != nil {
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		m, refused, evs := s.tab.settle(claimant, err, s.cfg.Now())
		if refused {
			s.st.takeoversRefused.Add(1)
			if ok, n := s.takeoverLog.Allow(s.cfg.Now()); ok {
				s.log.Warn().Str("peer", m.String()).Str("old", old.String()).Uint64("suppressed", n).
					Msg("member not added: claims the name of a live member whose receiver still answers")
			}
		}
		s.emit(evs)
	})
}

// emit logs and delivers evs. s.mu is held.
func (s *Service) emit(evs []Event) {
	for _, ev := range evs {
		l := s.log.Debug().Str("peer", ev.Member.String())
		if ev.Kind == Replaced {
			l = l.Str("old", ev.Old.String())
		}
		l.Msg("member " + ev.Kind.String())
		s.ev.emit(ev)
	}
}
