package deltamgr

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"testing"
	"time"

	"github.com/gomcat/gomcat/internal/testkit"
	"github.com/gomcat/gomcat/runtime/session"
)

// parity maps Tomcat's DeltaManager behaviours (reference §4, Tomcat's
// test/org/apache/catalina/ha/session tests) to the tests that pin them
// here. TestParityTable checks every named test exists.
var parity = []struct{ tomcat, test string }{
	// SessionMessage kinds and codes (§4.1).
	{"SessionMessage EVT_* codes 1,2,3,4,12,13,14,15,16 and event type strings", "TestKindCodesAreTomcats"},
	{"every message kind round-trips", "TestMessageRoundTripEveryKind"},
	// DeltaRequest (§4.2).
	{"DeltaRequest coalescing: only the last action per name, order of last touch", "TestDeltaCoalescesLastActionPerName"},
	{"TestDeltaRequest: serialized delta applies attributes A and B", "TestDeltaRequestRoundTripAppliesAttributes"},
	{"DeltaRequest.execute applies attrs, max-inactive, principal/authType", "TestCoalescedDelta"},
	{"delta apply(diff) property", "TestApplyDiffProperty"},
	// DeltaSession (§4.3).
	{"primary expires after maxInactiveInterval and notifies the cluster", "TestExpiredPrimaryNotifies"},
	{"non-primary copies expire after 2×maxInactiveInterval without notifying", "TestBackupExpiresAfterTwiceMaxInactiveSilently"},
	{"isValid() on access expires an idle session", "TestFindExpiresIdle"},
	{"TestDeltaSession: no deadlock when a destroy listener touches the expiring session", "TestDestroyListenerDuringExpiryNoDeadlock"},
	{"received deltas mark the copy non-primary; the serving node becomes primary", "TestCreateAndFirstWriteOneMessage"},
	// DeltaManager attributes (§4.4).
	{"sendAllSessionsSize must be > 0 (0, -5 rejected; 1 accepted)", "TestNewValidates"},
	{"maxActiveSessions counts replicas; excess refused with a log line", "TestMaxActiveSessions"},
	{"notifyListenersOnReplication / notifySessionListenersOnReplication", "TestListenersOnReplication"},
	{"expireSessionsOnShutdown: local expiry always, cluster only when true", "TestStopExpiresLocally"},
	{"stateTimestampDrop=false keeps every queued message", "TestStateTransferNoTimestampDrop"},
	// Request-time flow (§4.5).
	{"dirty session → EVT_SESSION_DELTA, one per request", "TestCoalescedDelta"},
	{"CREATED: a new session reaches the members (fixed: with its first write, never reordered)", "TestFirstWriteNeverLostUnderDelays"},
	{"CREATED for a new session without attributes", "TestCreatedMessage"},
	{"not dirty, primary elsewhere → ACCESSED; keep-alive ACCESSED (rate-limited)", "TestAccessedRules"},
	{"not dirty, primary here → nothing (fixed: Tomcat replicated reads)", "TestReadOnlyRequestSendsNothing"},
	{"invalidate → EVT_SESSION_EXPIRED everywhere", "TestInvalidateReplicates"},
	{"changeSessionId → EVT_CHANGE_SESSION_ID", "TestRenewIDReplicates"},
	{"JvmRouteBinderValve rename; concurrent requests with the old id", "TestRouteRewriteOldIDStillFound"},
	{"sync channelSendOptions (6): wait for the members, report failures", "TestSyncModeWaitsAndReturnsErrors"},
	{"delta for an unknown session (fixed: created, not dropped)", "TestPartitionHealAndFailover"},
	// State transfer (§4.6).
	{"no members → 'skipping state transfer' line", "TestStateTransferSkippedWhenAlone"},
	{"GET_ALL to the oldest member; 'requesting session state' and 'received in' lines", "TestStateTransferChunks"},
	{"TestDeltaManagerBatch: 5 sessions, batch 2 → 3 sends", "TestDeltaManagerBatchFiveByTwo"},
	{"TestDeltaManagerBatch: 0 sessions → 0 block sends", "TestDeltaManagerBatchNoSessions"},
	{"messages during the transfer are queued; older than the snapshot dropped with the WARN line", "TestStateTransferQueuesMessagesArrivingMeanwhile"},
	{"timeout → ERROR 'No session state sent at … timing out' and start continues", "TestStateTransferTimeout"},
	{"stateTransferTimeout -1 waits forever; 0 does not wait", "TestStateTransferForever"},
	{"stateTransferTimeout 0", "TestStateTransferDontWait"},
	{"NOCONTEXTMANAGER reply and WARN line", "TestStateTransferNoContextManager"},
	{"ClusterSessionListener: 'Context manager doesn't exist:[ctx]'", "TestRouterUnknownContext"},
	{"routing by context name (localhost#, localhost#/shop)", "TestRouterRoutesByContextName"},
	{"two nodes started together (fixed: neither waits 60 s)", "TestNodesStartingTogether"},
	{"GET_ALL during our own transfer (fixed: answered after, never dropped)", "TestGetAllAnsweredAfterOwnTransfer"},
	{"target lost mid-transfer (fixed: next senior at once)", "TestStateTransferTargetLeavesRetriesNextSenior"},
	{"partial transfer (fixed: never reported complete)", "TestStateTransferIncompleteNotReportedComplete"},
}

