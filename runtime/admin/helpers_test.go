package admin

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gomcat/gomcat/mcast"
	"github.com/gomcat/gomcat/runtime/cluster"
	"github.com/gomcat/gomcat/runtime/session"
	"github.com/gomcat/gomcat/transport"
)

// fakeSource is a node with one context and a fixed status.
type fakeSource struct {
	ready atomic.Bool
	ctxs  []Context
	st    Status
}

func (f *fakeSource) Ready() error {
	if f.ready.Load() {
		return nil
	}
	return errors.New("starting")
}
func (f *fakeSource) Status() Status      { return f.st }
func (f *fakeSource) Contexts() []Context { return f.ctxs }

// newLocal returns a started LocalManager with n sessions (attribute "k").
func newLocal(t *testing.T, n int) (*session.LocalManager, []*session.Session) {
	t.Helper()
	m, err := session.NewLocal(session.Config{Route: "node1"})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Stop(context.Background()) })
	var out []*session.Session
	for range n {
		s, err := m.Create(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Set("k", "secret-value"); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return m, out
}

func newServer(t *testing.T, cfg Config) *Server {
	t.Helper()
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// get serves one request through s's handler (no sockets).
func get(t *testing.T, h http.Handler, method, target string, hdr ...string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// promtool checks exposition text with Prometheus' own linter. CI
// installs it (Debian's prometheus package); without it the check skips,
// unless GOMCAT_E2E=require.
func promtool(t *testing.T, text string) {
	t.Helper()
	bin, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("GOMCAT_E2E") == "require" {
			t.Fatal("promtool not found (apt-get install prometheus)")
		}
		t.Skip("promtool not found (apt-get install prometheus)")
	}
	cmd := exec.Command(bin, "check", "metrics")
	cmd.Stdin = strings.NewReader(text)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("promtool check metrics: %v\n%s", err, out)
	}
}

// fakeCluster is a ClusterView with fixed counters.
type fakeCluster struct{}

func (fakeCluster) Stats() cluster.Stats {
	return cluster.Stats{Added: 3, Disappeared: 1, Probes: 2,
		Channels: []cluster.ChannelStats{{Channel: 1, Sent: 10, Received: 7}},
		Peers:    []transport.PeerStats{{Addr: "198.18.0.2:4000", Connected: true, QueuedBytes: 128, Sent: 9, SentBytes: 5120, Acked: 9}},
		Receiver: transport.ReceiverStats{Accepted: 2, Active: 1, Messages: 7, SealErrors: 5, Refused: 6, Unadmitted: 7,
			IdleClosed: 8, FrameTimeouts: 9, BytesReceived: 4096}}
}

func (fakeCluster) Members() []cluster.MemberInfo {
	return []cluster.MemberInfo{{Name: "node2", State: "live", Alive: time.Minute}, {Name: "node3", State: "suspect"}}
}

func (fakeCluster) MembershipStats() mcast.Stats {
	return mcast.Stats{Sent: 100, Received: 250, Rejected: 4, OtherDomain: 1}
}
