package admin

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/gomcat/gomcat/backupmgr"
	"github.com/gomcat/gomcat/farmdeploy"
	"github.com/gomcat/gomcat/redismgr"
	"github.com/gomcat/gomcat/runtime/session"
)

// fakeBackup is a BackupManager's statistics over a local manager.
type fakeBackup struct{ *session.LocalManager }

func (fakeBackup) Stats() backupmgr.Stats {
	return backupmgr.Stats{Sessions: 3, Primaries: 2, Backups: 1, Proxies: 5, Lost: 1, Promoted: 2, Retrieved: 1,
		ReplicatedBytes: 2048, Relocations: 1, LastRelocation: 12 * time.Millisecond,
		Sent: map[backupmgr.Kind]uint64{backupmgr.KindBackup: 4}}
}

type fakeFarm struct{}

func (fakeFarm) Stats() farmdeploy.Stats {
	return farmdeploy.Stats{Deployed: 1, Pushed: 2, Rejected: 1}
}
func (fakeFarm) Status() farmdeploy.Status {
	return farmdeploy.Status{Bundles: []farmdeploy.BundleStatus{{Name: "shop.gar", Size: 4096,
		Members: map[string]farmdeploy.MemberStatus{"node2": {State: farmdeploy.StateStarted}, "node3": {State: farmdeploy.StateFailed}}}}}
}

// fakeRedis is a session store manager: a LocalManager with redismgr's
// counters.
type fakeRedis struct{ *session.LocalManager }

func (fakeRedis) Stats() redismgr.Stats {
	return redismgr.Stats{Cached: 3, Created: 4, Expired: 1, RoundTrips: 20, Loads: 5, Validated: 6, NearHits: 7, Writes: 8,
		Failures: 2, SubscriberErrors: 1, Events: 9}
}

// metricsText builds a registry like runtime/node's, serves a few requests
// through the HTTP middleware and returns /metrics.
func metricsText(t *testing.T) string {
	t.Helper()
	m, _ := newLocal(t, 2)
	ctxs := []Context{{Host: "localhost", Path: "/", Manager: m}, {Host: "localhost", Path: "/shop", Manager: m},
		{Host: "localhost", Path: "/cart", Manager: fakeRedis{m}}, {Host: "localhost", Path: "/big", Manager: fakeBackup{m}}}
	reg := prometheus.NewRegistry()
	hm := NewHTTPMetrics(func() []string { return []string{"/", "/shop"} })
	ack := NewAckTimer()
	reg.MustRegister(ClusterCollector(func() ClusterView { return fakeCluster{} }), SessionsCollector(func() []Context { return ctxs }),
		FarmCollector(func() FarmView { return fakeFarm{} }), ack.Collector())
	reg.MustRegister(hm.Collectors()...)
	app := hm.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/missing") {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write([]byte("ok"))
	}))
	for _, p := range []string{"/", "/set", "/shop/", "/shop/cart", "/shopping", "/missing", "/shop/missing"} {
		get(t, app, "GET", p)
	}
	ack.Observe("sync", "broadcast", 2*time.Millisecond)
	s := newServer(t, Config{Addr: "127.0.0.1:0", Source: &fakeSource{ctxs: ctxs}, Gatherer: reg})
	rec := get(t, s.Handler(), "GET", "/metrics")
	if rec.Code != 200 {
		t.Fatalf("/metrics = %d", rec.Code)
	}
	return rec.Body.String()
}