func TestParityTable(t *testing.T) {
	fset := token.NewFileSet()
	files, _ := filepath.Glob("*_test.go")
	have := map[string]bool{}
	for _, f := range files {
		af, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range af.Decls {
			if fd, ok := d.(*ast.FuncDecl); ok && fd.Recv == nil {
				have[fd.Name.Name] = true
			}
		}
	}
	for _, p := range parity {
		if !have[p.test] {
			t.Errorf("parity %q names missing test %s", p.tomcat, p.test)
		}
	}
}

func TestDeltaRequestRoundTripAppliesAttributes(t *testing.T) {
	src := session.New("S", session.Options{})
	mustSet(t, src, "A", "a")
	mustSet(t, src, "B", 2)
	d := FromChanges(src.TakeChanges())
	b, err := Encode(&Message{Kind: KindDelta, Context: "c", SessionID: "S", Delta: &d})
	if err != nil {
		t.Fatal(err)
	}
	m, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	dst := session.New("S", session.Options{})
	dst.Apply(m.Delta.Changes(), false)
	if a, _ := dst.Get("A"); a != "a" {
		t.Fatalf("A = %v", a)
	}
	if v, _ := dst.Get("B"); v != int64(2) {
		t.Fatalf("B = %v", v)
	}
}

func batchCount(t *testing.T, sessions, size int) uint64 {
	h := newCluster(t)
	n1 := newNode(t, h, "n1", func(cfg *Config) { cfg.SendAllSessionsSize = size })
	n1.start(t)
	fill(t, n1, sessions, 0)
	n2 := newNode(t, h, "n2")
	n2.start(t)
	if n2.m.Count() != sessions {
		t.Fatalf("transferred %d of %d", n2.m.Count(), sessions)
	}
	testkit.WaitWithin(t, "TRANSFERCOMPLETE sent", 5*time.Second, func() bool { return sent(n1, KindAllSessionTransferComplete) == 1 })
	return sent(n1, KindAllSessionData)
}

func TestDeltaManagerBatchFiveByTwo(t *testing.T) {
	if got := batchCount(t, 5, 2); got != 3 {
		t.Fatalf("5 sessions in batches of 2: %d sends, want 3", got)
	}
	if got := batchCount(t, 5, 1); got != 5 {
		t.Fatalf("batch size 1: %d sends, want 5", got)
	}
}

func TestDeltaManagerBatchNoSessions(t *testing.T) {
	if got := batchCount(t, 0, 1000); got != 0 {
		t.Fatalf("0 sessions: %d block sends", got)
	}
}

// Tomcat's TestDeltaSession: a Destroyed listener that sets an attribute
// and looks the session up while it expires must not deadlock.
func TestDestroyListenerDuringExpiryNoDeadlock(t *testing.T) {
	h := newCluster(t)
	var n1 *node
	var s *session.Session
	l := &session.Listeners{Destroyed: func(x *session.Session) {
		_ = x.Set("during", true)
		_ = n1.m.Find(x.ID())
		x.Invalidate()
		_ = n1.m.Count()
	}}
	n1 = newNode(t, h, "n1", func(cfg *Config) { cfg.Listeners = l })
	n1.start(t)
	n2 := newNode(t, h, "n2")
	n2.start(t)
	s, _ = n1.request(t, "", func(s *session.Session) { mustSet(t, s, "k", 1) })
	done := make(chan struct{})
	go func() { s.Invalidate(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("deadlock: Invalidate with a re-entrant Destroyed listener did not return")
	}
	if n1.m.Count() != 0 {
		t.Fatal("session still registered")
	}
}
