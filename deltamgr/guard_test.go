package deltamgr

import (
	"context"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gomcat/gomcat/internal/testkit"
	"github.com/gomcat/gomcat/runtime/session"
)

// deliver hands msg to n as if member from had sent it.
func deliver(t *testing.T, n *node, from string, msg *Message) {
	t.Helper()
	if msg.Context == "" {
		msg.Context = testCtx
	}
	if msg.Timestamp == 0 {
		msg.Timestamp = 1
	}
	b, err := Encode(msg)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.router.Deliver(context.Background(), from, b); err != nil {
		t.Fatal(err)
	}
}

// quickSenior: a silent senior (a recorder) costs 50 ms, not 10 s.
func quickSenior(cfg *Config) { cfg.StateTransferSeniorTimeout = 50 * time.Millisecond }

const goodID = "0123456789ABCDEF0123456789ABCDEF"

// GET_ALL_SESSIONS is answered only for a younger member: an older one
// (or a name that claims to be, from outside the membership) gets nothing.
// Under testing/synctest: quickSenior's 50 ms pass on the bubble's clock.
func TestGetAllOnlyForYoungerMembers(t *testing.T) {
	synctest.Test(t, testGetAllOnlyForYoungerMembers)
}

func testGetAllOnlyForYoungerMembers(t *testing.T) {
	h := newCluster(t)
	old := newRecorder(h, "old", nil) // joined first: older than n1
	n1 := newNode(t, h, "n1", quickSenior)
	n1.start(t)
	fill(t, n1, 3, 0)
	young := newRecorder(h, "young", nil)

	req, _ := Encode(&Message{Kind: KindGetAllSessions, Context: testCtx, SessionID: "GET-ALL", Transfer: 5, Timestamp: 1})
	if err := old.port.Send(context.Background(), "n1", req, OptionsSync); err != nil {
		t.Fatal(err)
	}
	if err := young.port.Send(context.Background(), "n1", req, OptionsSync); err != nil {
		t.Fatal(err)
	}
	testkit.WaitWithin(t, "the younger member's answer", 5*time.Second, func() bool {
		return len(young.of(KindAllSessionTransferComplete)) == 1
	})
	if n := len(old.of(KindAllSessionData)) + len(old.of(KindAllSessionTransferComplete)); n != 0 {
		t.Fatalf("older member got %d state messages", n)
	}
	if got := n1.m.Stats().Refused["get_all_from_older_member"]; got != 1 {
		t.Fatalf("refused %v", n1.m.Stats().Refused)
	}
	if ll, ok := n1.logs.Match(`^refused a session message$`); !ok || ll.Level != "warn" || ll.Str("rule") != "get_all_from_older_member" {
		t.Fatalf("log line %+v", ll)
	}

	// A name that is no member is held, then refused when it never joins
	// (here: when the queue of such requests overflows).
	for range maxPendingGetAll + 1 {
		deliver(t, n1, "ghost", &Message{Kind: KindGetAllSessions, SessionID: "GET-ALL", Transfer: 6})
	}
	if got := n1.m.Stats().Refused["get_all_from_non_member"]; got != 1 {
		t.Fatalf("refused %v", n1.m.Stats().Refused)
	}
	// ... and answered once it joins, younger.
	ghost := newRecorder(h, "ghost", nil)
	testkit.WaitWithin(t, "the late member's answers", 5*time.Second, func() bool {
		return len(ghost.of(KindAllSessionTransferComplete)) == maxPendingGetAll
	})
}

// Without replicatePrincipal a peer's DELTA cannot log a user in: the
// principal is dropped (the rest applies), counted, and never sent.
func TestPrincipalNotReplicatedByDefault(t *testing.T) {
	h := newCluster(t)
	ns := startNodes(t, h, []string{"n1", "n2"})
	n1, n2 := ns[0], ns[1]
	s, _ := n1.request(t, "", func(s *session.Session) { mustSet(t, s, "a", 1); s.SetPrincipal("ann", "FORM") })
	testkit.WaitWithin(t, "a on n2", 5*time.Second, func() bool { _, ok := n2.get(s.ID(), "a"); return ok })
	if name, _ := n2.m.store.Get(s.ID()).Principal(); name != "" {
		t.Fatalf("principal %q replicated", name)
	}
	if n2.m.Stats().Refused != nil {
		t.Fatalf("an honest peer's delta was refused: %v", n2.m.Stats().Refused)
	}
	id := goodID + ".n1"
	d := &Delta{New: true, Principal: "root", AuthType: "BASIC", PrincipalSet: true}
	d.Set("k", []byte{0x01})
	deliver(t, n2, "n1", &Message{Kind: KindDelta, SessionID: id, Delta: d})
	r := n2.m.store.Get(id)
	if r == nil {
		t.Fatal("the delta's other changes were not applied")
	}
	if name, _ := r.Principal(); name != "" || n2.m.Stats().Refused["principal_not_replicated"] != 1 {
		t.Fatalf("principal %q, refused %v", name, n2.m.Stats().Refused)
	}
}

