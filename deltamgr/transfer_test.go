package deltamgr

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gomcat/gomcat/internal/testkit"
	"github.com/gomcat/gomcat/runtime/session"
	"github.com/gomcat/gomcat/transport/transporttest"
)

// gate holds a manager's sends of one kind until opened.
type gate struct {
	Cluster
	kind Kind
	open chan struct{}
	once sync.Once
	held atomic.Int32
}

func newGate(k Kind) *gate { return &gate{kind: k, open: make(chan struct{})} }

func (g *gate) wrap(c Cluster) Cluster { g.Cluster = c; return g }

func (g *gate) release() { g.once.Do(func() { close(g.open) }) }

func (g *gate) Send(ctx context.Context, to string, msg []byte, opts int) error {
	if m, err := Decode(msg); err == nil && m.Kind == g.kind {
		g.held.Add(1)
		select {
		case <-g.open:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return g.Cluster.Send(ctx, to, msg, opts)
}

// recorder is a bare hub member that records what it receives.
type recorder struct {
	mu   sync.Mutex
	msgs []*Message
	port *transporttest.Port
}

func newRecorder(h *cluster, name string, reply func(r *recorder, from string, m *Message)) *recorder {
	r := &recorder{}
	r.port = h.Join(name, func(_ context.Context, from string, b []byte) error {
		m, err := Decode(b)
		if err != nil {
			return err
		}
		r.mu.Lock()
		r.msgs = append(r.msgs, m)
		r.mu.Unlock()
		if reply != nil {
			reply(r, from, m)
		}
		return nil
	})
	return r
}

func (r *recorder) of(k Kind) []*Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []*Message
	for _, m := range r.msgs {
		if m.Kind == k {
			out = append(out, m)
		}
	}
	return out
}

func rootName(cfg *Config) { cfg.Name = "localhost#/" }

func timeout(d time.Duration) nodeOpt { return func(cfg *Config) { cfg.StateTransferTimeout = d } }

// fill creates n sessions on nd, each with attribute "i" and a payload of size bytes.
func fill(t testing.TB, nd *node, n, size int) []string {
	t.Helper()
	ids := make([]string, n)
	payload := strings.Repeat("x", size)
	for i := range n {
		s, err := nd.m.Create(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Set("i", i); err != nil {
			t.Fatal(err)
		}
		if size > 0 {
			if err := s.Set("p", payload); err != nil {
				t.Fatal(err)
			}
		}
		if err := nd.m.RequestCompleted(context.Background(), s); err != nil {
			t.Fatal(err)
		}
		ids[i] = s.ID()
	}
	return ids
}

func TestStateTransferSkippedWhenAlone(t *testing.T) {
	h := newCluster(t)
	n := newNode(t, h, "n1", rootName)
	n.start(t)
	ll, ok := n.logs.Match(`skipping`)
	if !ok || ll.Message != "Manager [localhost#/]: skipping state transfer. No members active in cluster group." || ll.Level != "info" {
		t.Fatalf("log = %+v", ll)
	}
}

// 2,500 sessions with sendAllSessionsSize 1000 arrive in 3 chunks, all of
// them, before Start returns; Tomcat's log lines are exact.
func TestStateTransferChunks(t *testing.T) {
	h := newCluster(t)
	n1 := newNode(t, h, "n1", rootName)
	n1.start(t)
	ids := fill(t, n1, 2500, 10)
	n2 := newNode(t, h, "n2", rootName, timeout(60*time.Second))
	n2.start(t)
	if n2.m.Count() != 2500 {
		t.Fatalf("n2 holds %d sessions after Start, want 2500", n2.m.Count())
	}
	for i, id := range ids {
		if v, _ := n2.get(id, "i"); v != int64(i) {
			t.Fatalf("session %d: i=%v", i, v)
		}
		if n2.m.IsPrimary(n2.m.store.Get(id)) {
			t.Fatal("transferred session marked primary")
		}
	}
	if got := sent(n1, KindAllSessionData); got != 3 {
		t.Fatalf("ALL_SESSION_DATA sent %d, want 3", got)
	}
	if !n2.logs.Has("Manager [localhost#/], requesting session state from [n1]. This operation will timeout if no session state has been received within [60] seconds.") {
		t.Fatalf("no request line:\n%v", n2.logs.Lines())
	}
	ll, ok := n2.logs.Match(`^Manager \[localhost#/\]; session state sent at \[\w{3} \w{3} \d\d \d\d:\d\d:\d\d \w+ \d{4}\] received in \[\d+\] ms\.$`)
	if !ok || ll.Level != "info" || ll.Fields["sessions"] != float64(2500) || ll.Fields["chunks"] != float64(3) {
		t.Fatalf("success line = %+v", ll)
	}
	st := n2.m.Stats()
	if st.TransfersCompleted != 1 || st.TransferSessions != 2500 || st.SessionsReceived != 2500 {
		t.Fatalf("stats %+v", st)
	}
	testkit.WaitWithin(t, "n1 counted the transfer", 5*time.Second, func() bool {
		st1 := n1.m.Stats()
		return st1.TransfersServed == 1 && st1.SessionsSent == 2500
	})
}

// Chunks are also cut by bytes, early, so a frame never grows past the bound.
func TestStateTransferChunksBoundedByBytes(t *testing.T) {
	h := newCluster(t)
	var max atomic.Int64
	n1 := newNodeWrapped(t, h, "n1", func(c Cluster) Cluster { return sizeSpy{c, &max} },
		func(cfg *Config) { cfg.SendAllSessionsBytes = 3000 })
	n1.start(t)
	fill(t, n1, 10, 1024)
	n2 := newNode(t, h, "n2")
	n2.start(t)
	if n2.m.Count() != 10 {
		t.Fatalf("n2 holds %d", n2.m.Count())
	}
	if got := sent(n1, KindAllSessionData); got != 5 {
		t.Fatalf("chunks = %d, want 5 (two 1 KiB sessions per 3000 bytes)", got)
	}
	if max.Load() > 3000+200 {
		t.Fatalf("largest chunk %d bytes", max.Load())
	}
}

// sizeSpy records the largest message sent with Send.
type sizeSpy struct {
	Cluster
	max *atomic.Int64
}

func (s sizeSpy) Send(ctx context.Context, to string, msg []byte, opts int) error {
	for {
		m := s.max.Load()
		if int64(len(msg)) <= m || s.max.CompareAndSwap(m, int64(len(msg))) {
			break
		}
	}
	return s.Cluster.Send(ctx, to, msg, opts)
}

// Messages arriving during the transfer are queued and applied after it;
// those older than the snapshot are dropped with Tomcat's line.
func TestStateTransferQueuesMessagesArrivingMeanwhile(t *testing.T) {
	h := newCluster(t)
	c := newClock()
	g := newGate(KindAllSessionData)
	n1 := newNodeWrapped(t, h, "n1", g.wrap, withClock(c))
	n1.start(t)
	ids := fill(t, n1, 10, 0)
	n2 := newNode(t, h, "n2", withClock(c))
	done := make(chan error, 1)
	go func() { done <- n2.m.Start(context.Background()) }()
	testkit.WaitWithin(t, "n1 snapshotted and holding its first chunk", 5*time.Second, func() bool { return g.held.Load() > 0 })

	c.Add(time.Second) // later than the snapshot
	n1.request(t, ids[3], func(s *session.Session) { mustSet(t, s, "late", 1) })
	fresh, _ := n1.request(t, "", func(s *session.Session) { mustSet(t, s, "new", 1) })
	stale, _ := Encode(&Message{Kind: KindDelta, Context: testCtx, SessionID: ids[4], Timestamp: c.Now().Add(-time.Minute).UnixMilli(),
		Delta: &Delta{Attrs: []AttrOp{{Name: "stale", Value: []byte{1}}}}})
	if err := n2.router.Deliver(context.Background(), "n1", stale); err != nil {
		t.Fatal(err)
	}
	testkit.WaitWithin(t, "three queued messages", 5*time.Second, func() bool {
		n2.m.mu.Lock()
		defer n2.m.mu.Unlock()
		return len(n2.m.queue) == 3
	})
	if n2.m.Count() != 0 {
		t.Fatal("queued messages applied during the transfer")
	}
	g.release()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if v, _ := n2.get(ids[3], "late"); v != int64(1) {
		t.Fatal("queued delta not applied")
	}
	if v, _ := n2.get(fresh.ID(), "new"); v != int64(1) {
		t.Fatal("session created during the transfer missing")
	}
	if _, ok := n2.get(ids[4], "stale"); ok {
		t.Fatal("stale delta applied")
	}
	if n2.m.Count() != 11 {
		t.Fatalf("n2 holds %d, want 11", n2.m.Count())
	}
	ll, ok := n2.logs.Match(`^Manager \[localhost#/app\]: Drop message \[SESSION-DELTA\] inside GET_ALL_SESSIONS sync phase start date \[.+\] message date \[.+\]$`)
	if !ok || ll.Level != "warn" || n2.m.Stats().StaleDropped != 1 {
		t.Fatalf("drop line %+v, stats %+v", ll, n2.m.Stats())
	}
}

// With StateTimestampDrop false nothing queued is dropped.
func TestStateTransferNoTimestampDrop(t *testing.T) {
	h := newCluster(t)
	c := newClock()
	g := newGate(KindAllSessionData)
	n1 := newNodeWrapped(t, h, "n1", g.wrap, withClock(c))
	n1.start(t)
	ids := fill(t, n1, 2, 0)
	n2 := newNode(t, h, "n2", withClock(c), func(cfg *Config) { cfg.StateTimestampDrop = false })
	done := make(chan error, 1)
	go func() { done <- n2.m.Start(context.Background()) }()
	testkit.WaitWithin(t, "held chunk", 5*time.Second, func() bool { return g.held.Load() > 0 })
	old, _ := Encode(&Message{Kind: KindDelta, Context: testCtx, SessionID: ids[0], Timestamp: 1,
		Delta: &Delta{Attrs: []AttrOp{{Name: "old", Value: []byte{1}}}}})
	n2.router.Deliver(context.Background(), "n1", old)
	g.release()
	<-done
	if _, ok := n2.get(ids[0], "old"); !ok {
		t.Fatal("queued message dropped with StateTimestampDrop=false")
	}
}

// A GET_ALL from a younger member while we transfer ourselves is answered
// after our transfer, never dropped.
func TestGetAllAnsweredAfterOwnTransfer(t *testing.T) {
	h := newCluster(t)
	g := newGate(KindAllSessionData)
	n1 := newNodeWrapped(t, h, "n1", g.wrap)
	n1.start(t)
	fill(t, n1, 5, 0)
	n2 := newNode(t, h, "n2")
	done := make(chan error, 1)
	go func() { done <- n2.m.Start(context.Background()) }()
	testkit.WaitWithin(t, "held chunk", 5*time.Second, func() bool { return g.held.Load() > 0 })
	n3 := newRecorder(h, "n3", nil)
	req, _ := Encode(&Message{Kind: KindGetAllSessions, Context: testCtx, SessionID: "GET-ALL", Transfer: 77})
	if err := n3.port.Send(context.Background(), "n2", req, OptionsSync); err != nil {
		t.Fatal(err)
	}
	g.release()
	<-done
	testkit.WaitWithin(t, "n2's answer to n3", 5*time.Second, func() bool { return len(n3.of(KindAllSessionTransferComplete)) == 1 })
	c := n3.of(KindAllSessionTransferComplete)[0]
	if c.Transfer != 77 || c.Count != 5 || len(n3.of(KindAllSessionData)) != 1 {
		t.Fatalf("answer: %+v", c)
	}
}

// The target leaves mid-transfer: stop waiting at once, ask the next senior.
func TestStateTransferTargetLeavesRetriesNextSenior(t *testing.T) {
	h := newCluster(t)
	g := newGate(KindAllSessionData)
	n1 := newNodeWrapped(t, h, "n1", g.wrap)
	n1.start(t)
	n3 := newNode(t, h, "n3")
	n3.start(t)
	ids := fill(t, n1, 20, 0)
	testkit.WaitWithin(t, "n3 replicas", 5*time.Second, func() bool { return n3.m.Count() == 20 })
	n2 := newNode(t, h, "n2", timeout(60*time.Second))
	done := make(chan error, 1)
	go func() { done <- n2.m.Start(context.Background()) }()
	testkit.WaitWithin(t, "held chunk", 5*time.Second, func() bool { return g.held.Load() > 0 })
	h.Leave("n1")
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, ok := n2.logs.Match(`^Manager \[localhost#/app\]: member \[n1\] disappeared during state transfer`); !ok {
		t.Fatalf("no disappeared line:\n%v", n2.logs.Lines())
	}
	if !n2.logs.Has("Manager [localhost#/app], requesting session state from [n3]. This operation will timeout if no session state has been received within [60] seconds.") {
		t.Fatal("did not ask n3")
	}
	for _, id := range ids {
		if n2.m.Find(id) == nil {
			t.Fatal("session missing after retry")
		}
	}
	if _, bad := n2.logs.Match(`timing out`); bad {
		t.Fatal("timed out")
	}
}

// The only senior leaves: give up clearly, without waiting for the timeout.
func TestStateTransferOnlySeniorLeaves(t *testing.T) {
	h := newCluster(t)
	g := newGate(KindAllSessionData)
	n1 := newNodeWrapped(t, h, "n1", g.wrap)
	n1.start(t)
	fill(t, n1, 3, 0)
	n2 := newNode(t, h, "n2", timeout(60*time.Second))
	done := make(chan error, 1)
	go func() { done <- n2.m.Start(context.Background()) }()
	testkit.WaitWithin(t, "held chunk", 5*time.Second, func() bool { return g.held.Load() > 0 })
	h.Leave("n1")
	<-done
	ll, ok := n2.logs.Match(`no senior member left`)
	if !ok || ll.Level != "error" || n2.m.Stats().TransfersFailed != 1 {
		t.Fatalf("line %+v", ll)
	}
}

// The peer stops answering (alive, but dies inside): the timeout path logs
// Tomcat's ERROR line and Start continues. Under testing/synctest: the
// 300 ms timeout passes on the bubble's clock.
func TestStateTransferTimeout(t *testing.T) { synctest.Test(t, testStateTransferTimeout) }

func testStateTransferTimeout(t *testing.T) {
	h := newCluster(t)
	g := newGate(KindAllSessionData)
	n1 := newNodeWrapped(t, h, "n1", g.wrap)
	n1.start(t)
	fill(t, n1, 3, 0)
	n2 := newNode(t, h, "n2", timeout(300*time.Millisecond))
	if err := n2.m.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	ll, ok := n2.logs.Match(`^Manager \[localhost#/app\]: No session state sent at \[\w{3} \w{3} \d\d \d\d:\d\d:\d\d \w+ \d{4}\] received, timing out after \[\d+\] ms\.$`)
	if !ok || ll.Level != "error" {
		t.Fatalf("timeout line %+v\n%v", ll, n2.logs.Lines())
	}
	if !n2.logs.Has("Manager [localhost#/app], requesting session state from [n1]. This operation will timeout if no session state has been received within [0] seconds.") {
		t.Fatal("request line")
	}
	// Running: a late chunk is ignored, live messages apply.
	g.release()
	testkit.WaitWithin(t, "late chunk ignored", 5*time.Second, func() bool { return n2.m.Stats().StaleChunks > 0 })
	s, _ := n1.request(t, "", func(s *session.Session) { mustSet(t, s, "k", 1) })
	testkit.WaitWithin(t, "live delta", 5*time.Second, func() bool { return n2.m.Find(s.ID()) != nil })
}

// Two (or three) nodes started at the same moment: the older ones skip,
// the younger ask them; nobody waits for a timeout (Tomcat waits 60 s).
func TestNodesStartingTogether(t *testing.T) {
	h := newCluster(t)
	var ns []*node
	for _, name := range []string{"n1", "n2", "n3"} {
		ns = append(ns, newNode(t, h, name, timeout(60*time.Second)))
	}
	var wg sync.WaitGroup
	for _, n := range ns {
		wg.Go(func() { n.start(t) })
	}
	wg.Wait()
	if !ns[0].logs.Has("Manager [localhost#/app]: skipping state transfer. No member started before this one (2 younger members).") {
		t.Fatalf("n1:\n%v", ns[0].logs.Lines())
	}
	for _, n := range ns[1:] {
		if _, ok := n.logs.Match(`session state sent at .* received in`); !ok {
			t.Fatalf("%s did not complete:\n%v", n.name, n.logs.Lines())
		}
		if !n.logs.Has("Manager [localhost#/app], requesting session state from [n1]. This operation will timeout if no session state has been received within [60] seconds.") {
			t.Fatalf("%s did not ask the oldest", n.name)
		}
	}
}

func TestStateTransferNoContextManager(t *testing.T) {
	h := newCluster(t)
	n1 := newNode(t, h, "n1", func(cfg *Config) { cfg.Name = "localhost#/other" })
	n1.start(t)
	n2 := newNode(t, h, "n2")
	n2.start(t)
	if !n1.logs.Has("Context manager doesn't exist:[localhost#/app]") {
		t.Fatalf("n1:\n%v", n1.logs.Lines())
	}
	ll, ok := n2.logs.Match(`^Manager \[localhost#/app\]: In reply to the 'Get all session data' message sent at \[.+\], a 'No matching context manager' message was received after \[\d+\] ms\.$`)
	if !ok || ll.Level != "warn" {
		t.Fatalf("n2:\n%v", n2.logs.Lines())
	}
	// A context no member has yet is new to the cluster, not a failure.
	if ll, ok := n2.logs.Match(`^Manager \[localhost#/app\]: skipping state transfer\. No member has this context yet\.$`); !ok || ll.Level != "info" {
		t.Fatalf("no info skip line; n2:\n%v", n2.logs.Lines())
	}
	if n2.logs.Has("no senior member left") {
		t.Fatalf("a new context logged as a failed transfer; n2:\n%v", n2.logs.Lines())
	}
}

// A transfer whose count does not match is never reported complete.
func TestStateTransferIncompleteNotReportedComplete(t *testing.T) {
	h := newCluster(t)
	newRecorder(h, "liar", func(r *recorder, from string, m *Message) {
		if m.Kind != KindGetAllSessions {
			return
		}
		go func() {
			var recs []session.Record
			for i := range 2 {
				recs = append(recs, session.Record{ID: fmt.Sprintf("S%d.liar", i)})
			}
			d, _ := Encode(&Message{Kind: KindAllSessionData, Context: m.Context, Transfer: m.Transfer, Seq: 1, Sessions: recs, Timestamp: 5})
			c, _ := Encode(&Message{Kind: KindAllSessionTransferComplete, Context: m.Context, Transfer: m.Transfer, Seq: 1, Count: 3, Timestamp: 5})
			r.port.Send(context.Background(), from, d, OptionsSync)
			r.port.Send(context.Background(), from, c, OptionsSync)
		}()
	})
	n2 := newNode(t, h, "n2")
	n2.start(t)
	if _, ok := n2.logs.Match(`received in`); ok {
		t.Fatal("incomplete transfer reported complete")
	}
	ll, ok := n2.logs.Match(`^Manager \[localhost#/app\]: incomplete session state from \[liar\]: received \[2\] of \[3\] sessions`)
	if !ok || ll.Level != "error" || n2.m.Stats().TransfersCompleted != 0 {
		t.Fatalf("line %+v", ll)
	}
}

// StateTransferTimeout 0: Start does not wait; the sessions arrive later.
func TestStateTransferDontWait(t *testing.T) {
	h := newCluster(t)
	g := newGate(KindAllSessionData)
	n1 := newNodeWrapped(t, h, "n1", g.wrap)
	n1.start(t)
	fill(t, n1, 5, 0)
	n2 := newNode(t, h, "n2", timeout(0))
	n2.start(t)
	if n2.m.Count() != 0 {
		t.Fatal("sessions before the gate opened")
	}
	g.release()
	testkit.WaitWithin(t, "sessions", 5*time.Second, func() bool { return n2.m.Count() == 5 })
	testkit.WaitWithin(t, "success line", 5*time.Second, func() bool { _, ok := n2.logs.Match(`received in`); return ok })
}

// Forever (-1): the line says [-1] seconds and the transfer completes.
func TestStateTransferForever(t *testing.T) {
	h := newCluster(t)
	n1 := newNode(t, h, "n1")
	n1.start(t)
	fill(t, n1, 3, 0)
	n2 := newNode(t, h, "n2", timeout(-1))
	n2.start(t)
	if n2.m.Count() != 3 || !n2.logs.Has("Manager [localhost#/app], requesting session state from [n1]. This operation will timeout if no session state has been received within [-1] seconds.") {
		t.Fatalf("count %d\n%v", n2.m.Count(), n2.logs.Lines())
	}
}

// A chunk the requester refuses aborts the transfer: the chunks already in
// flight may still arrive, but TRANSFERCOMPLETE never does.
func TestStateTransferChunkRefusedNoComplete(t *testing.T) {
	h := newCluster(t)
	n1 := newNode(t, h, "n1", rootName)
	n1.start(t)
	fill(t, n1, 5500, 10) // 6 chunks of at most 1000
	var (
		mu    sync.Mutex
		kinds []Kind
	)
	req := h.Join("req", func(_ context.Context, _ string, b []byte) error {
		m, err := Decode(b)
		if err != nil {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		kinds = append(kinds, m.Kind)
		if m.Kind == KindAllSessionData && m.Seq == 2 {
			return errors.New("refused")
		}
		return nil
	})
	get, _ := Encode(&Message{Kind: KindGetAllSessions, Context: "localhost#/", Transfer: 7, Timestamp: 1})
	if err := req.Send(context.Background(), "n1", get, OptionsAsync); err != nil {
		t.Fatal(err)
	}
	testkit.WaitWithin(t, "n1 aborts the transfer", 5*time.Second, func() bool { return n1.m.Stats().TransfersAborted == 1 })
	mu.Lock()
	defer mu.Unlock()
	if slices.Contains(kinds, KindAllSessionTransferComplete) || len(kinds) > 2+sendWindow {
		t.Fatalf("requester got %v", kinds)
	}
	if st := n1.m.Stats(); st.TransfersServed != 0 || st.SessionsSent != 0 {
		t.Fatalf("stats %+v", st)
	}
}
