package cluster_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gomcat/gomcat/internal/testkit"
	"github.com/gomcat/gomcat/mcast"
	"github.com/gomcat/gomcat/runtime/cluster"
)

func TestAddedAfterProbe(t *testing.T) {
	c, f, lb := startFake(t, "a", nil)
	p := newPeer(t, "b", true)
	f.emit(mcast.Added, p.m)
	testkit.WaitFor(t, "b added", func() bool { return state(c, "b") == "live" })
	ll, _ := lb.Find("Replication member added: ", "member", "b")
	if want := "Replication member added: " + p.m.String(); ll.Message != want || ll.Level != "info" {
		t.Fatalf("log line %+v, want info %q", ll, want)
	}
	if got := c.Port(1).Members(); len(got) != 1 || got[0] != "b" {
		t.Fatalf("Members = %v", got)
	}
	// A repeated Added is a no-op.
	f.emit(mcast.Added, p.m)
	f.emit(mcast.Updated, p.m)
	testkit.WaitFor(t, "events consumed", func() bool { return c.Stats().Updated == 1 })
	if n := lb.Count("Replication member added: ", "member", "b"); n != 1 {
		t.Fatalf("added logged %d times", n)
	}
}

// (a) heartbeats stop, receiver answers: kept as a suspect, removed once
// the receiver goes too.
func TestSuspectKeptWhileReceiverAnswers(t *testing.T) {
	c, f, lb := startFake(t, "a", nil)
	p := newPeer(t, "b", true)
	f.emit(mcast.Added, p.m)
	testkit.WaitFor(t, "b added", func() bool { return state(c, "b") == "live" })
	f.emit(mcast.Disappeared, p.m)
	testkit.WaitFor(t, "b verified", func() bool {
		return lb.Count("Verification complete. Member still alive["+p.m.String()+"]", "member", "b") == 1
	})
	if state(c, "b") != "suspect" || lb.Count("Received memberDisappeared["+p.m.String()+"] message. Will verify.", "member", "b") != 1 {
		t.Fatalf("state %q; lines:\n%v", state(c, "b"), lb.Lines())
	}
	// Still a member for the consumers, several re-probes later.
	probes := c.Stats().Probes
	testkit.WaitFor(t, "re-probes", func() bool { return c.Stats().Probes >= probes+3 })
	if got := c.Port(1).Members(); len(got) != 1 || got[0] != "b" {
		t.Fatalf("Members = %v, want [b]", got)
	}
	// Heartbeats resume: live again, no new "added".
	f.emit(mcast.Added, p.m)
	testkit.WaitFor(t, "b live", func() bool { return state(c, "b") == "live" })
	f.emit(mcast.Disappeared, p.m)
	testkit.WaitFor(t, "b suspect again", func() bool { return c.Stats().Suspected == 2 })
	p.close()
	testkit.WaitFor(t, "b removed", func() bool { return state(c, "b") == "" })
	if lb.Count("Replication member added: ", "member", "b") != 1 || lb.Count("Replication member disappeared: "+p.m.String(), "member", "b") != 1 {
		t.Fatalf("want one added and one disappeared line:\n%v", lb.Lines())
	}
	if st := c.Stats(); st.Suspected != 2 || st.Removed != 1 {
		t.Fatalf("stats %+v", st)
	}
}

// (b) heartbeats but no receiver: never added; warned once; added when
// the receiver comes up while heartbeats continue.
func TestHeartbeatsWithoutReceiverNotAdded(t *testing.T) {
	c, f, lb := startFake(t, "a", nil)
	p := newPeer(t, "b", false)
	f.emit(mcast.Added, p.m)
	testkit.WaitFor(t, "several failed probes", func() bool { return c.Stats().NotAdded >= 3 })
	if state(c, "b") != "" || len(c.Port(1).Members()) != 0 {
		t.Fatalf("b is a member without a receiver")
	}
	if n := lb.Count("member sends heartbeats but its receiver does not answer", "member", "b"); n != 1 {
		t.Fatalf("warned %d times, want once", n)
	}
	if err := c.Port(1).Send(t.Context(), "b", []byte("x"), 6); !errors.Is(err, cluster.ErrNoSuchMember) {
		t.Fatalf("send to non-member: %v", err)
	}
	p.reopen(t)
	testkit.WaitFor(t, "b added", func() bool { return state(c, "b") == "live" })
	// Gone before ever answering: dropped quietly.
	q := newPeer(t, "c", false)
	f.emit(mcast.Added, q.m)
	testkit.WaitFor(t, "c probed", func() bool { return lb.Count("member sends heartbeats", "member", "c") == 1 })
	f.emit(mcast.Disappeared, q.m)
	p2 := newPeer(t, "d", true)
	f.emit(mcast.Added, p2.m)
	testkit.WaitFor(t, "d added", func() bool { return state(c, "d") == "live" })
	if lb.Count("Replication member disappeared", "member", "c") != 0 || lb.Count("Received memberDisappeared", "member", "c") != 0 {
		t.Fatalf("a never-added member was logged as disappeared")
	}
}

