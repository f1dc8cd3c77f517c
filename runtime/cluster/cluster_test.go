package cluster_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gomcat/gomcat/deltamgr"
	"github.com/gomcat/gomcat/farmdeploy"
	"github.com/gomcat/gomcat/internal/testkit"
	"github.com/gomcat/gomcat/mcast"
	"github.com/gomcat/gomcat/runtime/cluster"
	"github.com/gomcat/gomcat/transport"
)

// The seam: one Port satisfies what both consumers declare.
var (
	_ deltamgr.Cluster   = (*cluster.Port)(nil)
	_ farmdeploy.Cluster = (*cluster.Port)(nil)
)

// inbox records what a node's DeliverFunc got.
type inbox struct {
	mu   sync.Mutex
	msgs []string // "from:msg"
}

func (in *inbox) deliver(_ context.Context, from string, msg []byte) error {
	if string(msg) == "fail" {
		return errors.New("refused by handler")
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	in.msgs = append(in.msgs, from+":"+string(msg))
	return nil
}

func (in *inbox) has(s string) bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	return slices.Contains(in.msgs, s)
}

func (in *inbox) list() []string {
	in.mu.Lock()
	defer in.mu.Unlock()
	return slices.Clone(in.msgs)
}

type node struct {
	c   *cluster.Cluster
	log *testkit.Log
	in  *inbox
}

// mcastNode builds (not starts) a cluster on the loopback multicast group.
func mcastNode(t *testing.T, group string, port int, name string, key []byte) *node {
	t.Helper()
	cfg := cluster.DefaultLocalConfig(name)
	mc := mcast.DefaultLocalConfig()
	mc.Address, mc.Port = group, port
	mc.DropTime = time.Second
	cfg.Membership = cluster.Multicast{Config: mc}
	cfg.HTTPURL = "http://127.0.0.1:8080"
	cfg.Key = key
	return newNode(t, cfg)
}

// newNode makes a cluster of cfg with a test logger and an inbox on the
// sessions channel, stopped at cleanup.
func newNode(t *testing.T, cfg cluster.Config) *node {
	t.Helper()
	n := &node{in: &inbox{}}
	cfg.Logger, n.log = testkit.NewLogger(t)
	c, err := cluster.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	n.c = c
	c.Handle(transport.ChannelSessions, n.in.deliver)
	t.Cleanup(func() { _ = c.Stop(context.Background()) })
	return n
}

