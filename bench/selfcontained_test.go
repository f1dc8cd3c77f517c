package bench

import (
	"bytes"
	"context"
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
	var progress bytes.Buffer
	cfg.Progress = &progress
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	rep, err := Replication(ctx, cfg)
	var out bytes.Buffer
	if rep != nil {
		_, _ = rep.WriteTo(&out)
	}
	t.Logf("progress:\n%s\nreport:\n%s", progress.String(), out.String())
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"standalone", "node1", "replication overhead", "fill node1", "per session"} {
		if !strings.Contains(out.String(), want) {
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
	var progress bytes.Buffer
	cfg.Progress = &progress
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	rep, err := MetricsOverhead(ctx, cfg, 100*time.Millisecond, false)
	var out bytes.Buffer
	if rep != nil {
		_, _ = rep.WriteTo(&out)
	}
	t.Logf("progress:\n%s\nreport:\n%s", progress.String(), out.String())
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"metrics off", "metrics on", "metrics overhead, throughput", "scrapes of http://127.0.0.1:"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if strings.Contains(out.String(), "(0 (") {
		t.Error("the metrics node was never scraped")
	}
}