func TestMetricsValues(t *testing.T) {
	text := metricsText(t)
	for _, want := range []string{
		`gomcat_cluster_members{state="live"} 1`,
		`gomcat_cluster_members{state="suspect"} 1`,
		`gomcat_cluster_membership_events_total{event="disappeared"} 1`,
		`gomcat_membership_heartbeats_sent_total 100`,
		`gomcat_membership_heartbeats_rejected_total{reason="sealing"} 4`,
		`gomcat_transport_queue_bytes{peer="198.18.0.2:4000"} 128`,
		`gomcat_transport_peer_connected{peer="198.18.0.2:4000"} 1`,
		`gomcat_transport_sent_bytes_total{peer="198.18.0.2:4000"} 5120`,
		`gomcat_transport_receiver_read_bytes_total 4096`,
		`gomcat_transport_receiver_errors_total{kind="seal"} 5`,
		`gomcat_transport_receiver_connections_closed_total{reason="refused"} 6`,
		`gomcat_transport_receiver_connections_closed_total{reason="unadmitted"} 7`,
		`gomcat_transport_receiver_connections_closed_total{reason="idle"} 8`,
		`gomcat_transport_receiver_connections_closed_total{reason="frame_timeout"} 9`,
		`gomcat_cluster_messages_sent_total{channel="1"} 10`,
		`gomcat_sessions_active{context="/",host="localhost"} 2`,
		`gomcat_sessions_created_total{context="/shop",host="localhost"} 2`,
		`gomcat_farm_deploys_total{result="pushed"} 2`,
		`gomcat_farm_bundle_members{bundle="shop.gar",state="failed"} 1`,
		`gomcat_farm_bundle_bytes{bundle="shop.gar"} 4096`,
		`gomcat_http_requests_total{code="200",context="/"} 3`, // "/", "/set", "/shopping" (not /shop)
		`gomcat_http_requests_total{code="200",context="/shop"} 2`,
		`gomcat_http_requests_total{code="404",context="/"} 1`,
		`gomcat_http_requests_total{code="404",context="/shop"} 1`,
		`gomcat_http_request_duration_seconds_count{context="/shop"} 3`,
		`gomcat_replication_ack_round_trip_seconds_count{mode="sync",op="broadcast"} 1`,
		`gomcat_sessions_active{context="/cart",host="localhost"} 3`,
		`gomcat_sessions_created_total{context="/cart",host="localhost"} 4`,
		`gomcat_session_store_operations_total{context="/cart",host="localhost",kind="round_trip"} 20`,
		`gomcat_session_store_operations_total{context="/cart",host="localhost",kind="near_hit"} 7`,
		`gomcat_session_store_operations_total{context="/cart",host="localhost",kind="write"} 8`,
		`gomcat_session_store_problems_total{context="/cart",host="localhost",kind="operation"} 2`,
		`gomcat_session_store_problems_total{context="/cart",host="localhost",kind="subscriber"} 1`,
		`gomcat_session_store_events_total{context="/cart",host="localhost"} 9`,
		`gomcat_sessions_active{context="/big",host="localhost"} 3`,
		`gomcat_sessions_role{context="/big",host="localhost",role="primary"} 2`,
		`gomcat_sessions_role{context="/big",host="localhost",role="backup"} 1`,
		`gomcat_sessions_role{context="/big",host="localhost",role="proxy"} 5`,
		`gomcat_sessions_lost_total{context="/big",host="localhost"} 1`,
		`gomcat_sessions_retrieved_total{context="/big",host="localhost",result="ok"} 1`,
		`gomcat_replication_backup_bytes_total{context="/big",host="localhost"} 2048`,
		`gomcat_replication_messages_sent_total{context="/big",host="localhost",kind="msg_backup"} 4`,
		`gomcat_session_relocation_duration_seconds{context="/big",host="localhost"} 0.012`,
	} {
		if !strings.Contains(text, want+"\n") {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if regexp.MustCompile(`[0-9A-F]{32}`).MatchString(text) {
		t.Error("/metrics shows a session id")
	}
}

func TestMetricsPromtool(t *testing.T) {
	promtool(t, metricsText(t))
}

func TestCollectorsLint(t *testing.T) {
	m, _ := newLocal(t, 1)
	ctxs := []Context{{Host: "localhost", Path: "/", Manager: m}, {Host: "localhost", Path: "/big", Manager: fakeBackup{m}}}
	for name, c := range map[string]prometheus.Collector{
		"cluster":  ClusterCollector(func() ClusterView { return fakeCluster{} }),
		"sessions": SessionsCollector(func() []Context { return ctxs }),
		"farm":     FarmCollector(func() FarmView { return fakeFarm{} }),
	} {
		problems, err := testutil.CollectAndLint(c)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range problems {
			t.Errorf("%s: %s: %s", name, p.Metric, p.Text)
		}
	}
	// Before the cluster or farm run, the collectors export nothing.
	if n := testutil.CollectAndCount(ClusterCollector(func() ClusterView { return nil })); n != 0 {
		t.Errorf("cluster collector without a cluster: %d metrics", n)
	}
	if n := testutil.CollectAndCount(FarmCollector(func() FarmView { return nil })); n != 0 {
		t.Errorf("farm collector without a farm: %d metrics", n)
	}
}

func TestServerStartStop(t *testing.T) {
	src := &fakeSource{}
	src.ready.Store(true)
	s := newServer(t, Config{Addr: "127.0.0.1:0", Source: src})
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != ErrStarted {
		t.Fatalf("second Start = %v", err)
	}
	resp, err := http.Get(s.URL() + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("/readyz = %d", resp.StatusCode)
	}
	if err := s.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := s.Stop(context.Background()); err != nil {
		t.Fatalf("second Stop = %v", err)
	}
	if _, err := http.Get(s.URL() + "/livez"); err == nil {
		t.Fatal("listener still answers after Stop")
	}
}
