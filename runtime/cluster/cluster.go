package cluster

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/gomcat/gomcat/internal/burst"
	"github.com/gomcat/gomcat/mcast"
	"github.com/gomcat/gomcat/runtime/lifecycle"
	"github.com/gomcat/gomcat/transport"
)

// Cluster is Tomcat's SimpleTcpCluster: a transport Receiver and Sender, a
// membership, and a failure detector that confirms membership changes with
// TCP probes before they reach the consumers. Consumers (deltamgr,
// farmdeploy) use a Port per channel. Safe for concurrent use.
type Cluster struct {
	cfg   Config
	log   zerolog.Logger
	probe func(ctx context.Context, host string, port int, timeout time.Duration) error

	handlers [256]atomic.Pointer[DeliverFunc] // by channel
	view     atomic.Pointer[view]             // published by the event loop
	url      atomic.Pointer[string]           // advertised HTTP URL (SetHTTPURL)
	st       counters
	life     lifecycle.Runner // New, Starting (startLocked, under mu), Running, Stopped; owns the goroutines

	// Log lines of events that come in bursts, once per burst.
	refusedLog, notAddedLog, goodbyeLog, claimLog *burst.Limiter

	mu       sync.Mutex // serialises Start and Stop; guards the fields below
	receiver *transport.Receiver
	sender   *transport.Sender
	members  Membership
	self     mcast.Member

	// Written in Start before the event loop starts, then read-only.
	learn learner // non-nil for memberships that learn names over the transport
	// static is learn != nil for the receiver's goroutines, which start
	// before learn is known (the membership needs the receiver's port).
	static  atomic.Bool
	results chan probeResult
	nudges  chan nudge
	settle  chan chan struct{} // Start's join: closed once the members heard are probed
	urlSet  chan struct{}      // SetHTTPURL: re-announce to static peers
	tab     *table             // owned by the event loop

	subs            subscribers // Subscribe; its mutex serialises view publication
	batching, dirty bool        // event loop only (batch)

	idMu sync.Mutex          // guards ids; a leaf lock
	ids  map[string][16]byte // receiver addr -> unique id announced by a static peer
}

// New validates cfg and allocates a Cluster. No sockets, no goroutines
// until Start.
func New(cfg Config) (*Cluster, error) {
	if cfg.Membership == nil {
		cfg.Membership = Multicast{Config: mcast.DefaultConfig()}
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	c := &Cluster{
		cfg:   cfg,
		log:   cfg.Logger.With().Str("component", "cluster").Logger(),
		probe: cfg.FailureDetector.Probe,
	}
	if c.probe == nil {
		c.probe = mcast.Probe
	}
	c.view.Store(newView())
	c.refusedLog, c.notAddedLog, c.goodbyeLog, c.claimLog = burst.New(0), burst.NewN(0, 8), burst.New(0), burst.New(0)
	c.url.Store(&cfg.HTTPURL)
	c.ids = map[string][16]byte{}
	return c, nil
}

// Start starts the cluster in Tomcat's order: the receiver first (its bound
// port is what the membership advertises), then the sender, then the
// membership; then it waits EstablishWait for the membership to form
// (Tomcat's sleep), or, with EstablishWait 0, for the membership's fast
// join (mcast.Service.Joined: the members answered its solicit) and the
// failure detector's probe of every member heard (at most one
// FailureDetector.ConnectTimeout), or until ctx ends (it then returns ctx.Err() with the cluster running: call
// Stop) or Stop is called (ErrClosed). Register handlers (Handle) before Start. A failed Start stops what
// it started; the Cluster cannot be started again.
func (c *Cluster) Start(ctx context.Context) error {
	c.mu.Lock()
	life, err := c.life.Begin()
	switch {
	case errors.Is(err, lifecycle.ErrStarted):
		c.mu.Unlock()
		return ErrStarted
	case err != nil:
		c.mu.Unlock()
		return ErrClosed
	}
	c.log.Info().Msg("Cluster is about to start")
	if len(c.cfg.Key) == 0 && c.cfg.Keys == nil {
		c.log.Warn().Msg("cluster traffic is not sealed: the cluster trusts its network; " +
			"set a cluster key (<Cluster key=\"…\"> or <Interceptor className=\"…EncryptInterceptor\" encryptionKey=\"…\">, " +
			"--cluster-key or GOMCAT_CLUSTER_KEY: 32 hex digits or more) to authenticate and encrypt heartbeats and messages")
	}
	if err := c.startLocked(ctx); err != nil {
		c.life.End()
		c.stopLocked(context.WithoutCancel(ctx))
		c.mu.Unlock()
		return err
	}
	c.life.Ready()
	c.mu.Unlock()

	if w := c.cfg.EstablishWait; w > 0 {
		c.log.Info().Msgf("Sleeping for %d milliseconds to establish cluster membership", w.Milliseconds())
		t := time.NewTimer(w)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-life.Done(): // stopped meanwhile
			return ErrClosed
		case <-t.C:
		}
		c.log.Info().Int("members", len(c.view.Load().members)).Msg("Done sleeping, membership established")
		return nil
	}
	began := time.Now()
	if err := c.awaitJoin(ctx, life.Done()); err != nil {
		return err
	}
	c.log.Info().Int("members", len(c.view.Load().members)).Int64("ms", time.Since(began).Milliseconds()).
		Msg("Membership established")
	return nil
}

