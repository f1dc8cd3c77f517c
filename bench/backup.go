package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

const (
	secBackupRSS    = "RSS per node for the sessions (VmRSS growth over the fill)"
	secBackupBytes  = "replication bytes per /set (transport frame bytes sent by all members ÷ /sets)"
	secBackupRate   = "/set throughput (every node takes writes at once)"
	secBackupFailov = "failover of one node (kill -9 → first 200 for one of its sessions on another node)"
)

// BackupConfig configures Backup ("gomcat bench backup"): DeltaManager vs
// BackupManager on clusters of each size.
type BackupConfig struct {
	// Exe is the gomcat binary. Default: the running executable.
	Exe string
	// Nodes are the cluster sizes measured. Default: 2, 4, 8.
	Nodes []int
	// Sessions created over the whole cluster (an equal share through each
	// node). Default: 20000.
	Sessions int
	// Size of each session's one value, bytes. Default: 1024.
	Size int
	// Backups is the BackupManager's backups attribute. Default: 1.
	Backups int
	// FillConcurrency is the number of workers of the fill. Default: 32.
	FillConcurrency int
	// Duration of the /set throughput measure per cluster. Default: 3s.
	Duration time.Duration
	// Concurrency is the number of /set workers per node. Default: 4.
	Concurrency int
	// InitHome creates node homes. Default: runs "Exe init".
	InitHome InitFunc
	// StartTimeout bounds a node's start and the replication of the fill.
	// Default: 120s.
	StartTimeout time.Duration
	// Progress receives one line per step. Default: io.Discard.
	Progress io.Writer
}

// DefaultBackupConfig returns the defaults above.
func DefaultBackupConfig() BackupConfig {
	return BackupConfig{Nodes: []int{2, 4, 8}, Sessions: 20_000, Size: 1024, Backups: 1, FillConcurrency: 32,
		Duration: 3 * time.Second, Concurrency: 4, StartTimeout: 120 * time.Second, Progress: io.Discard}
}

// Validate checks the fields.
func (c BackupConfig) Validate() error {
	switch {
	case len(c.Nodes) == 0:
		return fmt.Errorf("%w: no cluster sizes", ErrConfig)
	case c.Sessions < 1 || c.Sessions > 1_000_000 || c.FillConcurrency < 1 || c.Concurrency < 1:
		return fmt.Errorf("%w: sessions %d (1 .. 1000000), fill concurrency %d, concurrency %d: want at least 1", ErrConfig, c.Sessions, c.FillConcurrency, c.Concurrency)
	case c.Size < 1 || c.Size > 1<<20:
		return fmt.Errorf("%w: size %d: want 1 .. 1048576 bytes", ErrConfig, c.Size)
	case c.Duration <= 0 || c.StartTimeout <= 0:
		return fmt.Errorf("%w: duration %v, start timeout %v", ErrConfig, c.Duration, c.StartTimeout)
	}
	for _, n := range c.Nodes {
		if n < 2 || n > 16 {
			return fmt.Errorf("%w: cluster size %d: want 2 .. 16 nodes", ErrConfig, n)
		}
		if c.Backups < 1 || c.Backups >= n {
			return fmt.Errorf("%w: backups %d on %d nodes: want 1 .. %d", ErrConfig, c.Backups, n, n-1)
		}
	}
	return nil
}

// backupFigures is what one cluster measured.
type backupFigures struct {
	rss      float64 // bytes per node, mean over the nodes
	rssMax   float64
	perSet   float64 // frame bytes sent per /set
	rate     float64 // /sets per second, whole cluster
	failover time.Duration
	copies   int64 // session values held over the cluster
}

