package bench

import (
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"
)

// buildGomcat builds the gomcat binary into a temp dir.
func buildGomcat(t *testing.T) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	repo := filepath.Dir(filepath.Dir(file))
	exe := filepath.Join(t.TempDir(), "gomcat")
	cmd := exec.Command("go", "build", "-o", exe, "./cmd/gomcat")
	cmd.Dir = repo
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/gomcat: %v\n%s", err, out)
	}
	return exe
}

var reCluster = regexp.MustCompile(`(?s)<Cluster .*</Cluster>`)

// testInit runs "gomcat init"; a standalone home gets the Cluster block
// cut out of its server.xml (the command line uses conf's template).
func testInit(exe string) InitFunc {
	plain := execInit(exe)
	return func(ctx context.Context, dir string, p HomeParams) error {
		standalone := p.Standalone
		p.Standalone = false
		if err := plain(ctx, dir, p); err != nil || !standalone {
			return err
		}
		f := filepath.Join(dir, "conf", "server.xml")
		b, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		return os.WriteFile(f, reCluster.ReplaceAll(b, nil), 0o600)
	}
}

func TestSelfContained(t *testing.T) {
	if testing.Short() {
		t.Skip("launches gomcat nodes (-short)")
	}
	exe := buildGomcat(t)
	cfg := DefaultReplicationConfig()
	cfg.Exe, cfg.InitHome = exe, testInit(exe)
	cfg.Duration, cfg.Round, cfg.Warmup = 600*time.Millisecond, 300*time.Millisecond, 100*time.Millisecond
	cfg.Concurrency, cfg.Samples, cfg.Sessions, cfg.FillConcurrency = 4, 50, 2000, 16
	cfg.BaselineExe = exe // the same binary: the column is there, the ratio near 1
	out := runReport(t, &cfg.Progress, func(ctx context.Context) (*Report, error) { return Replication(ctx, cfg) })
	for _, want := range []string{"standalone", "node1", "replication overhead", "fill node1", "per session", nameBaselinePair, "this binary vs the baseline binary"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q", want)
		}
	}
}

func TestMetricsOverheadSelfContained(t *testing.T) {
	if testing.Short() {
		t.Skip("launches gomcat nodes (-short)")
	}
	exe := buildGomcat(t)
	cfg := DefaultReplicationConfig()
	cfg.Exe, cfg.InitHome = exe, testInit(exe)
	cfg.Duration, cfg.Round, cfg.Warmup = 600*time.Millisecond, 300*time.Millisecond, 100*time.Millisecond
	cfg.Concurrency = 4
	out := runReport(t, &cfg.Progress, func(ctx context.Context) (*Report, error) {
		return MetricsOverhead(ctx, cfg, 100*time.Millisecond, false)
	})
	for _, want := range []string{"metrics off", "metrics on", "metrics overhead, throughput", "scrapes of http://127.0.0.1:"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if strings.Contains(out, "(0 (") {
		t.Error("the metrics node was never scraped")
	}
}

// Start with a baseline binary (the same one here): both columns, a ratio,
// and the joining node received every session.
func TestStartSelfContained(t *testing.T) {
	if testing.Short() {
		t.Skip("launches gomcat nodes (-short)")
	}
	exe := buildGomcat(t)
	cfg := DefaultStartConfig()
	cfg.Exe, cfg.Baseline, cfg.InitHome = exe, exe, testInit(exe)
	cfg.Rounds, cfg.Sessions, cfg.FillConcurrency = 1, 200, 8
	out := runReport(t, &cfg.Progress, func(ctx context.Context) (*Report, error) { return Start(ctx, cfg) })
	for _, want := range []string{"first HTTP 200 (before)", "first HTTP 200 (after)", "× before)", "/count == 200 (after)"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q", want)
		}
	}
}

// runReport runs a self-contained bench with its progress captured, logs
// progress and report, fails on an error and returns the report's text.
func runReport(t *testing.T, progress *io.Writer, run func(context.Context) (*Report, error)) string {
	t.Helper()
	var pb bytes.Buffer
	*progress = &pb
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	rep, err := run(ctx)
	var out bytes.Buffer
	if rep != nil {
		_, _ = rep.WriteTo(&out)
	}
	t.Logf("progress:\n%s\nreport:\n%s", pb.String(), out.String())
	if err != nil {
		t.Fatal(err)
	}
	return out.String()
}

func TestMemorySelfContained(t *testing.T) {
	if testing.Short() {
		t.Skip("launches gomcat nodes (-short)")
	}
	exe := buildGomcat(t)
	cfg := DefaultMemoryConfig()
	cfg.Exe, cfg.Baseline, cfg.InitHome = exe, exe, testInit(exe)
	cfg.Sessions, cfg.FillConcurrency = 500, 8
	out := runReport(t, &cfg.Progress, func(ctx context.Context) (*Report, error) { return Memory(ctx, cfg) })
	for _, want := range []string{"node1 (created the sessions), value 1.0 KiB (before)", "node2 (holds them by replication), value 1.0 KiB (after)", "× before)"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q", want)
		}
	}
}

// Sessions: every manager measured, and the Redis commands per request
// are what RedisManager promises: a sticky read 0, a sticky write 1, a
// non-sticky read 1 (validation) and write 2 (validation, write).
func TestSessionsSelfContained(t *testing.T) {
	if testing.Short() {
		t.Skip("launches gomcat nodes (-short)")
	}
	if _, err := exec.LookPath("redis-server"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("redis-server not installed")
		}
		t.Skip("redis-server not installed")
	}
	exe := buildGomcat(t)
	cfg := DefaultSessionsConfig()
	cfg.Exe, cfg.InitHome = exe, testInit(exe)
	cfg.Duration, cfg.Round, cfg.Warmup = 600*time.Millisecond, 300*time.Millisecond, 100*time.Millisecond
	cfg.Concurrency, cfg.Sessions = 4, 200
	out := runReport(t, &cfg.Progress, func(ctx context.Context) (*Report, error) { return Sessions(ctx, cfg) })
	for _, want := range []string{"standalone", "DeltaManager", "MEMORY USAGE of one session hash",
		"Redis sticky: Redis commands per request           0.00", "Redis sticky: Redis commands per request           1.00",
		"Redis non-sticky: Redis commands per request       1.00", "Redis non-sticky: Redis commands per request       2.00"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q", want)
		}
	}
}
