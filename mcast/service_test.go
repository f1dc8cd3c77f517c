package mcast

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"github.com/gomcat/gomcat/internal/seal"
	"math/rand/v2"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gomcat/gomcat/internal/testkit"
	"github.com/rs/zerolog"
	"golang.org/x/net/ipv4"
)

var nextPort atomic.Int32

func init() { nextPort.Store(int32(20000 + rand.IntN(20000))) }

// testGroup returns a random 239.255.x.y group and port, so parallel tests
// (and other packages) never share a group.
func testGroup() (string, int) {
	return fmt.Sprintf("239.255.%d.%d", rand.IntN(256), 1+rand.IntN(254)), 20000 + rand.IntN(40000)
}

// loopConfig is DefaultLocalConfig on group:port (loopback, TTL 0) for a node
// called name with its own receiver port. DropTime is generous so a busy
// machine does not drop members; tests of expiry shorten it.
func loopConfig(t *testing.T, group string, port int, name string) Config {
	c := DefaultLocalConfig()
	c.Address, c.Port = group, port
	c.DropTime = time.Second
	c.Logger = zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.InfoLevel)
	c.Local = LocalMember{Name: name, Host: "127.0.0.1", Port: int(nextPort.Add(1)), HTTPURL: "http://127.0.0.1:8091"}
	return c
}

// behind returns c with a clock d behind the real one: a member started
// with it is strictly older (StartedAt) than one started after it without
// waiting for the wall clock to tick. Everything the service times (alive,
// expiry) is measured on its own clock, so the offset changes nothing else.
func behind(c Config, d time.Duration) Config {
	c.Now = func() time.Time { return time.Now().Add(-d) }
	return c
}

// eventLog drains a Membership's events until they close.
type eventLog struct {
	mu  sync.Mutex
	evs []Event
}

func record(m Membership) *eventLog {
	l := &eventLog{}
	go func() {
		for ev := range m.Events() {
			l.mu.Lock()
			l.evs = append(l.evs, ev)
			l.mu.Unlock()
		}
	}()
	return l
}

func (l *eventLog) has(k Kind, name string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, e := range l.evs {
		if e.Kind == k && e.Member.Name == name {
			return true
		}
	}
	return false
}

func (l *eventLog) find(k Kind) (Event, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, e := range l.evs {
		if e.Kind == k {
			return e, true
		}
	}
	return Event{}, false
}

func start(t *testing.T, cfg Config) (*Service, *eventLog) {
	t.Helper()
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	l := record(s)
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Stop(context.Background()) })
	return s, l
}

func names(ms []Member) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Name)
	}
	slices.Sort(out)
	return out
}

func sees(m interface{ Members() []Member }, want ...string) func() bool {
	return func() bool { return slices.Equal(names(m.Members()), want) }
}

// rawSend multicasts b to group:port on lo with TTL 0, like a foreign node.
func rawSend(t *testing.T, group string, port int, b []byte) {
	t.Helper()
	c, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	pc := ipv4.NewPacketConn(c)
	lo, err := interfaceByIP(net.IPv4(127, 0, 0, 1))
	if err != nil {
		t.Fatal(err)
	}
	if err := pc.SetMulticastInterface(lo); err != nil {
		t.Fatal(err)
	}
	_ = pc.SetMulticastTTL(0)
	_ = pc.SetMulticastLoopback(true)
	if _, err := pc.WriteTo(b, nil, &net.UDPAddr{IP: net.ParseIP(group), Port: port}); err != nil {
		t.Fatal(err)
	}
}