// (c) receiver dead and heartbeats gone: removed after verification.
func TestDeadMemberRemoved(t *testing.T) {
	c, f, lb := startFake(t, "a", nil)
	p := newPeer(t, "b", true)
	f.emit(mcast.Added, p.m)
	testkit.WaitFor(t, "b added", func() bool { return state(c, "b") == "live" })
	p.close()
	f.emit(mcast.Disappeared, p.m)
	testkit.WaitFor(t, "b removed", func() bool { return state(c, "b") == "" })
	for _, want := range []string{
		"Received memberDisappeared[" + p.m.String() + "] message. Will verify.",
		"Verification complete. Member disappeared[" + p.m.String() + "]",
		"Replication member disappeared: " + p.m.String(),
	} {
		if lb.Count(want, "member", "b") != 1 {
			t.Fatalf("missing %q:\n%v", want, lb.Lines())
		}
	}
	if err := c.Port(1).Send(t.Context(), "b", []byte("x"), 8); !errors.Is(err, cluster.ErrNoSuchMember) {
		t.Fatalf("send to removed member: %v", err)
	}
}

func TestLeftRemovedAtOnce(t *testing.T) {
	c, f, lb := startFake(t, "a", nil)
	p := newPeer(t, "b", true)
	f.emit(mcast.Added, p.m)
	testkit.WaitFor(t, "b added", func() bool { return state(c, "b") == "live" })
	f.emit(mcast.Left, p.m) // receiver still answers: no verification for a goodbye
	testkit.WaitFor(t, "b removed", func() bool { return state(c, "b") == "" })
	ll, _ := lb.Find("Replication member disappeared: ", "member", "b")
	if ll.Str("reason") != "left" || lb.Count("Received memberDisappeared") != 0 {
		t.Fatalf("goodbye handled as %+v", ll)
	}
}

func TestReplacedAtOnce(t *testing.T) {
	c, f, lb := startFake(t, "a", nil)
	p := newPeer(t, "b", true)
	f.emit(mcast.Added, p.m)
	testkit.WaitFor(t, "b added", func() bool { return state(c, "b") == "live" })
	nm := p.m
	nm.UniqueID[0]++
	nm.StartedAt++
	f.emit(mcast.Replaced, nm, p.m)
	testkit.WaitFor(t, "b replaced", func() bool {
		ms := c.Members()
		return len(ms) == 1 && ms[0].StartedAt.UnixMilli() == nm.StartedAt
	})
	if lb.Count("Replication member disappeared: "+p.m.String(), "member", "b") != 1 || lb.Count("Replication member added: "+nm.String(), "member", "b") != 1 {
		t.Fatalf("want both lines:\n%v", lb.Lines())
	}
	// A new incarnation heard as Added while the old one is a suspect
	// replaces it too.
	f.emit(mcast.Disappeared, nm)
	testkit.WaitFor(t, "b suspect", func() bool { return c.Stats().Suspected == 1 })
	n3 := nm
	n3.UniqueID[0]++
	f.emit(mcast.Added, n3)
	testkit.WaitFor(t, "b third incarnation", func() bool { return lb.Count("Replication member added: "+n3.String(), "member", "b") == 1 })
	if state(c, "b") != "live" || lb.Count("Replication member disappeared: "+nm.String(), "member", "b") != 1 {
		t.Fatalf("old suspect not replaced:\n%v", lb.Lines())
	}
}

