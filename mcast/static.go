package mcast

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/gomcat/gomcat/runtime/lifecycle"
)

// StaticConfig configures a Static membership (Tomcat's
// StaticMembershipService) for networks without multicast.
type StaticConfig struct {
	// Members lists the peers; an entry equal to Local's host:port is skipped.
	Members []StaticMember
	// Local describes this node (Name, Host, Port required).
	Local LocalMember
	// Domain is reported in every Member. Default: "".
	Domain string
	// ConnectTimeout bounds each TCP probe. Default: 1000ms.
	ConnectTimeout time.Duration
	// Interval between probe rounds. Default: 1000ms.
	Interval time.Duration
	// ExpirationTime: a member whose probes fail (other than "connection
	// refused", which drops it at once) for longer is Disappeared. Default: 5000ms.
	ExpirationTime time.Duration
	// EventBuffer is the Events capacity (drop-oldest when full). Default: 256.
	EventBuffer int
	// Logger. Default: zerolog.Nop().
	Logger zerolog.Logger
	// Now is the clock. Default: time.Now.
	Now func() time.Time
	// Discover, when set, is asked for the peers before every probe round
	// (Tomcat's CloudMembershipService: DNS, the Kubernetes API): new
	// addresses join Members (a Port of 0 is Local's port; Local's own
	// host:port is skipped, and at most 1024 are kept); one that
	// vanishes from the answer stays while it answers probes, and is
	// dropped when it stops. An error keeps the previous list (it is
	// logged at Warn when it changes). Its ctx is bounded by
	// ConnectTimeout + DiscoverTimeout. Default: nil (Members only).
	Discover func(ctx context.Context) ([]StaticMember, error)
	// DiscoverTimeout bounds one Discover call beyond ConnectTimeout.
	// Default: 1000ms (Tomcat's readTimeout).
	DiscoverTimeout time.Duration
	// Probe checks one member's receiver; a nil error means alive. A
	// sealed cluster sets a check that the peer proves the cluster key
	// (runtime/cluster: transport.Greet). Default: Probe (TCP connect).
	Probe func(ctx context.Context, host string, port int, timeout time.Duration) error
}

// StaticMember is one configured peer (Tomcat's <Member host port uniqueId/>).
type StaticMember struct {
	// Host is the receiver IP literal. Required.
	Host string
	// Port is the receiver TCP port. Required.
	Port int
	// UniqueID as in Tomcat; zero means derived from host:port (stable).
	UniqueID [16]byte
	// Name is the jvmRoute if known; "" means "host:port" until Learn is
	// called with the real name (which emits Replaced).
	Name string
	// HTTPURL for balancers; optional, may be learned too.
	HTTPURL string
}

// DefaultStaticConfig returns Tomcat-like timings (connectTimeout 1000 ms as
// TcpFailureDetector, expirationTime 5000 ms, ping every 1000 ms).
func DefaultStaticConfig() StaticConfig {
	return StaticConfig{
		ConnectTimeout: time.Second,
		Interval:       time.Second,
		ExpirationTime: 5 * time.Second,
		EventBuffer:    256,
		Logger:         zerolog.Nop(),
		Now:            time.Now,
	}
}

// Validate checks timings, Local and every member.
func (c StaticConfig) Validate() error {
	var errs []error
	bad := func(format string, a ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrConfig}, a...)...))
	}
	if c.ConnectTimeout <= 0 || c.Interval <= 0 {
		bad("ConnectTimeout %v and Interval %v must be > 0", c.ConnectTimeout, c.Interval)
	}
	if c.ExpirationTime <= c.Interval {
		bad("ExpirationTime %v must exceed Interval %v", c.ExpirationTime, c.Interval)
	}
	if c.EventBuffer < 0 {
		bad("EventBuffer %d must be >= 0", c.EventBuffer)
	}
	if err := c.Local.validate(); err != nil {
		errs = append(errs, err)
	}
	seen := map[string]bool{}
	for i, m := range c.Members {
		if ip := net.ParseIP(m.Host); ip == nil || ip.IsUnspecified() || ip.IsMulticast() {
			bad("Members[%d].Host %q is not a unicast IP", i, m.Host)
		}
		if m.Port < 1 || m.Port > 65535 {
			bad("Members[%d].Port %d out of range", i, m.Port)
		}
		if m.Name != "" {
			if err := validName(m.Name); err != nil {
				bad("Members[%d].Name: %v", i, err)
			}
		}
		if err := validURL(m.HTTPURL); err != nil {
			bad("Members[%d].HTTPURL: %v", i, err)
		}
		k := net.JoinHostPort(m.Host, strconv.Itoa(m.Port))
		if seen[k] {
			bad("Members[%d]: %s listed twice", i, k)
		}
		seen[k] = true
	}
	return errors.Join(errs...)
}