func TestThreeServices(t *testing.T) {
	g, p := testGroup()
	a, la := start(t, behind(loopConfig(t, g, p, "a"), time.Second)) // strictly older than b and c
	b, _ := start(t, loopConfig(t, g, p, "b"))
	c, lc := start(t, loopConfig(t, g, p, "c"))
	testkit.WaitFor(t, "a sees b, c", sees(a, "b", "c"))
	testkit.WaitFor(t, "b sees a, c", sees(b, "a", "c"))
	testkit.WaitFor(t, "c sees a, b", sees(c, "a", "b"))
	if !la.has(Added, "b") || !la.has(Added, "c") {
		t.Fatal("a got no Added events")
	}
	ms := c.Members()
	if !ms[0].Older(ms[1]) || ms[0].Name != "a" {
		t.Fatalf("members not oldest first: %v", ms)
	}
	if ms[0].HTTPURL != "http://127.0.0.1:8091" || !ms[0].Host.Equal(net.IPv4(127, 0, 0, 1)) || ms[0].StartedAt != a.Local().StartedAt {
		t.Fatalf("member fields: %+v", ms[0])
	}

	if err := b.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	testkit.WaitFor(t, "a gets Left for b", func() bool { return la.has(Left, "b") })
	testkit.WaitFor(t, "c gets Left for b", func() bool { return lc.has(Left, "b") })
	if la.has(Disappeared, "b") {
		t.Fatal("b disappeared instead of leaving")
	}
	if st := a.Stats(); st.Sent == 0 || st.Received == 0 || st.Members != 1 || st.DecodeErrors != 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestServiceDisappeared(t *testing.T) {
	g, p := testGroup()
	cfg := loopConfig(t, g, p, "a")
	cfg.DropTime = 300 * time.Millisecond
	a, la := start(t, cfg)
	ghost := hb(t, "ghost", 4999, 7, 0)
	ghost.Host = net.IPv4(127, 0, 0, 1).To4()
	b, _ := ghost.AppendTo(nil)
	rawSend(t, g, p, b)
	testkit.WaitFor(t, "ghost added", func() bool { return la.has(Added, "ghost") })
	testkit.WaitFor(t, "ghost disappeared", func() bool { return la.has(Disappeared, "ghost") })
	if len(a.Members()) != 0 {
		t.Fatalf("members %v", a.Members())
	}
}

func TestServiceReplaced(t *testing.T) {
	g, p := testGroup()
	cfg := loopConfig(t, g, p, "n1")
	old, _ := start(t, behind(cfg, time.Second)) // so the restart below is strictly younger
	c, lc := start(t, loopConfig(t, g, p, "c"))
	testkit.WaitFor(t, "c sees n1", sees(c, "n1"))
	restarted, _ := start(t, cfg) // same name, same host:port, new UniqueID
	testkit.WaitFor(t, "c gets Replaced", func() bool { _, ok := lc.find(Replaced); return ok })
	ev, _ := lc.find(Replaced)
	if ev.Old.UniqueID != old.Local().UniqueID || ev.Member.UniqueID != restarted.Local().UniqueID {
		t.Fatalf("replaced %v by %v", ev.Old, ev.Member)
	}
	if lc.has(Disappeared, "n1") {
		t.Fatal("old incarnation disappeared instead of being replaced")
	}
	// The old process is still heartbeating (a ghost): ignored, not flapping.
	testkit.WaitFor(t, "conflict counted", func() bool { return c.Stats().Conflicts > 0 })
	ms := c.Members()
	if len(ms) != 1 || ms[0].UniqueID != restarted.Local().UniqueID {
		t.Fatalf("members %v", ms)
	}
}

func TestServiceDomains(t *testing.T) {
	g, p := testGroup()
	mk := func(name, domain string) Config { c := loopConfig(t, g, p, name); c.Domain = domain; return c }
	a, _ := start(t, mk("a", "red"))
	_, _ = start(t, mk("b", "blue"))
	c, _ := start(t, mk("c", "red"))
	d, _ := start(t, mk("d", "blue"))
	testkit.WaitFor(t, "a sees c", sees(a, "c"))
	testkit.WaitFor(t, "d sees b", sees(d, "b"))
	testkit.WaitFor(t, "other domains counted", func() bool { return a.Stats().OtherDomain > 4 })
	if !sees(a, "c")() || !sees(c, "a")() || !sees(d, "b")() {
		t.Fatalf("domains leak: a %v c %v d %v", names(a.Members()), names(c.Members()), names(d.Members()))
	}
	if a.Members()[0].Domain != "red" {
		t.Fatal("domain not reported")
	}
}

func TestServiceKeys(t *testing.T) {
	g, p := testGroup()
	mk := func(name string, key byte) Config {
		c := loopConfig(t, g, p, name)
		if key != 0 {
			c.Key = bytes.Repeat([]byte{key}, 16)
		}
		return c
	}
	a, _ := start(t, mk("a", 1))
	b, _ := start(t, mk("b", 1))
	c, lc := start(t, mk("c", 2))
	d, _ := start(t, mk("d", 0))
	testkit.WaitFor(t, "a sees b", sees(a, "b"))
	testkit.WaitFor(t, "b sees a", sees(b, "a"))
	testkit.WaitFor(t, "c rejects", func() bool { return c.Stats().Rejected > 10 })
	testkit.WaitFor(t, "d rejects", func() bool { return d.Stats().Rejected > 10 })
	testkit.WaitFor(t, "a rejects", func() bool { return a.Stats().Rejected > 10 })
	if len(c.Members()) != 0 || len(d.Members()) != 0 || !sees(a, "b")() {
		t.Fatalf("keys leak: a %v c %v d %v", names(a.Members()), names(c.Members()), names(d.Members()))
	}
	if _, ok := lc.find(Added); ok {
		t.Fatal("wrong key produced an event")
	}
}

func TestSealedReplay(t *testing.T) {
	key := bytes.Repeat([]byte{1}, 32)
	mk := func(name string) *Service {
		c := loopConfig(t, "228.0.0.4", 45564, name)
		c.Key = key
		s, err := New(c)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	a, b, c := mk("a"), mk("b"), mk("c")
	pkt, err := a.heartbeat(0)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(pkt, []byte("GMSEAL\x02")) || !bytes.Equal(pkt[7:23], a.local.UniqueID[:]) {
		t.Fatalf("sealed datagram starts %x", pkt[:23])
	}
	b.handle(pkt)
	b.handle(pkt)
	if st := b.Stats(); st.Members != 1 || st.Rejected != 1 {
		t.Fatalf("after a replay: %+v", st)
	}
	clear, _ := (&Heartbeat{Host: net.IPv4(127, 0, 0, 1), Port: 1}).AppendTo(nil)
	b.handle(clear)
	b.handle(append([]byte("GMSEAL\x02"), make([]byte, 60)...))
	if st := b.Stats(); st.Rejected != 3 || st.DecodeErrors != 0 {
		t.Fatalf("after unsealed and garbage: %+v", st)
	}
	// The seal binds the sender's unique id: a's heartbeat relabelled as
	// c's does not open, and c never learns a through it.
	relabelled := bytes.Clone(pkt)
	copy(relabelled[7:23], c.local.UniqueID[:])
	c.handle(relabelled)
	if st := c.Stats(); st.Members != 0 || st.Rejected != 1 {
		t.Fatalf("relabelled sender: %+v", st)
	}
	// A format-1 datagram (a gomcat before key ids) is refused and counted.
	b.handle(append([]byte("GMSEAL\x01"), make([]byte, 40)...))
	if st := b.Stats(); st.Rejected != 4 || st.OldFormat != 1 {
		t.Fatalf("old format: %+v", st)
	}
	// Rotation: c holds the old and a new key; a seals with the old one, so c
	// opens it; then a switches to the new key and c still opens it.
	nu := bytes.Repeat([]byte{2}, 32)
	ra, _ := seal.NewRing(key)
	rc, _ := seal.NewRing(key, nu)
	a.sealer, _ = seal.New(ra, seal.PurposeHeartbeat)
	c.sealer, _ = seal.New(rc, seal.PurposeHeartbeat)
	p1, _ := a.heartbeat(0)
	c.handle(p1)
	ra.Set(nu, key)
	p2, _ := a.heartbeat(0)
	c.handle(p2)
	rc.Set(nu) // the old key dropped: a heartbeat still sealed with it is refused
	ra.Set(key)
	p3, _ := a.heartbeat(0)
	c.handle(p3)
	if st := c.Stats(); st.Members != 1 || st.Rejected != 2 {
		t.Fatalf("rotation: %+v", st)
	}
}

func TestObserverAndForeign(t *testing.T) {
	g, p := testGroup()
	a, la := start(t, loopConfig(t, g, p, "a"))
	ocfg := loopConfig(t, g, p, "")
	ocfg.Local = LocalMember{}
	obs, err := NewObserver(ocfg)
	if err != nil {
		t.Fatal(err)
	}
	lo := record(obs)
	if err := obs.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = obs.Stop(context.Background()) })

	tomcat := sampleHeartbeat() // no payload: a real Tomcat node
	tomcat.Port = 4000
	b, _ := tomcat.AppendTo(nil)
	rawSend(t, g, p, b)
	testkit.WaitFor(t, "observer lists a and the foreign member", func() bool { return len(obs.Members()) == 2 })
	var foreignSeen bool
	for _, m := range obs.Members() {
		if m.Foreign {
			foreignSeen = m.Port == 4000 && strings.Contains(m.String(), "(tomcat)")
		}
	}
	if !foreignSeen {
		t.Fatalf("observer members %v", obs.Members())
	}
	testkit.WaitFor(t, "a notes the foreign member", func() bool { return len(a.Foreign()) == 1 })
	if len(a.Members()) != 0 || a.Stats().Foreign == 0 {
		t.Fatalf("a members %v stats %+v", a.Members(), a.Stats())
	}
	if _, ok := la.find(Added); ok {
		t.Fatal("foreign member produced an event")
	}
	if !lo.has(Added, "a") {
		testkit.WaitFor(t, "observer event for a", func() bool { return lo.has(Added, "a") })
	}
	if st := obs.Stats(); st.Sent != 0 {
		t.Fatalf("observer sent %d datagrams", st.Sent)
	}
	if a.Stats().Members != 0 {
		t.Fatal("observer became a member")
	}
}

