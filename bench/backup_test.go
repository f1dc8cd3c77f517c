package bench

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestBackupConfigValidate(t *testing.T) {
	if err := DefaultBackupConfig().Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	for name, edit := range map[string]func(*BackupConfig){
		"no sizes":            func(c *BackupConfig) { c.Nodes = nil },
		"one node":            func(c *BackupConfig) { c.Nodes = []int{1} },
		"backups = nodes":     func(c *BackupConfig) { c.Nodes, c.Backups = []int{2}, 2 },
		"no sessions":         func(c *BackupConfig) { c.Sessions = 0 },
		"value too large":     func(c *BackupConfig) { c.Size = 2 << 20 },
		"no duration":         func(c *BackupConfig) { c.Duration = 0 },
		"no fill workers":     func(c *BackupConfig) { c.FillConcurrency = 0 },
		"no timeout":          func(c *BackupConfig) { c.StartTimeout = 0 },
		"too many sessions":   func(c *BackupConfig) { c.Sessions = 2_000_000 },
		"no /set concurrency": func(c *BackupConfig) { c.Concurrency = 0 },
	} {
		c := DefaultBackupConfig()
		edit(&c)
		if err := c.Validate(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestBackupSelfContained runs the bench on 2 nodes: every section has
// both managers' rows, and BackupManager's holds 2 values per session.
func TestBackupSelfContained(t *testing.T) {
	if testing.Short() {
		t.Skip("launches gomcat nodes (-short)")
	}
	exe := buildGomcat(t)
	cfg := DefaultBackupConfig()
	cfg.Exe, cfg.InitHome = exe, testInit(exe)
	cfg.Nodes, cfg.Sessions, cfg.FillConcurrency, cfg.Duration, cfg.Concurrency = []int{3}, 600, 8, 300*time.Millisecond, 2
	rep, err := Backup(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if _, err := rep.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"3 nodes, DeltaManager", "3 nodes, BackupManager (backups=1)", secBackupRSS, secBackupBytes, secBackupRate, secBackupFailov,
		"1,800 values held in all", "1,200 values held in all"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
}