// ParseUniqueID reads Tomcat's uniqueId spelling "{0,1,2,…,15}" (16 signed or
// unsigned bytes) or 32 hex digits.
func ParseUniqueID(s string) ([16]byte, error) {
	var id [16]byte
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}") {
		parts := strings.Split(s[1:len(s)-1], ",")
		if len(parts) != 16 {
			return id, fmt.Errorf("%w: uniqueId has %d bytes, want 16", ErrConfig, len(parts))
		}
		for i, p := range parts {
			v, err := strconv.Atoi(strings.TrimSpace(p))
			if err != nil || v < -128 || v > 255 {
				return id, fmt.Errorf("%w: uniqueId byte %q", ErrConfig, p)
			}
			id[i] = byte(v)
		}
		return id, nil
	}
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != 16 {
		return id, fmt.Errorf("%w: uniqueId %q: want {b,…} with 16 bytes or 32 hex digits", ErrConfig, s)
	}
	copy(id[:], b)
	return id, nil
}

type staticEntry struct {
	m         Member
	live      bool
	fixed     bool      // from Members: never gone
	gone      bool      // no longer discovered: dropped once not live
	leftAt    time.Time // its goodbye (Leave): not re-added until a probe fails or ExpirationTime passed
	firstSeen time.Time
}

// maxDiscovered bounds the members a Discover answer can add.
const maxDiscovered = 1024

// Static is membership from a fixed or discovered list, liveness by probes
// (Probe: a TCP connect) to each member's receiver port every Interval.
// Same methods and events as Service; Left comes from Leave (a peer's
// goodbye travels over the transport: runtime/cluster's announce). Safe
// for concurrent use.
type Static struct {
	cfg StaticConfig
	log zerolog.Logger
	ev  *emitter
	st  counters

	mu          sync.Mutex // guards below; taken before emitter.mu
	entries     []*staticEntry
	discoverErr string // the last Discover error logged, "" after a success
	local       Member
	run         lifecycle.Runner // Begin and End under mu
	joined      chan struct{}    // closed when Start's first round ended
}

// NewStatic validates cfg and allocates a Static; no probes until Start.
func NewStatic(cfg StaticConfig) (*Static, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.EventBuffer == 0 {
		cfg.EventBuffer = 256
	}
	if cfg.Probe == nil {
		cfg.Probe = Probe
	}
	if cfg.DiscoverTimeout <= 0 {
		cfg.DiscoverTimeout = time.Second
	}
	s := &Static{
		cfg:    cfg,
		log:    cfg.Logger.With().Str("component", "mcast").Str("member", cfg.Local.Name).Logger(),
		ev:     newEmitter(cfg.EventBuffer),
		joined: make(chan struct{}),
		local: Member{Name: cfg.Local.Name, Domain: cfg.Domain, Host: normIP(cfg.Local.Host),
			Port: cfg.Local.Port, HTTPURL: cfg.Local.HTTPURL},
	}
	_, _ = rand.Read(s.local.UniqueID[:])
	for _, sm := range cfg.Members {
		if e := s.newEntry(sm); e != nil {
			e.fixed = true
			s.entries = append(s.entries, e)
		}
	}
	return s, nil
}

// newEntry is the entry of a configured or discovered member; nil for this
// node itself.
func (s *Static) newEntry(sm StaticMember) *staticEntry {
	if sm.Port == 0 {
		sm.Port = s.local.Port
	}
	m := Member{Name: sm.Name, Domain: s.cfg.Domain, Host: normIP(sm.Host), Port: sm.Port,
		UniqueID: sm.UniqueID, HTTPURL: sm.HTTPURL}
	if m.Host == nil || m.addrKey() == s.local.addrKey() {
		return nil
	}
	if m.Name == "" {
		m.Name = m.Addr()
	}
	if m.UniqueID == ([16]byte{}) {
		sum := sha256.Sum256([]byte(m.Addr()))
		copy(m.UniqueID[:], sum[:16])
	}
	return &staticEntry{m: m}
}