// joiner is a membership with a fast join (mcast.Service; mcast.Static,
// whose Start discovers and probes once).
type joiner interface{ Joined() <-chan struct{} }

// awaitJoin waits for the membership's join, then for the event loop to
// have probed every member the membership heard (bounded by one
// ConnectTimeout: a member whose receiver does not answer at once is not
// waited for; it is added when it answers). A membership without a join
// (a test's fake) is not waited for.
func (c *Cluster) awaitJoin(ctx context.Context, stopped <-chan struct{}) error {
	j, ok := c.members.(joiner)
	if !ok {
		return nil
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-stopped:
		return ErrClosed
	case <-j.Joined():
	}
	done := make(chan struct{})
	select {
	case c.settle <- done:
	case <-stopped:
		return ErrClosed
	}
	t := time.NewTimer(c.cfg.FailureDetector.ConnectTimeout)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-stopped:
		return ErrClosed
	case <-t.C:
	case <-done:
	}
	return nil
}

func (c *Cluster) startLocked(ctx context.Context) error {
	listen, advertise, err := c.addresses()
	if err != nil {
		return err
	}
	_, advPort, _ := parseAdvertise(c.cfg.Advertise) // 0 when unset; checked by Validate
	tc := c.cfg.transportConfig(listen)
	if c.cfg.Advertise != "" && tc.SourceAddress == "" && localIP(advertise) {
		tc.SourceAddress = advertise.String() // peers admit us by it
	}
	tc.Admit = c.admitHello
	tc.IdleTimeout = c.cfg.idleTimeout()
	c.receiver, err = transport.NewReceiver(tc, transport.HandlerFunc(c.serve))
	if err != nil {
		return err
	}
	if err := c.receiver.Start(ctx); err != nil {
		return err
	}
	local := Local{
		Member: mcast.LocalMember{Name: c.cfg.Name, Host: advertise.String(), Port: cmp.Or(advPort, c.receiver.Port()), HTTPURL: c.HTTPURL()},
		Domain: c.cfg.Domain,
		Key:    c.cfg.Key,
		Keys:   c.cfg.Keys,
		Logger: c.cfg.Logger,
	}
	c.members, err = c.cfg.Membership.NewMembership(local)
	if err != nil {
		return err
	}
	tc.Self.UniqueID = c.members.Local().UniqueID
	c.receiver.SetUniqueID(tc.Self.UniqueID) // sealed connections are bound to it
	if user := tc.OnError; user != nil {
		tc.OnError = func(addr string, m *transport.Message, err error) { c.asyncFailed(addr, m, err); user(addr, m, err) }
	} else {
		tc.OnError = c.asyncFailed
	}
	if tc.ExpectedID == nil {
		tc.ExpectedID = c.expectedID // sealed greetings must come from the member dialed
	}
	if c.sender, err = transport.NewSender(tc); err != nil {
		return err
	}
	c.learn, _ = c.members.(learner)
	c.static.Store(c.learn != nil)
	c.results = make(chan probeResult, 64)
	c.nudges = make(chan nudge, 64)
	c.settle = make(chan chan struct{}, 1)
	c.urlSet = make(chan struct{}, 1)
	c.tab = newTable()
	if err := c.members.Start(ctx); err != nil {
		return err
	}
	c.self = c.members.Local()
	c.life.Go(c.run) // the event loop; probes too run under the runner
	return nil
}