func TestServiceUpdate(t *testing.T) {
	g, p := testGroup()
	a, _ := start(t, loopConfig(t, g, p, "a"))
	b, lb := start(t, loopConfig(t, g, p, "b"))
	testkit.WaitFor(t, "b sees a", sees(b, "a"))
	if err := a.Update("http://127.0.0.1:9999"); err != nil {
		t.Fatal(err)
	}
	testkit.WaitFor(t, "Updated event", func() bool { ev, ok := lb.find(Updated); return ok && ev.Member.HTTPURL == "http://127.0.0.1:9999" })
	if err := a.Update("bad url"); !errors.Is(err, ErrConfig) {
		t.Fatalf("Update(bad) = %v", err)
	}
}

func TestLifecycle(t *testing.T) {
	g, p := testGroup()
	cfg := loopConfig(t, g, p, "a")
	cfg.EstablishWait = 20 * time.Millisecond
	var logs syncBuffer
	cfg.Logger = zerolog.New(&logs)
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "Sleeping for 20 milliseconds to establish cluster membership") ||
		!strings.Contains(logs.String(), "Done sleeping, membership established") {
		t.Fatalf("logs: %s", logs.String())
	}
	if err := s.Start(context.Background()); !errors.Is(err, ErrStarted) {
		t.Fatalf("second Start = %v", err)
	}
	for range 2 {
		if err := s.Stop(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if _, ok := <-s.Events(); ok {
		t.Fatal("Events not closed")
	}
	if err := s.Start(context.Background()); !errors.Is(err, ErrClosed) {
		t.Fatalf("Start after Stop = %v", err)
	}
	n, _ := New(cfg)
	if err := n.Stop(context.Background()); err != nil { // never started
		t.Fatal(err)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// fakeConn is an in-memory packetConn: a hub copies each write to every
// conn (including the writer, like IP_MULTICAST_LOOP).
type fakeHub struct {
	mu    sync.Mutex
	conns []*fakeConn
}

type fakeConn struct {
	hub      *fakeHub
	in       chan []byte
	done     chan struct{}
	once     sync.Once
	deadline atomic.Int64
	fail     error // every read and write fails with it
	writes   atomic.Int64
}

func (h *fakeHub) listen(fail error) *fakeConn {
	c := &fakeConn{hub: h, in: make(chan []byte, 64), done: make(chan struct{}), fail: fail}
	h.mu.Lock()
	h.conns = append(h.conns, c)
	h.mu.Unlock()
	return c
}

func (c *fakeConn) ReadFrom(b []byte) (int, bool, error) {
	if c.fail != nil {
		return 0, false, c.fail
	}
	t := time.NewTimer(time.Until(time.Unix(0, c.deadline.Load())))
	defer t.Stop()
	select {
	case p := <-c.in:
		return copy(b, p), false, nil
	case <-c.done:
		return 0, false, net.ErrClosed
	case <-t.C:
		return 0, false, os.ErrDeadlineExceeded
	}
}

func (c *fakeConn) WriteTo(b []byte) error {
	c.writes.Add(1)
	if c.fail != nil {
		return c.fail
	}
	c.hub.mu.Lock()
	defer c.hub.mu.Unlock()
	for _, o := range c.hub.conns {
		select {
		case o.in <- bytes.Clone(b):
		default: // a full socket buffer drops, like UDP
		}
	}
	return nil
}

func (c *fakeConn) SetReadDeadline(t time.Time) error { c.deadline.Store(t.UnixNano()); return nil }
func (c *fakeConn) Close() error                      { c.once.Do(func() { close(c.done) }); return nil }

func TestRecovery(t *testing.T) {
	hub := &fakeHub{}
	var opens atomic.Int32
	cfg := loopConfig(t, "228.0.0.4", 45564, "a")
	cfg.RecoveryCounter = 3
	cfg.RecoverySleep = 10 * time.Millisecond
	cfg.Frequency = 10 * time.Millisecond
	cfg.listen = func(Config) (packetConn, error) {
		switch opens.Add(1) {
		case 1:
			return hub.listen(errors.New("network is down")), nil
		case 2:
			return nil, errors.New("still down")
		}
		return hub.listen(nil), nil
	}
	a, _ := start(t, cfg)
	peer := loopConfig(t, "228.0.0.4", 45564, "b")
	peer.listen = func(Config) (packetConn, error) { return hub.listen(nil), nil }
	b, _ := start(t, peer)
	testkit.WaitFor(t, "a recovers and sees b", sees(a, "b"))
	testkit.WaitFor(t, "b sees a", sees(b, "a"))
	st := a.Stats()
	if st.Recoveries != 1 || st.ReceiveErrors+st.SendErrors < 3 || opens.Load() != 3 {
		t.Fatalf("stats %+v, %d opens", st, opens.Load())
	}
}

// flakyConn is a fakeConn that starts failing every read and write when
// broken is set.
type flakyConn struct {
	*fakeConn
	broken atomic.Bool
}

func (c *flakyConn) ReadFrom(b []byte) (int, bool, error) {
	if c.broken.Load() {
		return 0, false, errors.New("network is down")
	}
	return c.fakeConn.ReadFrom(b)
}

func (c *flakyConn) WriteTo(b []byte) error {
	if c.broken.Load() {
		return errors.New("network is down")
	}
	return c.fakeConn.WriteTo(b)
}

// recoveryEnabled="false": after RecoveryCounter errors the service gives
// up (one error line) instead of reopening; peers then drop it and it
// expires them.
func TestRecoveryDisabled(t *testing.T) {
	hub := &fakeHub{}
	var (
		opens atomic.Int32
		conn  *flakyConn
		logs  syncBuffer
	)
	cfg := loopConfig(t, "228.0.0.4", 45564, "a")
	cfg.RecoveryDisabled = true
	cfg.RecoveryCounter = 3
	cfg.RecoverySleep = 10 * time.Millisecond
	cfg.Frequency = 10 * time.Millisecond
	cfg.DropTime = 200 * time.Millisecond
	cfg.Logger = zerolog.New(&logs)
	cfg.listen = func(Config) (packetConn, error) {
		opens.Add(1)
		conn = &flakyConn{fakeConn: hub.listen(nil)}
		return conn, nil
	}
	a, _ := start(t, cfg)
	peer := loopConfig(t, "228.0.0.4", 45564, "b")
	peer.Frequency, peer.DropTime = 10*time.Millisecond, 200*time.Millisecond
	peer.listen = func(Config) (packetConn, error) { return hub.listen(nil), nil }
	b, _ := start(t, peer)
	testkit.WaitFor(t, "a sees b", sees(a, "b"))
	testkit.WaitFor(t, "b sees a", sees(b, "a"))

	conn.broken.Store(true)
	testkit.WaitFor(t, "a gives up", func() bool { return a.Stats().GaveUp })
	testkit.WaitFor(t, "b drops a", sees(b))
	testkit.WaitFor(t, "a expires b", sees(a))
	st := a.Stats()
	if st.Recoveries != 0 || opens.Load() != 1 || st.ReceiveErrors+st.SendErrors < 3 {
		t.Fatalf("stats %+v, %d opens", st, opens.Load())
	}
	if n := strings.Count(logs.String(), "recovery is disabled"); n != 1 {
		t.Fatalf("%d give-up lines in %s", n, logs.String())
	}
	if !strings.Contains(logs.String(), `"level":"error"`) {
		t.Fatalf("give-up not logged as an error: %s", logs.String())
	}
	if err := a.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestObserverNeverWrites(t *testing.T) {
	hub := &fakeHub{}
	var conn *fakeConn
	cfg := loopConfig(t, "228.0.0.4", 45564, "")
	cfg.Local = LocalMember{}
	cfg.listen = func(Config) (packetConn, error) { conn = hub.listen(nil); return conn, nil }
	obs, err := NewObserver(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := obs.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	peer := loopConfig(t, "228.0.0.4", 45564, "b")
	peer.listen = func(Config) (packetConn, error) { return hub.listen(nil), nil }
	start(t, peer)
	testkit.WaitFor(t, "observer sees b", sees(obs, "b"))
	if err := obs.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := conn.writes.Load(); n != 0 {
		t.Fatalf("observer wrote %d datagrams", n)
	}
}

func TestConfigValidate(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatal(err)
	}
	// The default and the normalised zero agree: a 200 ms default once
	// outlived a fix made only in normalize.
	zero := Config{JoinTimeout: DefaultConfig().JoinTimeout}
	if d, n := DefaultConfig().JoinQuiet, zero.withDefaults().JoinQuiet; d != time.Second || n != d {
		t.Errorf("JoinQuiet default %v, normalised zero %v, want 1s both", d, n)
	}
	if _, err := New(DefaultConfig()); !errors.Is(err, ErrConfig) {
		t.Fatalf("New without Local = %v", err)
	}
	bad := DefaultConfig()
	bad.Address, bad.Port, bad.TTL, bad.DropTime, bad.Key, bad.Bind = "192.0.2.1", 0, 300, 100*time.Millisecond, []byte{1}, "eth0"
	err := bad.Validate()
	for _, want := range []string{"Address", "Port", "TTL", "DropTime", "Key", "Bind"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate() = %v, want a complaint about %s", err, want)
		}
	}
	l := LocalMember{Name: "bad name", Host: "0.0.0.0", Port: 0}
	err = l.validate()
	for _, want := range []string{"Name", "Host", "Port"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("validate() = %v, want a complaint about %s", err, want)
		}
	}
}

func TestAdvertiseAddress(t *testing.T) {
	tests := []struct {
		bind, configured, want string
		fail                   bool
	}{
		{"127.0.0.1", "198.18.0.2", "198.18.0.2", false},
		{"127.0.0.1", "auto", "127.0.0.1", false},
		{"127.0.0.1", "", "127.0.0.1", false},
		{"192.0.2.23", "auto", "192.0.2.23", false},
		{"0.0.0.0", "auto", "", true},
		{"127.0.0.1", "0.0.0.0", "", true},
		{"127.0.0.1", "228.0.0.4", "", true},
	}
	for _, tt := range tests {
		ip, err := AdvertiseAddress(tt.bind, tt.configured, "")
		if tt.fail != (err != nil) || (!tt.fail && ip.String() != tt.want) {
			t.Errorf("AdvertiseAddress(%q, %q) = %v, %v; want %s", tt.bind, tt.configured, ip, err, tt.want)
		}
	}
}

func TestInterfaceByIP(t *testing.T) {
	ifi, err := interfaceByIP(net.IPv4(127, 0, 0, 1))
	if err != nil || ifi.Flags&net.FlagLoopback == 0 {
		t.Fatalf("127.0.0.1 -> %v, %v", ifi, err)
	}
	if ifi2, err := interfaceByIP(net.IPv4(127, 0, 0, 9)); err != nil || ifi2.Index != ifi.Index {
		t.Fatalf("127.0.0.9 -> %v, %v", ifi2, err)
	}
	if _, err := interfaceByIP(net.IPv4(203, 0, 113, 77)); !errors.Is(err, ErrNoInterface) {
		t.Fatalf("unknown address -> %v", err)
	}
}

// FuzzHandleSealed feeds arbitrary datagrams to a keyed service: the
// sealed header (magic, format, sender id) and whatever follows must never
// panic, and only a real heartbeat of the key may add a member.
func FuzzHandleSealed(f *testing.F) {
	key := bytes.Repeat([]byte{1}, 32)
	mk := func(name string) *Service {
		c := DefaultLocalConfig()
		c.Address, c.Port = "228.0.0.4", 45564
		c.Key = key
		c.Local = LocalMember{Name: name, Host: "127.0.0.1", Port: int(nextPort.Add(1))}
		s, err := New(c)
		if err != nil {
			f.Fatal(err)
		}
		return s
	}
	a, b := mk("a"), mk("b")
	pkt, err := a.heartbeat(0)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(pkt)
	f.Add(append([]byte("GMSEAL\x01"), make([]byte, 40)...))
	f.Add([]byte("GMSEAL\x02"))
	f.Add([]byte("GMSEAL"))
	f.Fuzz(func(t *testing.T, d []byte) {
		b.handle(d)
		if st := b.Stats(); st.Members > 1 {
			t.Fatalf("%d members from fuzz input", st.Members)
		}
	})
}

// A starting member learns the whole group from the answers to its
// solicit: heartbeats are 30 s apart here, so nothing else could tell it
// before Joined. Clear and sealed.
func TestJoinSolicit(t *testing.T) {
	for _, key := range [][]byte{nil, bytes.Repeat([]byte{7}, 32)} {
		t.Run(fmt.Sprintf("sealed=%v", key != nil), func(t *testing.T) {
			g, p := testGroup()
			cfg := func(name string) Config {
				c := loopConfig(t, g, p, name)
				c.Frequency, c.DropTime = 30*time.Second, time.Minute
				c.JoinTimeout, c.JoinQuiet = 2*time.Minute, time.Minute
				c.Key = key
				return c
			}
			ac := cfg("a")
			ac.JoinQuiet = time.Millisecond // alone: ends at once
			a, _ := start(t, ac)
			<-a.Joined()
			b, _ := start(t, cfg("b"))
			testkit.WaitFor(t, "b joined", closed(b.Joined()))
			if got := names(b.Members()); !slices.Equal(got, []string{"a"}) {
				t.Fatalf("b joined knowing %v, want [a]", got)
			}
			c, _ := start(t, cfg("c"))
			testkit.WaitFor(t, "c joined", closed(c.Joined()))
			if got := names(c.Members()); !slices.Equal(got, []string{"a", "b"}) {
				t.Fatalf("c joined knowing %v, want [a b]", got)
			}
			st := a.Stats()
			if st.Solicits < 2 || st.Answers < 1 || st.Answers > st.Solicits {
				t.Fatalf("a: solicits %d answers %d", st.Solicits, st.Answers)
			}
		})
	}
}

// With JoinTimeout 0 nothing is solicited and Joined is closed by Start.
func TestJoinOff(t *testing.T) {
	g, p := testGroup()
	c := loopConfig(t, g, p, "a")
	c.JoinTimeout = 0
	a, _ := start(t, c)
	select {
	case <-a.Joined():
	default:
		t.Fatal("Joined open after Start with JoinTimeout 0")
	}
}

func closed(ch <-chan struct{}) func() bool {
	return func() bool {
		select {
		case <-ch:
			return true
		default:
			return false
		}
	}
}

func TestJoinHeard(t *testing.T) {
	var j join
	if j.heard(Payload{}, 5) {
		t.Fatal("complete before any answer")
	}
	if j.heard(Payload{Flags: FlagAnswer, Members: 2}, 1) {
		t.Fatal("complete knowing 1 of 2")
	}
	if j.heard(Payload{Flags: FlagSolicit}, 1) {
		t.Fatal("a solicit completed the join")
	}
	if !j.heard(Payload{}, 2) {
		t.Fatal("not complete knowing 2 of 2")
	}
	if j.heard(Payload{Flags: FlagAnswer, Members: 3}, 2) {
		t.Fatal("a larger answer did not raise the count")
	}
}