// discover merges Discover's answer into the entries: new addresses are
// added (not live until a probe answers), and entries the answer no longer
// lists are marked gone (removed once they are not live).
func (s *Static) discover(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.ConnectTimeout+s.cfg.DiscoverTimeout)
	defer cancel()
	found, err := s.cfg.Discover(ctx)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.discoveries.Add(1)
	if err != nil {
		s.st.discoveryFailures.Add(1)
		if msg := err.Error(); msg != s.discoverErr {
			s.discoverErr = msg
			s.log.Warn().Err(err).Msg("membership discovery failed; keeping the members known")
		}
		return
	}
	if s.discoverErr != "" {
		s.discoverErr = ""
		s.log.Info().Int("targets", len(found)).Msg("membership discovery answers again")
	}
	listed := map[addrKey]bool{}
	for _, sm := range found {
		e := s.newEntry(sm)
		if e == nil {
			continue
		}
		k := e.m.addrKey()
		if listed[k] {
			continue
		}
		listed[k] = true
		known := false
		for _, old := range s.entries {
			if old.m.addrKey() == k {
				old.gone, known = false, true
			}
		}
		if !known && len(s.entries) < maxDiscovered {
			s.log.Debug().Str("peer", e.m.Addr()).Msg("discovered")
			s.entries = append(s.entries, e)
		}
	}
	for _, e := range s.entries {
		if !listed[e.m.addrKey()] && !e.fixed {
			e.gone = true
		}
	}
	s.prune()
}

func normIP(s string) net.IP {
	ip := net.ParseIP(s)
	if v4 := ip.To4(); v4 != nil {
		return v4
	}
	return ip
}

// Start discovers (Discover) and probes every member once, so Members is
// filled and Joined closed when it returns, and starts the probe loop.
func (s *Static) Start(ctx context.Context) error {
	s.mu.Lock()
	_, err := s.run.Begin()
	switch {
	case errors.Is(err, lifecycle.ErrStarted):
		s.mu.Unlock()
		return ErrStarted
	case err != nil:
		s.mu.Unlock()
		return ErrClosed
	}
	s.run.Ready()
	s.local.StartedAt = s.cfg.Now().UnixMilli()
	s.mu.Unlock()
	s.log.Info().Int("members", len(s.entries)).Bool("discovered", s.cfg.Discover != nil).Msg("static membership started")
	s.round(ctx)
	close(s.joined)
	s.run.Go(func(runCtx context.Context) {
		t := time.NewTicker(s.cfg.Interval)
		defer t.Stop()
		for {
			select {
			case <-runCtx.Done():
				return
			case <-t.C:
				s.round(runCtx)
			}
		}
	})
	return nil
}

// round probes all members in parallel and applies the results.
func (s *Static) round(ctx context.Context) {
	if s.cfg.Discover != nil {
		s.discover(ctx)
	}
	s.mu.Lock()
	targets := make([]Member, len(s.entries))
	for i, e := range s.entries {
		targets[i] = e.m
	}
	s.mu.Unlock()
	errs := make([]error, len(targets))
	var wg sync.WaitGroup
	for i, m := range targets {
		wg.Go(func() { errs[i] = s.cfg.Probe(ctx, m.Host.String(), m.Port, s.cfg.ConnectTimeout) })
	}
	wg.Wait()
	if ctx.Err() != nil {
		return
	}
	now := s.cfg.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, e := range s.entries[:min(len(s.entries), len(targets))] {
		if e.m.addrKey() != targets[i].addrKey() {
			continue // defensive: only round changes the entries
		}
		s.st.probes.Add(1)
		switch err := errs[i]; {
		case err == nil && !e.leftAt.IsZero() && now.Sub(e.leftAt) <= s.cfg.ExpirationTime:
			// said goodbye and still answers: stopping; not re-added
		case err == nil:
			e.m.LastHeard = now
			e.leftAt = time.Time{}
			if !e.live {
				e.live, e.firstSeen = true, now
				e.m.Alive = 0
				s.log.Debug().Str("peer", e.m.String()).Msg("member added")
				s.ev.emit(Event{Kind: Added, Member: e.m.clone()})
			}
		default:
			s.st.probeFailures.Add(1)
			e.leftAt = time.Time{} // gone after its goodbye: a restart may come back at once
			if e.live && (refused(err) || now.Sub(e.m.LastHeard) > s.cfg.ExpirationTime) {
				e.live = false
				e.m.Alive = now.Sub(e.firstSeen)
				s.log.Debug().Err(err).Str("peer", e.m.String()).Msg("member disappeared")
				s.ev.emit(Event{Kind: Disappeared, Member: e.m.clone()})
			}
		}
	}
	s.prune()
}