// Session ids from the wire: the shape is checked, and a new session's
// route must be this node, the sender or a member.
func TestSessionIDsFromTheWireValidated(t *testing.T) {
	h := newCluster(t)
	ns := startNodes(t, h, []string{"n1", "n2"})
	n1 := ns[0]
	bad := []string{"", strings.Repeat("A", maxIDBase+1), "ABC DEF", "ABC\x00", "ABC.", "ABC.n1.x", "ABC." + strings.Repeat("r", maxRoute+1), "<script>"}
	for _, id := range bad {
		deliver(t, n1, "n2", &Message{Kind: KindDelta, SessionID: id, Delta: &Delta{New: true}})
	}
	deliver(t, n1, "n2", &Message{Kind: KindChangeSessionID, SessionID: goodID, NewID: "x y"})
	if got := n1.m.Stats().Refused["bad_session_id"]; got != uint64(len(bad)+1) {
		t.Fatalf("refused %v, want %d bad ids", n1.m.Stats().Refused, len(bad))
	}
	deliver(t, n1, "n2", &Message{Kind: KindDelta, SessionID: goodID + ".stranger", Delta: &Delta{New: true}})
	deliver(t, n1, "n2", &Message{Kind: KindDelta, SessionID: goodID + ".n2", Delta: &Delta{New: true}})
	deliver(t, n1, "n2", &Message{Kind: KindChangeSessionID, SessionID: goodID + ".n2", NewID: goodID + ".stranger"})
	if n1.m.Count() != 1 || n1.m.store.Get(goodID+".n2") == nil {
		t.Fatalf("sessions %d", n1.m.Count())
	}
	if got := n1.m.Stats().Refused["unknown_route"]; got != 2 {
		t.Fatalf("refused %v", n1.m.Stats().Refused)
	}
}

// MaxInactive from the wire is capped by the context's, so a forged
// session cannot live forever (-1) or longer than the context allows.
func TestMaxInactiveFromTheWireCapped(t *testing.T) {
	h := newCluster(t)
	n := newNode(t, h, "n1", func(cfg *Config) { cfg.MaxInactive = 10 * time.Minute })
	n.start(t)
	for i, mi := range []time.Duration{-1, 0, time.Hour, 5 * time.Minute} {
		id := goodID[:30] + string(rune('A'+i)) + "X.n9"
		deliver(t, n, "n9", &Message{Kind: KindDelta, SessionID: id, Delta: &Delta{New: true, MaxInactive: mi, MaxInactiveSet: true}})
		want := 10 * time.Minute
		if mi == 5*time.Minute {
			want = mi
		}
		if got := n.m.store.Get(id).MaxInactive(); got != want {
			t.Fatalf("wire %v: MaxInactive %v, want %v", mi, got, want)
		}
	}
	if got := n.m.Stats().Refused["max_inactive_capped"]; got != 3 {
		t.Fatalf("capped %v", n.m.Stats().Refused)
	}
}

// Refusals are logged once per refuseLogEvery per rule, counted always.
func TestRefusalsLogRateLimited(t *testing.T) {
	h := newCluster(t)
	n := newNode(t, h, "n1")
	n.start(t)
	for range 50 {
		deliver(t, n, "n9", &Message{Kind: KindExpired, SessionID: "bad id"})
	}
	if got := n.m.Stats().Refused["bad_session_id"]; got != 50 {
		t.Fatalf("counted %d", got)
	}
	if got := n.logs.CountMatch(`^refused a session message$`); got != 1 {
		t.Fatalf("%d log lines, want 1", got)
	}
}

// A senior that is a member but never answers (a black hole) costs
// StateTransferSeniorTimeout, then the next senior is asked; the whole
// StateTransferTimeout is not spent on it. Under testing/synctest, so the
// silence lasts exactly StateTransferSeniorTimeout on the bubble's clock.
func TestStateTransferSeniorTimeoutAsksNext(t *testing.T) {
	synctest.Test(t, testStateTransferSeniorTimeoutAsksNext)
}

func testStateTransferSeniorTimeoutAsksNext(t *testing.T) {
	h := newCluster(t)
	newRecorder(h, "hole", nil) // oldest, silent
	n1 := newNode(t, h, "n1", quickSenior)
	n1.start(t)
	ids := fill(t, n1, 20, 0)
	n2 := newNode(t, h, "n2", timeout(60*time.Second), func(cfg *Config) { cfg.StateTransferSeniorTimeout = 200 * time.Millisecond })
	begin := time.Now()
	n2.start(t)
	if _, ok := n2.logs.Match(`^Manager \[localhost#/app\]: member \[hole\] sent no session state for \[200\] ms; asking the next senior member\.$`); !ok {
		t.Fatalf("no senior-timeout line:\n%v", n2.logs.Lines())
	}
	if _, ok := n2.logs.Match(`session state sent at .* received in`); !ok {
		t.Fatalf("n1's state not received:\n%v", n2.logs.Lines())
	}
	for _, id := range ids {
		if n2.m.Find(id) == nil {
			t.Fatal("session missing")
		}
	}
	if d := time.Since(begin); d != 200*time.Millisecond {
		t.Fatalf("start took %v, want the senior timeout (200ms) on the bubble's clock", d)
	}
}

// The last senior's silence ends the transfer with Tomcat's timeout line
// (under testing/synctest: the 100 ms pass on the bubble's clock).
func TestStateTransferLastSeniorSilent(t *testing.T) {
	synctest.Test(t, testStateTransferLastSeniorSilent)
}

func testStateTransferLastSeniorSilent(t *testing.T) {
	h := newCluster(t)
	newRecorder(h, "hole", nil)
	n2 := newNode(t, h, "n2", timeout(60*time.Second), func(cfg *Config) { cfg.StateTransferSeniorTimeout = 100 * time.Millisecond })
	n2.start(t)
	if ll, ok := n2.logs.Match(`^Manager \[localhost#/app\]: No session state sent at .* received, timing out after`); !ok || ll.Level != "error" {
		t.Fatalf("no timeout line:\n%v", n2.logs.Lines())
	}
}