// addresses resolves the receiver's listen address and the address the
// membership advertises: Config.Advertise, when set, is the latter; else an
// explicit IP is both; "auto" is the membership's
// interface address (bind, or the source of the route to its Target; never
// loopback unless bound to loopback or the target is on it) for both; ""
// or an unspecified IP listens everywhere and advertises that address.
func (c *Cluster) addresses() (listen string, advertise net.IP, err error) {
	a := c.cfg.Transport.Address
	ip := net.ParseIP(a)
	if c.cfg.Advertise != "" { // set apart from where the receiver listens
		adv, _, err := parseAdvertise(c.cfg.Advertise)
		if err != nil {
			return "", nil, fmt.Errorf("cluster: advertise: %w", err)
		}
		if a == "auto" {
			if ip, err = mcast.AdvertiseAddress(c.cfg.Membership.Bind(), "auto", c.cfg.Membership.Target()); err != nil {
				return "", nil, fmt.Errorf("cluster: receiver address auto: %w", err)
			}
			a = ip.String()
		}
		return a, adv, nil
	}
	switch {
	case a == "auto":
		advertise, err = mcast.AdvertiseAddress(c.cfg.Membership.Bind(), "auto", c.cfg.Membership.Target())
		if err != nil {
			return "", nil, fmt.Errorf("cluster: receiver address auto: %w", err)
		}
		return advertise.String(), advertise, nil
	case a == "" || ip != nil && ip.IsUnspecified():
		advertise, err = mcast.AdvertiseAddress(c.cfg.Membership.Bind(), "auto", c.cfg.Membership.Target())
		if err != nil {
			return "", nil, fmt.Errorf("cluster: receiver address %q: %w", a, err)
		}
		return a, advertise, nil
	default:
		advertise, err = mcast.AdvertiseAddress(c.cfg.Membership.Bind(), a, c.cfg.Membership.Target())
		if err != nil {
			return "", nil, fmt.Errorf("cluster: receiver address %q: %w", a, err)
		}
		return a, advertise, nil
	}
}

// Stop says goodbye first (multicast: the membership's Stop; static and
// discovered: an announce to every member), so peers drop this member at
// once, then the event loop and probes, the sender (pending
// async messages fail) and the receiver. Idempotent; returns early with an
// error if ctx ends before every goroutine exited.
func (c *Cluster) Stop(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.life.End() != lifecycle.Running {
		return nil
	}
	err := c.stopLocked(ctx)
	c.log.Info().Msg("cluster stopped")
	return err
}

func (c *Cluster) stopLocked(ctx context.Context) error {
	var errs []error
	if c.members != nil {
		c.sayGoodbye(ctx)
		errs = append(errs, c.members.Stop(ctx))
	}
	if err := c.life.Wait(ctx); err != nil { // End cancelled the event loop and probes
		errs = append(errs, fmt.Errorf("cluster: stop: %w", err))
	}
	c.store(newView(), true) // MemberLeft for everyone still a member
	if c.sender != nil {
		errs = append(errs, c.sender.Stop(ctx))
	}
	if c.receiver != nil {
		errs = append(errs, c.receiver.Stop(ctx))
	}
	return errors.Join(errs...)
}

// Self returns this member's name.
func (c *Cluster) Self() string { return c.cfg.Name }

// Local returns this member as peers see it (zero before Start).
func (c *Cluster) Local() mcast.Member {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := c.self
	if c.life.State() == lifecycle.Running {
		m.HTTPURL = c.HTTPURL()
	}
	return m
}

// HTTPURL returns the HTTP URL this member advertises to balancers
// (Config.HTTPURL, or the last SetHTTPURL).
func (c *Cluster) HTTPURL() string { return *c.url.Load() }

// SetHTTPURL changes the HTTP URL this member advertises, e.g. once the
// connector has bound the port it was given as 0. Before Start it replaces
// Config.HTTPURL. Once started, a multicast membership sends a heartbeat
// carrying it at once, and a static membership announces it to every
// member over the transport (peers see an Updated member). It fails,
// changing nothing, if the membership rejects url (more than 512 bytes or
// not printable ASCII) or after Stop. Safe for concurrent use; does not
// wait for the peers.
func (c *Cluster) SetHTTPURL(url string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch c.life.State() {
	case lifecycle.Stopped:
		return ErrClosed
	case lifecycle.New:
		c.url.Store(&url)
		return nil
	}
	if u, ok := c.members.(interface{ Update(httpURL string) error }); ok {
		if err := u.Update(url); err != nil {
			return fmt.Errorf("cluster: HTTP URL: %w", err)
		}
	}
	c.url.Store(&url)
	if c.learn != nil {
		select {
		case c.urlSet <- struct{}{}:
		default: // a re-announce is pending; it reads the URL when it runs
		}
	}
	return nil
}

// expectedID is the unique id of the member whose receiver is addr in the
// live view (transport.Config.ExpectedID); unknown or zero (a static
// member before its announce) accepts any greeting.
func (c *Cluster) expectedID(addr string) ([16]byte, bool) {
	v := c.view.Load()
	if v == nil {
		return [16]byte{}, false
	}
	r, ok := v.byAddr[addr]
	if !ok || r.m.UniqueID == ([16]byte{}) {
		return [16]byte{}, false
	}
	return r.m.UniqueID, true
}

// localIP reports whether ip is an address of this host (one a socket can
// bind), as opposed to a NAT's or a load balancer's.
func localIP(ip net.IP) bool {
	ln, err := net.Listen("tcp", net.JoinHostPort(ip.String(), "0"))
	if err != nil {
		return false
	}
	ln.Close()
	return true
}
