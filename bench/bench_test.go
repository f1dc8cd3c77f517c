package bench

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestReplicationAgainstRunningNodes(t *testing.T) {
	st := newFakeStore()
	target := httptest.NewServer(fakeApp(st, 0, nil))
	defer target.Close()
	peer := httptest.NewServer(fakeApp(st, 300*time.Microsecond, nil)) // replication lag
	defer peer.Close()
	baseline := httptest.NewServer(fakeApp(newFakeStore(), 0, nil))
	defer baseline.Close()

	cfg := DefaultReplicationConfig()
	cfg.Target, cfg.Peer, cfg.Baseline = target.URL, peer.URL, baseline.URL
	cfg.Duration, cfg.Round, cfg.Warmup = 400*time.Millisecond, 200*time.Millisecond, 50*time.Millisecond
	cfg.Concurrency, cfg.Samples, cfg.Size = 4, 100, 512
	rep, err := Replication(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	_, _ = rep.WriteTo(&b)
	out := b.String()
	t.Log("\n" + out)
	for _, want := range []string{"target " + target.URL, "baseline", "replication overhead", "target → peer (100 samples)", "p99 ≤ 2 ms", "machine"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	lr, err := replicationLatency(context.Background(), NewClient(2), target.URL, peer.URL, 20, 16, 50*time.Microsecond, time.Second, 1)
	if err != nil || len(lr.Samples) != 20 || lr.Lost != 0 || lr.Polls < 20 {
		t.Fatalf("latency: %v, %d samples, %d lost, %d polls", err, len(lr.Samples), lr.Lost, lr.Polls)
	}
}

func TestReplicationLatencyGivesUp(t *testing.T) {
	st := newFakeStore()
	target := httptest.NewServer(fakeApp(st, 0, nil))
	defer target.Close()
	peer := httptest.NewServer(fakeApp(newFakeStore(), 0, nil)) // never sees anything
	defer peer.Close()
	lr, err := replicationLatency(context.Background(), NewClient(2), target.URL, peer.URL, 2, 16, time.Millisecond, 30*time.Millisecond, 1)
	if err != nil || lr.Lost != 2 || len(lr.Samples) != 0 {
		t.Fatalf("err %v, lost %d, samples %d; want 2 lost", err, lr.Lost, len(lr.Samples))
	}
}

func TestBalancerBench(t *testing.T) {
	st := newFakeStore()
	direct := httptest.NewServer(fakeApp(st, 0, nil))
	defer direct.Close()
	lb := httptest.NewServer(fakeApp(st, 0, nil))
	defer lb.Close()
	ha := httptest.NewServer(fakeApp(st, 0, nil))
	defer ha.Close()
	cfg := DefaultBalancerConfig()
	cfg.Direct, cfg.Balancer, cfg.HAProxy = direct.URL, lb.URL, ha.URL
	cfg.Duration, cfg.Round, cfg.Warmup, cfg.Concurrency = 300*time.Millisecond, 100*time.Millisecond, 0, 4
	var progress strings.Builder
	cfg.Progress = &progress
	rep, err := Balancer(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	_, _ = rep.WriteTo(&b)
	t.Log("\n" + b.String())
	for _, want := range []string{"direct", "balancer adds at p50", "balancer / HAProxy throughput", "HAProxy adds at p50"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("report lacks %q", want)
		}
	}
	// Three rounds, each target once per round, starting with a different one.
	lines := strings.Split(strings.TrimSpace(progress.String()), "\n")
	var firsts []string
	for _, l := range lines {
		if strings.Contains(l, "round ") && strings.Contains(l, "/3 ") {
			f := strings.Fields(l)
			firsts = append(firsts, f[3])
		}
	}
	if strings.Join(firsts, " ") != "direct balancer haproxy balancer haproxy direct haproxy direct balancer" {
		t.Errorf("round order %v", firsts)
	}
	for _, r := range rep.Sections[0].Rows[:3] {
		if strings.Contains(r.Value, "errors") {
			t.Errorf("%s: %s", r.Metric, r.Value)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	ok := DefaultReplicationConfig()
	if err := ok.Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	bad := map[string]func(*ReplicationConfig){
		"target without peer":   func(c *ReplicationConfig) { c.Target = "http://127.0.0.1:1" },
		"not a URL":             func(c *ReplicationConfig) { c.Target, c.Peer = "127.0.0.1:1", "http://127.0.0.1:2" },
		"baseline alone":        func(c *ReplicationConfig) { c.Baseline = "http://127.0.0.1:1" },
		"zero duration":         func(c *ReplicationConfig) { c.Duration = 0 },
		"zero concurrency":      func(c *ReplicationConfig) { c.Concurrency = 0 },
		"zero samples":          func(c *ReplicationConfig) { c.Samples = 0 },
		"zero sessions":         func(c *ReplicationConfig) { c.Sessions = 0 },
		"size too large":        func(c *ReplicationConfig) { c.Size = 2 << 20 },
		"negative poll":         func(c *ReplicationConfig) { c.Poll = -1 },
		"zero fill concurrency": func(c *ReplicationConfig) { c.FillConcurrency = 0 },
	}
	for name, f := range bad {
		c := DefaultReplicationConfig()
		f(&c)
		if err := c.Validate(); !errors.Is(err, ErrConfig) {
			t.Errorf("%s: err = %v, want ErrConfig", name, err)
		}
	}
	c := DefaultReplicationConfig()
	c.Sessions, c.SkipTransfer = 0, true
	if err := c.Validate(); err != nil {
		t.Errorf("sessions 0 with skip-transfer: %v", err)
	}
	if _, err := Replication(context.Background(), ReplicationConfig{}); !errors.Is(err, ErrConfig) {
		t.Errorf("zero config: %v", err)
	}

	bc := DefaultBalancerConfig()
	if err := bc.Validate(); err != nil {
		t.Errorf("balancer without targets (self-contained): %v", err)
	}
	bc.Balancer = "http://127.0.0.1:8080"
	if err := bc.Validate(); err != nil {
		t.Errorf("balancer: %v", err)
	}
	bc.HAProxy = "ftp://x"
	if err := bc.Validate(); !errors.Is(err, ErrConfig) {
		t.Errorf("ftp URL: %v", err)
	}
}