// Backup measures DeltaManager and BackupManager on clusters of each
// size in cfg.Nodes, launched on 127.0.0.1 from one binary: the RSS per
// node for Sessions sessions of one Size-byte value (filled through every
// node), the transport bytes per /set, the cluster's /set throughput and
// the failover of one node killed -9. Both managers send synchronously
// (DeltaManager channelSendOptions 6, BackupManager's default
// mapSendOptions 6): a /set returns when every copy holds it.
func Backup(ctx context.Context, cfg BackupConfig) (*Report, error) {
	if cfg.Progress == nil {
		cfg.Progress = io.Discard
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	rep := &Report{Machine: ThisMachine(), Title: "gomcat bench backup: DeltaManager vs BackupManager (nodes launched on 127.0.0.1)"}
	seed := rand.Uint64()
	for _, n := range cfg.Nodes {
		var fig [2]backupFigures
		for k, backups := range []int{0, cfg.Backups} {
			f, err := backupOnce(ctx, cfg, n, backups, seed+uint64(n*2+k))
			if err != nil {
				return rep, fmt.Errorf("%d nodes, %s: %w", n, managerLabel(backups), err)
			}
			fig[k] = f
		}
		for k, backups := range []int{0, cfg.Backups} {
			f, label := fig[k], fmt.Sprintf("%d nodes, %s", n, managerLabel(backups))
			rss := Row{Metric: label, Value: fmt.Sprintf("%s (max %s; %s values held in all)", FormatBytes(int64(f.rss)), FormatBytes(int64(f.rssMax)), FormatCount(f.copies))}
			rate := Row{Metric: label, Value: fmt.Sprintf("%s per node (%s in all)", FormatRate(f.rate/float64(n)), FormatRate(f.rate))}
			if k == 1 {
				rss.Value += fmt.Sprintf(" · %.2f× DeltaManager's", f.rss/max(fig[0].rss, 1))
				rate.Value += fmt.Sprintf(" · %.2f× DeltaManager's", f.rate/max(fig[0].rate, 1))
			}
			rep.Add(secBackupRSS, rss)
			rep.Add(secBackupBytes, Row{Metric: label, Value: FormatBytes(int64(f.perSet))})
			rep.Add(secBackupRate, rate)
			rep.Add(secBackupFailov, Row{Metric: label, Value: FormatDuration(f.failover)})
		}
	}
	rep.Note("%s sessions × %s over the whole cluster (an equal share through each node); BackupManager backups=%d; both managers synchronous (channelSendOptions / mapSendOptions 6)",
		FormatCount(int64(cfg.Sessions)), FormatBytes(int64(cfg.Size)), cfg.Backups)
	rep.Note("every node runs on this machine: per-node throughput falls with the node count because the nodes share its CPUs; compare the managers at one size")
	rep.Note("failover: a session created on the last node, which is killed -9; the time until node1 answers 200 with its value (no balancer; detection by the request itself)")
	return rep, nil
}

func managerLabel(backups int) string {
	if backups == 0 {
		return "DeltaManager"
	}
	return fmt.Sprintf("BackupManager (backups=%d)", backups)
}

// backupOnce runs one cluster of size nodes: DeltaManager when backups is
// 0, else BackupManager.
func backupOnce(ctx context.Context, cfg BackupConfig, size, backups int, seed uint64) (f backupFigures, err error) {
	rc := DefaultReplicationConfig()
	rc.Exe, rc.InitHome, rc.StartTimeout, rc.Progress = cfg.Exe, cfg.InitHome, cfg.StartTimeout, cfg.Progress
	rc.SendOptions = 6
	cl, err := newCluster(rc)
	if err != nil {
		return f, err
	}
	defer cl.close()
	cl.admin = true
	var prep func(string) error
	if backups > 0 {
		prep = func(home string) error { return setBackupManager(home, backups) }
	}
	nodes := make([]*node, size)
	for i := range nodes {
		if nodes[i], err = cl.startPrep(ctx, fmt.Sprintf("node%d", i+1), false, "", cl.domain, prep); err != nil {
			return f, err
		}
	}
	if err := cl.ready(ctx, nodes...); err != nil {
		return f, err
	}
	admins := make([]string, size)
	for i, n := range nodes {
		if admins[i], err = runAdminURL(n.home); err != nil {
			return f, err
		}
	}
	if err := waitMembers(ctx, cfg.StartTimeout, admins, size-1); err != nil {
		return f, err
	}

	// Fill: an equal share through each node; every copy in place.
	var before []int64
	for _, n := range nodes {
		r, err := RSS(n.pid())
		if err != nil {
			return f, err
		}
		before = append(before, r)
	}
	fmt.Fprintf(cfg.Progress, "bench: %d nodes, %s: filling %d sessions of %d B\n", size, managerLabel(backups), cfg.Sessions, cfg.Size)
	share := cfg.Sessions / size
	for i, n := range nodes {
		k := share
		if i == 0 {
			k += cfg.Sessions - share*size
		}
		if err := fillN(ctx, n.url, k, cfg.Size, cfg.FillConcurrency, seed+uint64(i)); err != nil {
			return f, fmt.Errorf("%s: %w", n.name, err)
		}
	}
	want := int64(cfg.Sessions) * int64(size)
	if backups > 0 {
		want = int64(cfg.Sessions) * int64(backups+1)
	}
	if f.copies, err = waitCopies(ctx, cfg.StartTimeout, nodes, want); err != nil {
		return f, err
	}
	for i, n := range nodes {
		after, err := RSS(n.pid())
		if err != nil {
			return f, err
		}
		d := float64(after-before[i]) * 1024
		f.rss += d / float64(size)
		f.rssMax = max(f.rssMax, d)
	}

	// Throughput and bytes: every node takes writes at once.
	sent0, err := sumMetric(admins, "gomcat_transport_sent_bytes_total")
	if err != nil {
		return f, err
	}
	c := NewClient(cfg.Concurrency*size + 1)
	defer c.CloseIdleConnections()
	ops := make([]func(int) (Op, error), size)
	for i, n := range nodes {
		ops[i] = setOps(c, n.url, cfg.Size, seed+100+uint64(i))
	}
	res, err := Run(ctx, Load{Concurrency: cfg.Concurrency * size, Duration: cfg.Duration},
		func(w int) (Op, error) { return ops[w%size](w) })
	if err != nil {
		return f, err
	}
	if res.Errors > 0 {
		return f, fmt.Errorf("/set: %d failed, first: %w", res.Errors, res.FirstErr)
	}
	sent1, err := sumMetric(admins, "gomcat_transport_sent_bytes_total")
	if err != nil {
		return f, err
	}
	f.rate = res.Rate()
	// The first /set of each worker created its session outside the count.
	f.perSet = (sent1 - sent0) / float64(res.Requests+int64(cfg.Concurrency*size))

	f.failover, err = failover(ctx, cfg, nodes[size-1], nodes[0])
	return f, err
}

// failover creates a session on victim, kills victim -9 and returns the
// time until survivor answers that session's /get with its value.
func failover(ctx context.Context, cfg BackupConfig, victim, survivor *node) (time.Duration, error) {
	a := newAgent(NewClient(1))
	defer a.c.CloseIdleConnections()
	if err := a.expect(ctx, victim.url+"/set?k=f&v=failover", "ok "); err != nil {
		return 0, fmt.Errorf("failover: %w", err)
	}
	if err := victim.cmd.Process.Kill(); err != nil {
		return 0, fmt.Errorf("failover: kill %s: %w", victim.name, err)
	}
	start := time.Now()
	<-victim.exited
	wctx, cancel := context.WithTimeout(ctx, cfg.StartTimeout)
	defer cancel()
	for {
		code, body, err := a.get(wctx, survivor.url+"/get?k=f")
		if err == nil && code == http.StatusOK && strings.TrimSpace(string(body)) == "failover" {
			return time.Since(start), nil
		}
		if wctx.Err() != nil {
			return 0, fmt.Errorf("failover: %s never served %s's session: %d %q %w", survivor.name, victim.name, code, short(string(body)), errors.Join(err, wctx.Err()))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitMembers waits until every admin URL reports want live members.
func waitMembers(ctx context.Context, timeout time.Duration, admins []string, want int) error {
	wctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for _, a := range admins {
		for {
			v, err := sumMetric([]string{a}, `gomcat_cluster_members{state="live"}`)
			if err == nil && int(v) >= want {
				break
			}
			if wctx.Err() != nil {
				return fmt.Errorf("%s: %v live members, want %d: %w", a, v, want, errors.Join(err, wctx.Err()))
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return nil
}

// waitCopies waits until the nodes hold want session values in all
// (their /count) and returns that sum.
func waitCopies(ctx context.Context, timeout time.Duration, nodes []*node, want int64) (int64, error) {
	c := NewClient(1)
	defer c.CloseIdleConnections()
	wctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		var sum int64
		var err error
		for _, n := range nodes {
			k, e := count(wctx, c, n.url)
			sum, err = sum+k, errors.Join(err, e)
		}
		if err == nil && sum >= want {
			return sum, nil
		}
		if wctx.Err() != nil {
			return sum, fmt.Errorf("the nodes hold %d of %d session values: %w", sum, want, errors.Join(err, wctx.Err()))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// sumMetric sums the series name (name{labels} for one exact series)
// over the admin URLs' /metrics.
func sumMetric(admins []string, name string) (float64, error) {
	c := &http.Client{Timeout: 10 * time.Second}
	defer c.CloseIdleConnections()
	series := regexp.QuoteMeta(name)
	if !strings.Contains(name, "{") {
		series += `(\{[^}]*\})?`
	}
	re := regexp.MustCompile(`(?m)^` + series + ` (\S+)$`)
	var sum float64
	for _, a := range admins {
		resp, err := c.Get(a + "/metrics")
		if err != nil {
			return 0, fmt.Errorf("bench: %w", err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			return 0, fmt.Errorf("bench: %s/metrics: %d %v", a, resp.StatusCode, err)
		}
		for _, m := range re.FindAllStringSubmatch(string(b), -1) {
			v, err := strconv.ParseFloat(m[len(m)-1], 64)
			if err == nil {
				sum += v
			}
		}
	}
	return sum, nil
}

// reManager is the <Manager> element "gomcat init" writes.
var reManager = regexp.MustCompile(`(?s)<Manager className="org\.apache\.catalina\.ha\.session\.DeltaManager".*?/>`)

// setBackupManager replaces home's DeltaManager with a BackupManager
// keeping backups copies.
func setBackupManager(home string, backups int) error {
	f := filepath.Join(home, "conf", "server.xml")
	b, err := os.ReadFile(f)
	if err != nil {
		return err
	}
	if !reManager.Match(b) {
		return fmt.Errorf("%s: no DeltaManager element to replace", f)
	}
	b = reManager.ReplaceAll(b, []byte(fmt.Sprintf(`<Manager className="org.apache.catalina.ha.session.BackupManager" backups="%d"/>`, backups)))
	return os.WriteFile(f, b, 0o600)
}