func startAll(t *testing.T, nodes ...*node) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make([]error, len(nodes))
	for i, n := range nodes {
		wg.Go(func() { errs[i] = n.c.Start(t.Context()) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
}

func sees(n *node, want ...string) func() bool {
	return func() bool {
		got := n.c.Port(1).Members()
		slices.Sort(got)
		return slices.Equal(got, want)
	}
}

func TestThreeNodes(t *testing.T) {
	group, port := testGroup()
	a, b, c := mcastNode(t, group, port, "a", nil), mcastNode(t, group, port, "b", nil), mcastNode(t, group, port, "c", nil)
	startAll(t, a, b, c) // started at the same moment: Seniors must still agree
	testkit.WaitFor(t, "a sees b,c", sees(a, "b", "c"))
	testkit.WaitFor(t, "b sees a,c", sees(b, "a", "c"))
	testkit.WaitFor(t, "c sees a,b", sees(c, "a", "b"))

	t.Run("log lines", func(t *testing.T) {
		for _, n := range []*node{a, b, c} {
			if n.log.Count("Cluster is about to start") != 1 || n.log.Count("Membership established") != 1 {
				t.Errorf("%s: start lines missing", n.c.Self())
			}
			if n.log.Count("cluster traffic is not sealed") != 1 {
				t.Errorf("%s: no unsealed warning", n.c.Self())
			}
		}
		ll, ok := a.log.Find("Replication member added: tcp://127.0.0.1:", "member", "b")
		if !ok || ll.Level != "info" {
			t.Fatalf("a: no added line for b:\n%v", a.log.Lines())
		}
	})

	t.Run("seniors agree", func(t *testing.T) {
		nodes := map[string]*node{"a": a, "b": b, "c": c}
		order := a.c.Port(1).Members()
		order = append(order, "a")
		seniors := map[string][]string{}
		for name, n := range nodes {
			seniors[name] = n.c.Port(1).Seniors()
		}
		for x := range nodes {
			for y := range nodes {
				if x < y && slices.Contains(seniors[x], y) == slices.Contains(seniors[y], x) {
					t.Fatalf("%s and %s disagree: seniors %v", x, y, seniors)
				}
			}
		}
		var counts []int
		for _, s := range seniors {
			counts = append(counts, len(s))
		}
		slices.Sort(counts)
		if !slices.Equal(counts, []int{0, 1, 2}) {
			t.Fatalf("seniors %v (members order %v)", seniors, order)
		}
		// Members are oldest first, the same order everywhere.
		for name, n := range nodes {
			ms := n.c.Port(1).Members()
			if s := seniors[name]; !slices.Equal(ms[:len(s)], s) {
				t.Fatalf("%s: members %v, seniors %v", name, ms, s)
			}
		}
	})

	t.Run("send modes", func(t *testing.T) {
		for _, opts := range []int{0, 8, 2, 6} {
			msg := fmt.Sprintf("m%d", opts)
			if err := a.c.Port(1).Send(t.Context(), "b", []byte(msg), opts); err != nil {
				t.Fatalf("opts %d: %v", opts, err)
			}
			if opts == 6 && !b.in.has("a:"+msg) {
				t.Fatalf("sync send returned before delivery")
			}
			testkit.WaitFor(t, "delivered "+msg, func() bool { return b.in.has("a:" + msg) })
		}
	})

	t.Run("sync error comes back", func(t *testing.T) {
		err := a.c.Port(1).Send(t.Context(), "b", []byte("fail"), 6)
		var re *transport.RemoteError
		if !errors.As(err, &re) || re.Text != "refused by handler" {
			t.Fatalf("sync send of a refused message: %v", err)
		}
	})

	t.Run("broadcast", func(t *testing.T) {
		for _, opts := range []int{8, 2, 6} {
			msg := fmt.Sprintf("all%d", opts)
			if err := a.c.Port(1).Broadcast(t.Context(), []byte(msg), opts); err != nil {
				t.Fatalf("opts %d: %v", opts, err)
			}
			testkit.WaitFor(t, "broadcast "+msg, func() bool { return b.in.has("a:"+msg) && c.in.has("a:"+msg) })
		}
		err := a.c.Port(1).Broadcast(t.Context(), []byte("fail"), 6)
		if !errors.Is(err, err) || err == nil {
			t.Fatal("broadcast of a refused message succeeded")
		}
		for _, name := range []string{"b", "c"} {
			if !contains(err.Error(), "send to "+name+":") {
				t.Fatalf("broadcast error does not name %s: %v", name, err)
			}
		}
	})

	t.Run("unknown channel", func(t *testing.T) {
		err := a.c.Port(transport.ChannelFarm).Send(t.Context(), "b", []byte("x"), 6)
		var re *transport.RemoteError
		if !errors.As(err, &re) || b.c.Stats().UnknownChannel != 1 {
			t.Fatalf("send on an unhandled channel: %v", err)
		}
	})

	t.Run("self and strangers", func(t *testing.T) {
		if err := a.c.Port(1).Send(t.Context(), "a", nil, 8); !errors.Is(err, cluster.ErrSelf) {
			t.Fatalf("send to self: %v", err)
		}
		if err := a.c.Port(1).Send(t.Context(), "zz", nil, 8); !errors.Is(err, cluster.ErrNoSuchMember) {
			t.Fatalf("send to stranger: %v", err)
		}
	})

	t.Run("stats and members", func(t *testing.T) {
		st := a.c.Stats()
		if st.Members != 2 || st.Added < 2 || len(st.Channels) == 0 {
			t.Fatalf("stats %+v", st)
		}
		for _, m := range a.c.Members() {
			if m.State != "live" || m.HTTPURL != "http://127.0.0.1:8080" || m.Addr == "" {
				t.Fatalf("member info %+v", m)
			}
		}
	})

	t.Run("goodbye", func(t *testing.T) {
		if err := c.c.Stop(t.Context()); err != nil {
			t.Fatal(err)
		}
		testkit.WaitFor(t, "a drops c", sees(a, "b"))
		testkit.WaitFor(t, "b drops c", sees(b, "a"))
		for _, n := range []*node{a, b} {
			if ll, _ := n.log.Find("Replication member disappeared: ", "member", "c"); ll.Str("reason") != "left" {
				t.Fatalf("%s: c removed for %q, want left", n.c.Self(), ll.Str("reason"))
			}
		}
		if err := a.c.Port(1).Send(t.Context(), "c", nil, 8); !errors.Is(err, cluster.ErrNoSuchMember) {
			t.Fatalf("send to departed member: %v", err)
		}
		if err := c.c.Stop(t.Context()); err != nil {
			t.Fatalf("second Stop: %v", err)
		}
		if err := c.c.Port(1).Send(t.Context(), "a", nil, 8); !errors.Is(err, cluster.ErrClosed) {
			t.Fatalf("send after Stop: %v", err)
		}
	})
}

func contains(s, sub string) bool {
	return len(s) >= len(sub) && (s == sub || len(sub) == 0 || indexOf(s, sub) >= 0)
}

func indexOf(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}

func TestSealed(t *testing.T) {
	group, port := testGroup()
	key := []byte("0123456789abcdef0123456789abcdef")
	a, b := mcastNode(t, group, port, "a", key), mcastNode(t, group, port, "b", key)
	x := mcastNode(t, group, port, "x", []byte("fedcba9876543210fedcba9876543210"))
	startAll(t, a, b, x)
	testkit.WaitFor(t, "a sees b", sees(a, "b"))
	if err := a.c.Port(1).Send(t.Context(), "b", []byte("secret"), 6); err != nil {
		t.Fatal(err)
	}
	if a.log.Count("cluster traffic is not sealed") != 0 {
		t.Fatal("warned about sealing with a key")
	}
	if got := x.c.Port(1).Members(); len(got) != 0 {
		t.Fatalf("x with another key sees %v", got)
	}
}

func TestStartStop(t *testing.T) {
	group, port := testGroup()
	n := mcastNode(t, group, port, "a", nil)
	if err := n.c.Stop(t.Context()); err != nil {
		t.Fatalf("Stop before Start: %v", err)
	}
	if err := n.c.Start(t.Context()); !errors.Is(err, cluster.ErrClosed) {
		t.Fatalf("Start after Stop: %v", err)
	}
	m := mcastNode(t, group, port, "b", nil)
	startAll(t, m)
	if err := m.c.Start(t.Context()); !errors.Is(err, cluster.ErrStarted) {
		t.Fatalf("second Start: %v", err)
	}
	if l := m.c.Local(); l.Port == 0 || !l.Host.IsLoopback() || l.StartedAt == 0 {
		t.Fatalf("Local %+v", l)
	}
}

func TestEstablishWait(t *testing.T) {
	c, _, lb := startFake(t, "a", func(cfg *cluster.Config) { cfg.EstablishWait = 30 * time.Millisecond })
	_ = c
	if lb.Count("Sleeping for 30 milliseconds to establish cluster membership") != 1 ||
		lb.Count("Done sleeping, membership established") != 1 {
		t.Fatalf("establish lines:\n%v", lb.Lines())
	}
	// ctx ending cuts the wait short.
	f := newFake()
	cfg := cluster.DefaultLocalConfig("b")
	cfg.Membership = fakeConfig{f}
	cfg.EstablishWait = time.Hour
	c2, err := cluster.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Stop(context.Background())
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := c2.Start(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Start with a done ctx: %v", err)
	}
	// So does Stop.
	cfg.Name, cfg.Membership = "c", fakeConfig{newFake()}
	c3, err := cluster.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() { errc <- c3.Start(t.Context()) }()
	testkit.WaitFor(t, "c3 started", func() bool { return c3.Local().Port != 0 })
	if err := c3.Stop(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; !errors.Is(err, cluster.ErrClosed) {
		t.Fatalf("Start cut by Stop: %v", err)
	}
}

func TestConfigValidate(t *testing.T) {
	bad := cluster.DefaultConfig() // no Name
	bad.SendOptions = -1
	bad.Key = []byte{1, 2}
	bad.FailureDetector.ConnectTimeout = 0
	bad.Transport.Timeout = 0
	_, err := cluster.New(bad)
	for _, want := range []string{"Name", "SendOptions", "Key", "ConnectTimeout", "Transport"} {
		if err == nil || !errors.Is(err, cluster.ErrConfig) || !contains(err.Error(), want) {
			t.Errorf("error %v does not mention %s", err, want)
		}
	}
	if err := cluster.DefaultLocalConfig("node1").Validate(); err != nil {
		t.Fatal(err)
	}
}

// Consumers' Deliver methods are DeliverFuncs.
var (
	_ cluster.DeliverFunc = (*deltamgr.Router)(nil).Deliver
	_ cluster.DeliverFunc = (*farmdeploy.Deployer)(nil).Deliver
)

// A member restarted under the same name, at another receiver address,
// replaces the old entry once the old receiver is gone. (While it answers,
// the newcomer is a name takeover: TestTakeoverRefused. A restart at the
// same address replaces at once: tests/TestMembershipRestartSameName.)
func TestRestartReplaces(t *testing.T) {
	group, port := testGroup()
	a, b1 := mcastNode(t, group, port, "a", nil), mcastNode(t, group, port, "b", nil)
	startAll(t, a, b1)
	testkit.WaitFor(t, "a sees b", sees(a, "b"))
	old := a.c.Members()[0]
	if err := b1.c.Stop(t.Context()); err != nil {
		t.Fatal(err)
	}
	b2 := mcastNode(t, group, port, "b", nil)
	startAll(t, b2)
	testkit.WaitFor(t, "a sees the new b", func() bool {
		ms := a.c.Members()
		return len(ms) == 1 && ms[0].UniqueID != old.UniqueID
	})
	if a.log.Count("Replication member added: ", "member", "b") != 2 || a.log.Count("Replication member disappeared: ", "member", "b") != 1 {
		t.Fatalf("want two added lines and one disappeared:\n%v", a.log.Lines())
	}
	if err := a.c.Port(1).Send(t.Context(), "b", []byte("to new b"), 6); err != nil {
		t.Fatal(err)
	}
	if !b2.in.has("a:to new b") || b1.in.has("a:to new b") {
		t.Fatal("message did not reach the new incarnation")
	}
	_ = b1.c.Stop(t.Context()) // the old one's goodbye does not remove the new one
	if err := a.c.Port(1).Send(t.Context(), "b", []byte("still"), 6); err != nil {
		t.Fatalf("after the old incarnation's goodbye: %v", err)
	}
}

// With EstablishWait 0, Start returns once the members that answered the
// solicit are members: heartbeats are 30 s apart here, so only the answers
// could have told the joiner. Clear and sealed.
func TestFastJoin(t *testing.T) {
	for _, key := range [][]byte{nil, bytes.Repeat([]byte{9}, 32)} {
		t.Run(fmt.Sprintf("sealed=%v", key != nil), func(t *testing.T) {
			group, port := testGroup()
			a := slowNode(t, group, port, "a", key, time.Millisecond)
			startAll(t, a)
			b := slowNode(t, group, port, "b", key, time.Minute)
			startAll(t, b)
			if !sees(b, "a")() {
				t.Fatalf("b started seeing %v, want [a]", b.c.Port(1).Members())
			}
			c := slowNode(t, group, port, "c", key, time.Minute)
			startAll(t, c)
			if !sees(c, "a", "b")() {
				t.Fatalf("c started seeing %v, want [a b]", c.c.Port(1).Members())
			}
			if c.log.Count("Membership established") != 1 || c.log.Count("Sleeping for") != 0 {
				t.Fatal("c: no 'Membership established', or it slept")
			}
		})
	}
}

// slowNode is a multicast node heartbeating every 30 s whose join waits
// up to quiet for a first answer.
func slowNode(t *testing.T, group string, port int, name string, key []byte, quiet time.Duration) *node {
	t.Helper()
	cfg := cluster.DefaultLocalConfig(name)
	mc := mcast.DefaultLocalConfig()
	mc.Address, mc.Port = group, port
	mc.Frequency, mc.DropTime = 30*time.Second, time.Minute
	mc.JoinTimeout, mc.JoinQuiet = 2*time.Minute, quiet
	cfg.Membership = cluster.Multicast{Config: mc}
	cfg.FailureDetector.ConnectTimeout = time.Minute // the probe of a live loopback receiver answers at once
	cfg.Key = key
	return newNode(t, cfg)
}