// prune forgets discovered entries no longer listed and not live. Under mu.
func (s *Static) prune() {
	kept := s.entries[:0]
	for _, e := range s.entries {
		if !e.gone || e.live {
			kept = append(kept, e)
		}
	}
	clear(s.entries[len(kept):])
	s.entries = kept
}

// Joined is closed once Start's first discovery and probe round ended:
// the members then answering are in Members and their Added events
// queued (runtime/cluster's fast join waits for it, as for Service's).
func (s *Static) Joined() <-chan struct{} { return s.joined }

// Leave applies a peer's goodbye (runtime/cluster hears it over the
// transport): the live member at host:port emits Left and is not re-added
// while it keeps answering probes within ExpirationTime (it is stopping);
// once a probe fails, the next answer adds it again (a restart). It
// reports whether such a member was live.
func (s *Static) Leave(host string, port int) bool {
	key := addrKey{host: hostKey(net.ParseIP(host)), port: port}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range s.entries {
		if e.m.addrKey() != key || !e.live {
			continue
		}
		now := s.cfg.Now()
		e.live, e.leftAt = false, now
		e.m.Alive = now.Sub(e.firstSeen)
		s.log.Debug().Str("peer", e.m.String()).Msg("member left")
		s.ev.emit(Event{Kind: Left, Member: e.m.clone()})
		return true
	}
	return false
}

// Stop ends the probe loop and closes Events. Idempotent.
func (s *Static) Stop(ctx context.Context) error {
	s.mu.Lock()
	prev := s.run.End() // cancels the probe loop
	s.mu.Unlock()
	if prev == lifecycle.Running {
		if err := s.run.Wait(ctx); err != nil {
			return fmt.Errorf("mcast: stop: %w", err)
		}
	}
	s.ev.close()
	return nil
}

// Events delivers Added, Disappeared, Replaced (via Learn) and Updated.
func (s *Static) Events() <-chan Event { return s.ev.ch }

// Members returns the members whose last probe round found them alive, oldest
// first. Until Learn supplies StartedAt, it is 0, so two nodes may each think
// the other older: feed Learn from the first message a peer sends.
func (s *Static) Members() []Member {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.cfg.Now()
	var out []Member
	for _, e := range s.entries {
		if e.live {
			m := e.m.clone()
			m.Alive = now.Sub(e.firstSeen)
			out = append(out, m)
		}
	}
	sortMembers(out)
	return out
}

// Local returns this node.
func (s *Static) Local() Member {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.local.clone()
}

// Update changes the HTTP URL this node advertises (Local). Static has no
// heartbeat to carry it: runtime/cluster tells the peers over the transport.
func (s *Static) Update(httpURL string) error {
	if err := validURL(httpURL); err != nil {
		return fmt.Errorf("%w: HTTPURL: %v", ErrConfig, err)
	}
	s.mu.Lock()
	s.local.HTTPURL = httpURL
	s.mu.Unlock()
	return nil
}

// Learn records what a peer at host:port told about itself (over the
// transport). A live member whose name changes is Replaced (Old carries the
// provisional name); other changes are Updated. Unknown addresses are ignored
// (false).
func (s *Static) Learn(host string, port int, name, httpURL string, startedAt int64) bool {
	if validName(name) != nil || validURL(httpURL) != nil {
		return false
	}
	key := addrKey{host: hostKey(net.ParseIP(host)), port: port}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range s.entries {
		if e.m.addrKey() != key {
			continue
		}
		old := e.m.clone()
		e.m.Name, e.m.HTTPURL, e.m.StartedAt = name, httpURL, startedAt
		switch {
		case !e.live || old.Name == name && old.HTTPURL == httpURL && old.StartedAt == startedAt:
		case old.Name != name:
			s.ev.emit(Event{Kind: Replaced, Member: e.m.clone(), Old: old})
		default:
			s.ev.emit(Event{Kind: Updated, Member: e.m.clone()})
		}
		return true
	}
	return false
}

// Stats returns probe counters and the live member count.
func (s *Static) Stats() Stats {
	st := s.st.snapshot()
	st.EventsDropped = s.ev.dropped.Load()
	s.mu.Lock()
	for _, e := range s.entries {
		if e.live {
			st.Members++
		}
	}
	s.mu.Unlock()
	return st
}