func TestSuspectTimeout(t *testing.T) {
	c, f, lb := startFake(t, "a", func(cfg *cluster.Config) { cfg.FailureDetector.SuspectTimeout = 100 * time.Millisecond })
	p := newPeer(t, "b", true)
	f.emit(mcast.Added, p.m)
	testkit.WaitFor(t, "b added", func() bool { return state(c, "b") == "live" })
	f.emit(mcast.Disappeared, p.m)
	testkit.WaitFor(t, "b removed", func() bool { return lb.Count("Replication member disappeared: ", "member", "b") == 1 })
	if ll, _ := lb.Find("Replication member disappeared: ", "member", "b"); ll.Str("reason") != "suspect timeout" {
		t.Fatalf("removed for %q", ll.Str("reason"))
	}
}

func TestDetectorDisabled(t *testing.T) {
	c, f, lb := startFake(t, "a", func(cfg *cluster.Config) { cfg.FailureDetector.Enabled = false })
	p := newPeer(t, "b", false) // no receiver: added anyway
	f.emit(mcast.Added, p.m)
	testkit.WaitFor(t, "b added", func() bool { return state(c, "b") == "live" })
	f.emit(mcast.Disappeared, p.m)
	testkit.WaitFor(t, "b removed", func() bool { return state(c, "b") == "" })
	if lb.Count("Received memberDisappeared") != 0 || c.Stats().Probes != 0 {
		t.Fatalf("probed with the detector off")
	}
}

// A send waiting on a member that leaves fails with ErrNoSuchMember when
// it leaves, not after the transport timeout.
func TestSendInFlightFailsWhenMemberLeaves(t *testing.T) {
	c, f, _ := startFake(t, "a", func(cfg *cluster.Config) { cfg.Transport.Timeout = time.Minute })
	p := newPeer(t, "b", true) // accepts and closes: never acks
	f.emit(mcast.Added, p.m)
	testkit.WaitFor(t, "b added", func() bool { return state(c, "b") == "live" })
	errc := make(chan error, 1)
	go func() { errc <- c.Port(1).Send(context.Background(), "b", []byte("x"), 6) }()
	testkit.WaitFor(t, "send queued", func() bool {
		st := c.Stats()
		return len(st.Peers) == 1 && st.Peers[0].QueuedMessages == 1
	})
	f.emit(mcast.Left, p.m)
	if err := <-errc; !errors.Is(err, cluster.ErrNoSuchMember) {
		t.Fatalf("in-flight send: %v", err)
	}
}

// Dropped membership events are made up for from the member list.
func TestReconcileAfterDroppedEvents(t *testing.T) {
	c, f, lb := startFake(t, "a", nil)
	p, q := newPeer(t, "b", true), newPeer(t, "c", true)
	f.emit(mcast.Added, p.m)
	testkit.WaitFor(t, "b added", func() bool { return state(c, "b") == "live" })
	q.close()
	f.drop([]mcast.Member{q.m}, "b") // c's Added and b's Disappeared lost
	testkit.WaitFor(t, "b verified", func() bool { return c.Stats().Suspected == 1 })
	testkit.WaitFor(t, "c probed", func() bool { return lb.Count("member sends heartbeats", "member", "c") == 1 })
	if lb.Count("membership events were dropped") != 1 {
		t.Fatalf("reconcile not logged:\n%v", lb.Lines())
	}
}

// A send that cannot reach a live member's receiver makes the detector
// probe it; dead, it stops being a member until its receiver answers.
func TestUnreachableSendProbes(t *testing.T) {
	c, f, lb := startFake(t, "a", func(cfg *cluster.Config) { cfg.Transport.Timeout = 200 * time.Millisecond })
	p := newPeer(t, "b", true)
	f.emit(mcast.Added, p.m)
	testkit.WaitFor(t, "b added", func() bool { return state(c, "b") == "live" })
	p.close()
	if err := c.Port(1).Send(t.Context(), "b", []byte("x"), 2); err == nil {
		t.Fatal("send to a dead receiver succeeded")
	}
	testkit.WaitFor(t, "b removed", func() bool { return state(c, "b") == "" })
	if ll, _ := lb.Find("Replication member disappeared: ", "member", "b"); ll.Str("reason") != "unreachable" {
		t.Fatalf("removed for %q", ll.Str("reason"))
	}
	p.reopen(t) // heartbeats never stopped: back when the receiver answers
	testkit.WaitFor(t, "b back", func() bool { return state(c, "b") == "live" })
	if n := lb.Count("Replication member added: ", "member", "b"); n != 2 {
		t.Fatalf("added %d times", n)
	}
}

