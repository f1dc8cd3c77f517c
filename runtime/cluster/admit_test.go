package cluster_test

import (
	"context"
	"crypto/rand"
	"errors"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/gomcat/gomcat/internal/testkit"
	"github.com/gomcat/gomcat/mcast"
	"github.com/gomcat/gomcat/runtime/cluster"
	"github.com/gomcat/gomcat/transport"
)

// rawSender is a transport Sender that says it is self in its hellos.
func rawSender(t *testing.T, self transport.Peer) *transport.Sender {
	t.Helper()
	tc := transport.DefaultLocalConfig()
	tc.Timeout = time.Second
	tc.Self = self
	s, err := transport.NewSender(tc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Stop(context.Background()) })
	return s
}

func receiverAddr(c *cluster.Cluster) string {
	l := c.Local()
	return net.JoinHostPort(l.Host.String(), strconv.Itoa(l.Port))
}

// peerOn is newPeer listening on host.
func peerOn(t *testing.T, name, host string) *peer {
	t.Helper()
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	p := &peer{ln: ln}
	p.m = mcast.Member{Name: name, Host: net.ParseIP(host).To4(), Port: ln.Addr().(*net.TCPAddr).Port,
		StartedAt: time.Now().UnixMilli(), Alive: time.Second}
	rand.Read(p.m.UniqueID[:])
	return p
}

// A hello is admitted only when it matches a live member: name, unique id
// and the connection's source host. Nothing of a refused connection
// reaches a handler.
func TestAdmitRefusesStrangers(t *testing.T) {
	in := &inbox{}
	c, f, lb := startFake(t, "a", func(cfg *cluster.Config) { cfg.AdmitWait = 200 * time.Millisecond })
	c.Handle(transport.ChannelSessions, in.deliver)
	b := peerOn(t, "b", "127.0.0.2") // a member whose host is 127.0.0.2
	f.emit(mcast.Added, b.m)
	testkit.WaitFor(t, "b is a member", func() bool { return state(c, "b") == "live" })
	addr := receiverAddr(c)
	tests := []struct {
		name string
		self transport.Peer
	}{
		{"unknown name", transport.Peer{Name: "mallory"}},
		{"member's name, other id", transport.Peer{Name: "b", UniqueID: [16]byte{1}}},
		{"member's name and id, other host", transport.Peer{Name: "b", UniqueID: b.m.UniqueID}}, // from 127.0.0.1
	}
	for i, tt := range tests {
		s := rawSender(t, tt.self)
		err := s.Send(t.Context(), addr, transport.Message{Channel: transport.ChannelSessions, Options: 6, Payload: []byte("forged")})
		if err == nil {
			t.Fatalf("%s: forged message accepted", tt.name)
		}
		testkit.WaitFor(t, "refusal counted", func() bool { return c.Stats().Unadmitted >= uint64(i+1) })
	}
	if got := in.list(); len(got) != 0 {
		t.Fatalf("handler got %v", got)
	}
	if st := c.Stats(); st.Receiver.Unadmitted < uint64(len(tests)) || st.Receiver.Messages != 0 {
		t.Fatalf("receiver stats %+v", st.Receiver)
	}
	if n := lb.Count("connection refused: hello does not match a member"); n < 1 || n > 2 {
		t.Fatalf("%d refusal lines, want one per burst", n)
	}
}

// A member may reach this node before this node has heard it: its hello
// waits (up to AdmitWait) for the membership, then its messages pass.
func TestAdmitWaitsForMembership(t *testing.T) {
	in := &inbox{}
	c, f, _ := startFake(t, "a", func(cfg *cluster.Config) { cfg.AdmitWait = 5 * time.Second })
	c.Handle(transport.ChannelSessions, in.deliver)
	b := newPeer(t, "b", true)
	s := rawSender(t, transport.Peer{Name: "b", UniqueID: b.m.UniqueID})
	errc := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		defer cancel()
		// Sync: returns once a's handler ran; retried over reconnects.
		var err error
		for ctx.Err() == nil {
			if err = s.Send(ctx, receiverAddr(c), transport.Message{Channel: transport.ChannelSessions, Options: 6, Payload: []byte("early")}); err == nil {
				break
			}
		}
		errc <- err
	}()
	testkit.WaitFor(t, "the hello waits", func() bool { return c.Stats().Receiver.Active > 0 })
	f.emit(mcast.Added, b.m)
	if err := <-errc; err != nil {
		t.Fatalf("early message of a real member: %v", err)
	}
	if !in.has("b:early") {
		t.Fatalf("handler got %v", in.list())
	}
	// Once b is replaced by a new incarnation, the old one's connections
	// are refused message by message.
	nb := b.m
	nb.UniqueID = [16]byte{9}
	nb.StartedAt++
	f.emit(mcast.Replaced, nb, b.m)
	testkit.WaitFor(t, "b replaced", func() bool {
		ms := c.Members()
		return len(ms) == 1 && ms[0].UniqueID == "09000000000000000000000000000000"
	})
	err := s.Send(t.Context(), receiverAddr(c), transport.Message{Channel: transport.ChannelSessions, Options: 6, Payload: []byte("late")})
	var re *transport.RemoteError
	if !errors.As(err, &re) {
		t.Fatalf("message of a replaced incarnation: %v, want a fail-ack", err)
	}
	if c.Stats().RefusedMessages != 1 || in.has("b:late") {
		t.Fatalf("refused %d, inbox %v", c.Stats().RefusedMessages, in.list())
	}
}

// Two live processes under one name: the second (newer, another address)
// does not take the name over while the first one's receiver answers.
func TestTakeoverRefused(t *testing.T) {
	group, port := testGroup()
	a, b1 := mcastNode(t, group, port, "a", nil), mcastNode(t, group, port, "b", nil)
	startAll(t, a, b1)
	testkit.WaitFor(t, "a sees b", sees(a, "b"))
	real := a.c.Members()[0]
	b2 := mcastNode(t, group, port, "b", nil)
	startAll(t, b2)
	testkit.WaitFor(t, "the claim refused", func() bool {
		return a.log.Count("member not added: claims the name of a live member") > 0
	})
	if ms := a.c.Members(); len(ms) != 1 || ms[0].UniqueID != real.UniqueID {
		t.Fatalf("a's members %+v, want the first b only", ms)
	}
	if err := a.c.Port(1).Send(t.Context(), "b", []byte("to the real b"), 6); err != nil {
		t.Fatal(err)
	}
	if !b1.in.has("a:to the real b") || b2.in.has("a:to the real b") {
		t.Fatalf("b1 got %v, b2 got %v", b1.in.list(), b2.in.list())
	}
	// Once the first one is gone for good, the name is free.
	if err := b1.c.Stop(t.Context()); err != nil {
		t.Fatal(err)
	}
	testkit.WaitFor(t, "the second b takes over", func() bool {
		ms := a.c.Members()
		return len(ms) == 1 && ms[0].UniqueID != real.UniqueID
	})
}

// An unsealed goodbye is applied only once the member's receiver stops
// answering: a forged one (the member goes on heartbeating) changes
// nothing, a real one removes the member with reason "left".
func TestGoodbyeVerified(t *testing.T) {
	c, f, lb := startFake(t, "a", nil)
	b := newPeer(t, "b", true)
	f.emit(mcast.Added, b.m)
	testkit.WaitFor(t, "b is a member", func() bool { return state(c, "b") == "live" })
	f.emit(mcast.Left, b.m)  // forged: b's receiver answers
	f.emit(mcast.Added, b.m) // and its next heartbeat comes
	testkit.WaitFor(t, "forged goodbye counted", func() bool { return c.Stats().GoodbyesIgnored == 1 })
	if state(c, "b") != "live" || lb.Count("Replication member disappeared") != 0 {
		t.Fatalf("forged goodbye removed b: state %q", state(c, "b"))
	}
	// The real one: goodbye, then the receiver closes.
	f.emit(mcast.Left, b.m)
	b.close()
	testkit.WaitFor(t, "b left", func() bool { return state(c, "b") == "" })
	if _, ok := lb.Find("Replication member disappeared", "reason", "left"); !ok {
		t.Fatalf("no reason=left line:\n%v", lb.Lines())
	}
	// With a cluster key a goodbye is sealed: applied at once.
	k, fk, _ := startFake(t, "a", func(cfg *cluster.Config) { cfg.Key = make([]byte, 32) })
	d := newPeer(t, "d", true)
	fk.emit(mcast.Added, d.m)
	testkit.WaitFor(t, "d is a member", func() bool { return state(k, "d") == "live" })
	fk.emit(mcast.Left, d.m)
	testkit.WaitFor(t, "d left at once", func() bool { return state(k, "d") == "" })
}

// The membership may lose a member (a forged goodbye) and then report a
// newer incarnation of its name from another address as Added: the
// cluster still probes the member it has before letting the name go.
func TestClaimAfterLostMemberProbed(t *testing.T) {
	c, f, lb := startFake(t, "a", nil)
	b := newPeer(t, "b", true)
	f.emit(mcast.Added, b.m)
	testkit.WaitFor(t, "b is a member", func() bool { return state(c, "b") == "live" })
	evil := peerOn(t, "b", "127.0.0.2")
	evil.m.StartedAt = b.m.StartedAt + 1000
	f.emit(mcast.Added, evil.m)
	testkit.WaitFor(t, "the claim refused", func() bool { return c.Stats().TakeoversRefused == 1 })
	if ms := c.Members(); len(ms) != 1 || ms[0].Addr != b.m.Addr() {
		t.Fatalf("members %+v, want the first b", ms)
	}
	if lb.Count("member not added: claims the name of a live member") != 1 {
		t.Fatal("refusal not logged")
	}
	// A real restart elsewhere: the old receiver is gone, the claim wins.
	c2, f2, _ := startFake(t, "a", nil)
	old := newPeer(t, "b", true)
	f2.emit(mcast.Added, old.m)
	testkit.WaitFor(t, "b is a member", func() bool { return state(c2, "b") == "live" })
	old.close()
	nb := peerOn(t, "b", "127.0.0.2")
	f2.emit(mcast.Added, nb.m)
	testkit.WaitFor(t, "the new b", func() bool {
		ms := c2.Members()
		return len(ms) == 1 && ms[0].Addr == nb.m.Addr()
	})
}