// "auto" listens on, and advertises, the membership's interface address.
func TestAutoAddress(t *testing.T) {
	c, f, _ := startFake(t, "a", func(cfg *cluster.Config) { cfg.Transport.Address = "auto" })
	l := f.Local()
	if !l.Host.Equal(net.IPv4(127, 0, 0, 1)) || l.Port == 0 || c.Local().Port != l.Port {
		t.Fatalf("advertised %v:%d", l.Host, l.Port)
	}
	if err := mcast.Probe(t.Context(), "127.0.0.1", l.Port, time.Second); err != nil {
		t.Fatalf("receiver not on the advertised address: %v", err)
	}
}

// aliveOf returns the alive=N (ms) of a member string in a log line.
func aliveOf(t *testing.T, line string) int64 {
	t.Helper()
	i := strings.LastIndex(line, "alive=")
	if i < 0 {
		t.Fatalf("no alive= in %q", line)
	}
	n, err := strconv.ParseInt(strings.TrimRight(line[i+len("alive="):], "]"), 10, 64)
	if err != nil {
		t.Fatalf("alive in %q: %v", line, err)
	}
	return n
}

// The verification lines show the member's alive time of its latest
// heartbeat (or now, for one found alive), not of the heartbeat that
// added it.
func TestVerifyLinesShowCurrentAlive(t *testing.T) {
	c, f, lb := startFake(t, "a", nil)
	for _, answers := range []bool{true, false} {
		name := map[bool]string{true: "b", false: "c"}[answers]
		p := newPeer(t, name, true)
		p.m.LastHeard = time.Now()
		f.emit(mcast.Added, p.m)
		testkit.WaitFor(t, name+" added", func() bool { return state(c, name) == "live" })
		later := p.m
		later.Alive += 5 * time.Minute // heartbeats went on for 5 minutes
		later.LastHeard = later.LastHeard.Add(5 * time.Minute)
		if !answers {
			p.close()
		}
		f.emit(mcast.Disappeared, later)
		want := later.Alive.Milliseconds()
		testkit.WaitFor(t, name+" verified", func() bool { return lb.Count("Verification complete. ", "member", name) == 1 })
		verify, _ := lb.Find("Received memberDisappeared[", "member", name)
		if got := aliveOf(t, strings.TrimSuffix(verify.Message, "] message. Will verify.")); got != want {
			t.Fatalf("%q: alive %d, want %d", verify.Message, got, want)
		}
		done, _ := lb.Find("Verification complete. ", "member", name)
		if got := aliveOf(t, done.Message); got < want {
			t.Fatalf("%q: alive %d, want at least %d", done.Message, got, want)
		}
		if !answers {
			gone, _ := lb.Find("Replication member disappeared: ", "member", name)
			if got := aliveOf(t, gone.Message); got != want {
				t.Fatalf("%q: alive %d, want %d", gone.Message, got, want)
			}
		}
	}
}

// A probe retries a connect that timed out (a lost SYN) up to 3 times and
// stops at the first success; a refused connect ends it at once.
func TestProbeRetriesTimeoutsNotRefusals(t *testing.T) {
	var calls atomic.Int64
	var refuse atomic.Bool
	probe := func(ctx context.Context, host string, port int, timeout time.Duration) error {
		n := calls.Add(1)
		if refuse.Load() {
			return fmt.Errorf("probe: %w", syscall.ECONNREFUSED)
		}
		if n%3 != 0 { // two lost SYNs, then an answer
			return fmt.Errorf("probe: %w", os.ErrDeadlineExceeded)
		}
		return nil
	}
	c, f, _ := startFake(t, "a", func(cfg *cluster.Config) { cfg.FailureDetector.Probe = probe })
	p := newPeer(t, "b", true)
	f.emit(mcast.Added, p.m)
	testkit.WaitFor(t, "b added", func() bool { return state(c, "b") == "live" })
	if n, st := calls.Load(), c.Stats(); n != 3 || st.Probes != 1 || st.ProbeFailures != 0 {
		t.Fatalf("%d connects, stats %+v; want 3 connects in one successful probe", n, st)
	}

	refuse.Store(true)
	q := newPeer(t, "c", true)
	f.emit(mcast.Added, q.m)
	testkit.WaitFor(t, "c refused several times", func() bool { return c.Stats().NotAdded >= 3 })
	// One connect per probe: calls never run ahead of the probes started.
	if n, st := calls.Load(), c.Stats(); uint64(n-3) > st.Probes-1 {
		t.Fatalf("%d connects for %d probes of a refusing member", n-3, st.Probes-1)
	}
}
