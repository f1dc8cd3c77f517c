package bench

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"github.com/gomcat/gomcat/internal/freeport"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Section names of the replication report.
const (
	secThroughput = "/set throughput (closed loop, a session per worker)"
	secLatency    = "replication latency (write answered → visible on the peer)"
	secTransfer   = "state transfer to a joining node"
	secMemory     = "memory (VmRSS of the node holding the sessions)"
)

// Replication runs "gomcat bench replication" and returns its report.
// Figures that could not be measured are left out with a note; the error
// is for what stopped the bench itself.
func Replication(ctx context.Context, cfg ReplicationConfig) (*Report, error) {
	if cfg.Progress == nil {
		cfg.Progress = DefaultReplicationConfig().Progress
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	rep := &Report{Machine: ThisMachine()}
	seed := rand.Uint64()
	if cfg.Target != "" {
		rep.Title = "gomcat bench replication: target " + cfg.Target + ", peer " + cfg.Peer
		return rep, measureRunning(ctx, cfg, rep, seed)
	}
	rep.Title = "gomcat bench replication: self-contained (nodes launched on 127.0.0.1)"
	return rep, selfContained(ctx, cfg, rep, seed)
}

// measureRunning measures nodes the user runs.
func measureRunning(ctx context.Context, cfg ReplicationConfig, rep *Report, seed uint64) error {
	c := NewClient(cfg.Concurrency + 1)
	defer c.CloseIdleConnections()
	ts := []target{{name: "target", newOp: setOps(c, cfg.Target, cfg.Size, seed)}}
	if cfg.Baseline != "" {
		ts = append([]target{{name: "baseline", newOp: setOps(c, cfg.Baseline, cfg.Size, seed+1)}}, ts...)
	}
	if err := throughput(ctx, cfg, rep, ts); err != nil {
		return err
	}
	return latency(ctx, cfg, rep, cfg.Target, cfg.Peer, "target → peer", seed)
}

// throughput measures ts (the baseline first when there are two) and adds
// the rows and, with two, the overhead ratio.
func throughput(ctx context.Context, cfg ReplicationConfig, rep *Report, ts []target) error {
	fmt.Fprintf(cfg.Progress, "bench: /set throughput, %d workers, %v per node, values of %d B\n", cfg.Concurrency, cfg.Duration, cfg.Size)
	res, err := interleave(ctx, ts, cfg.Concurrency, cfg.Duration, cfg.Round, cfg.Warmup, cfg.Progress)
	if err != nil {
		return fmt.Errorf("/set throughput: %w", err)
	}
	for i, t := range ts {
		rep.Add(secThroughput, Row{Metric: t.name, Value: throughputValue(res[i])})
		if res[i].FirstErr != nil {
			rep.Note("%s: first error: %v", t.name, res[i].FirstErr)
		}
	}
	if len(ts) >= 2 && res[0].Rate() > 0 && !sealedTarget(ts[0]) && !sealedTarget(ts[1]) {
		over := 1 - res[1].Rate()/res[0].Rate()
		rep.Add(secThroughput, Row{Metric: "replication overhead", Value: fmt.Sprintf("%.1f %% (%s vs %s)", 100*over, ts[1].name, ts[0].name),
			Goal: "≤ 15 %", Verdict: verdict(over <= 0.15)})
	}
	for i := 1; i < len(ts); i++ {
		switch {
		case sealedTarget(ts[i]) && res[i-1].Rate() > 0: // its cost against the clear pair before it
			over := 1 - res[i].Rate()/res[i-1].Rate()
			rep.Add(secThroughput, Row{Metric: "sealing cost", Value: fmt.Sprintf("%.1f %% (%s vs %s)", 100*over, ts[i].name, ts[i-1].name)})
		case ts[i].name == nameBaselinePair && res[i].Rate() > 0: // this binary's pair against it
			k := slices.IndexFunc(ts, func(t target) bool { return strings.HasPrefix(t.name, "node1") })
			rep.Add(secThroughput, Row{Metric: "this binary vs the baseline binary",
				Value: fmt.Sprintf("%.2f× (%s vs %s)", res[k].Rate()/res[i].Rate(), ts[k].name, ts[i].name)})
		}
	}
	return nil
}

// nameBaselinePair is the target of BaselineExe's node1 (+node2).
const nameBaselinePair = "baseline binary's node1 (+node2)"

func sealedTarget(t target) bool { return strings.HasSuffix(t.name, "sealed)") }

// sealedPair starts node1s and node2s with a fresh cluster key in a domain
// of their own and waits until they see each other.
func (cl *cluster) sealedPair(ctx context.Context) (*node, *node, error) {
	key := make([]byte, 32)
	_, _ = crand.Read(key)
	hexKey := hex.EncodeToString(key)
	var pair [2]*node
	for i, name := range []string{"node1s", "node2s"} {
		n, err := cl.startWith(ctx, name, false, hexKey, cl.domain+"-sealed")
		if err != nil {
			return nil, nil, err
		}
		if err := cl.ready(ctx, n); err != nil {
			return nil, nil, err
		}
		pair[i] = n
	}
	if _, err := pair[0].waitLog(ctx, lineMemberAdded, 15*time.Second); err != nil {
		return nil, nil, fmt.Errorf("sealed pair: node1s never logged %q: %w", lineMemberAdded, err)
	}
	return pair[0], pair[1], nil
}

// latency measures the replication latency from target to peer.
func latency(ctx context.Context, cfg ReplicationConfig, rep *Report, target, peer, name string, seed uint64) error {
	fmt.Fprintf(cfg.Progress, "bench: replication latency %s, %d samples, poll every %v\n", name, cfg.Samples, cfg.Poll)
	cl := NewClient(2)
	defer cl.CloseIdleConnections()
	lr, err := replicationLatency(ctx, cl, target, peer, cfg.Samples, cfg.Size, cfg.Poll, cfg.VisibleTimeout, seed+7)
	if err != nil {
		return fmt.Errorf("replication latency: %w", err)
	}
	s := Summarize(lr.Samples)
	rep.Add(secLatency, Row{Metric: name + fmt.Sprintf(" (%d samples)", s.Count),
		Value: fmt.Sprintf("p50 %s · p90 %s · p99 %s · max %s", FormatDuration(s.P50), FormatDuration(s.P90), FormatDuration(s.P99), FormatDuration(s.Max)),
		Goal:  "p99 ≤ 2 ms", Verdict: verdict(s.Count > 0 && s.P99 <= 2*time.Millisecond && lr.Lost == 0)})
	if lr.Lost > 0 {
		rep.Add(secLatency, Row{Metric: "not visible within " + cfg.VisibleTimeout.String(), Value: strconv.Itoa(lr.Lost) + " of " + strconv.Itoa(cfg.Samples),
			Goal: "0", Verdict: VerdictMissed})
	}
	if len(lr.Samples) > 0 {
		rep.Note("latency %s: each sample is a new session (CREATED + DELTA) of one %d B value; the peer was read every %v (%.1f reads per sample), so a sample includes one read's round trip",
			name, cfg.Size, cfg.Poll, float64(lr.Polls)/float64(cfg.Samples))
	}
	return nil
}

// cluster is the self-contained bench's nodes and the way to make more.
type cluster struct {
	cfg    ReplicationConfig
	exe    string
	root   string
	mcast  int
	domain string

	admin bool // nodes get an admin listener (bench metrics)

	mu    sync.Mutex
	nodes []*node
}

// selfContained launches its own nodes: a standalone one and node1+node2
// for throughput and latency, then fills node1 and starts node3 for the
// state transfer and the memory figures.
func selfContained(ctx context.Context, cfg ReplicationConfig, rep *Report, seed uint64) (err error) {
	cl, err := newCluster(cfg)
	if err != nil {
		return err
	}
	defer cl.close()
	so := "async replication (channelSendOptions 8)"
	if cfg.SendOptions != 0 {
		so = fmt.Sprintf("channelSendOptions %d", cfg.SendOptions)
	}
	rep.Note("nodes: %s, HTTP and receivers on 127.0.0.1, multicast 228.0.0.4:%d bound to 127.0.0.1 TTL 0, domain %s, %s",
		cl.exe, cl.mcast, cl.domain, so)

	solo, err := cl.start(ctx, "solo", true)
	if errors.Is(err, ErrNoStandaloneInit) {
		rep.Note("no standalone baseline: %v", err)
	} else if err != nil {
		return err
	}
	node1, err := cl.start(ctx, "node1", false)
	if err != nil {
		return err
	}
	if err := cl.ready(ctx, solo, node1); err != nil {
		return err
	}
	node2, err := cl.start(ctx, "node2", false)
	if err != nil {
		return err
	}
	if err := cl.ready(ctx, node2); err != nil {
		return err
	}
	clustered := true
	if _, err := node1.waitLog(ctx, lineMemberAdded, 15*time.Second); err != nil {
		clustered = false
		if _, off := node1.log.find(contains(lineNoCluster)); off {
			rep.Note("this gomcat does not replicate yet (%q): cluster figures skipped", lineNoCluster)
		} else {
			rep.Note("node1 never logged %q: cluster figures skipped (%v)", lineMemberAdded, err)
		}
	}

	c := NewClient(cfg.Concurrency + 1)
	defer c.CloseIdleConnections()
	var ts []target
	if solo != nil {
		ts = append(ts, target{name: "standalone", newOp: setOps(c, solo.url, cfg.Size, seed)})
	}
	name1 := "node1"
	if clustered {
		name1 = "node1 (+node2)"
	}
	ts = append(ts, target{name: name1, newOp: setOps(c, node1.url, cfg.Size, seed+1)})
	var node1s, node2s *node
	if cfg.Sealed && clustered {
		if node1s, node2s, err = cl.sealedPair(ctx); err != nil {
			return err
		}
		ts = append(ts, target{name: "node1s (+node2s, sealed)", newOp: setOps(c, node1s.url, cfg.Size, seed+2)})
		rep.Note("sealed pair: node1s + node2s with a cluster key (AES-256-GCM, HKDF per purpose), domain %s-sealed, measured in the same interleaved rounds", cl.domain)
	}
	if cfg.BaselineExe != "" && clustered {
		b, err := baselinePair(ctx, cfg)
		if err != nil {
			return err
		}
		defer b.close()
		ts = append(ts, target{name: nameBaselinePair, newOp: setOps(c, b.nodes[0].url, cfg.Size, seed+5)})
		rep.Note("baseline binary: %s, its own node1 + node2 (multicast port %d, domain %s), measured in the same interleaved rounds", cfg.BaselineExe, b.mcast, b.domain)
	}
	if err := throughput(ctx, cfg, rep, ts); err != nil {
		return err
	}
	if solo != nil {
		solo.stop(10 * time.Second)
	}
	if clustered {
		if err := latency(ctx, cfg, rep, node1.url, node2.url, "node1 → node2", seed); err != nil {
			return err
		}
	}
	if node1s != nil {
		if err := latency(ctx, cfg, rep, node1s.url, node2s.url, "node1s → node2s (sealed)", seed+11); err != nil {
			return err
		}
		node1s.stop(10 * time.Second)
		node2s.stop(10 * time.Second)
	}
	if cfg.SkipTransfer {
		return nil
	}
	node2.stop(10 * time.Second) // node1 alone holds the sessions node3 will ask for
	if err := cl.fill(ctx, rep, node1, seed); err != nil {
		return err
	}
	if !clustered {
		return nil
	}
	return cl.transfer(ctx, rep, node1)
}

// setSendOptions writes channelSendOptions o over the async 8 that
// "gomcat init" writes in home's server.xml.
func setSendOptions(home string, o int) error {
	f := filepath.Join(home, "conf", "server.xml")
	b, err := os.ReadFile(f)
	if err != nil {
		return err
	}
	const async = `channelSendOptions="8"`
	if !bytes.Contains(b, []byte(async)) {
		return fmt.Errorf("%s: no %s to replace", f, async)
	}
	b = bytes.Replace(b, []byte(async), []byte(fmt.Sprintf(`channelSendOptions="%d"`, o)), 1)
	return os.WriteFile(f, b, 0o600)
}

// gomcatBinary is exe, or the running executable when exe is "".
func gomcatBinary(exe string) (string, error) {
	if exe != "" {
		return exe, nil
	}
	exe, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("bench: find the gomcat binary: %w", err)
	}
	return exe, nil
}

// baselinePair starts node1 + node2 of cfg.BaselineExe in their own
// cluster and waits until they see each other; the caller closes it.
func baselinePair(ctx context.Context, cfg ReplicationConfig) (*cluster, error) {
	cfg.Exe = cfg.BaselineExe
	cl, err := newCluster(cfg)
	if err != nil {
		return nil, err
	}
	for _, name := range []string{"node1b", "node2b"} {
		n, err := cl.start(ctx, name, false)
		if err == nil {
			err = cl.ready(ctx, n)
		}
		if err != nil {
			cl.close()
			return nil, fmt.Errorf("baseline binary: %w", err)
		}
	}
	if _, err := cl.nodes[0].waitLog(ctx, lineMemberAdded, 15*time.Second); err != nil {
		cl.close()
		return nil, fmt.Errorf("baseline binary: %w", err)
	}
	return cl, nil
}

func newCluster(cfg ReplicationConfig) (*cluster, error) {
	exe, err := gomcatBinary(cfg.Exe)
	if err != nil {
		return nil, err
	}
	mport, err := freeUDPPort()
	if err != nil {
		return nil, err
	}
	root, err := os.MkdirTemp("", "gomcat-bench-")
	if err != nil {
		return nil, fmt.Errorf("bench: temp dir: %w", err)
	}
	if cfg.InitHome == nil {
		cfg.InitHome = execInit(exe)
	}
	return &cluster{cfg: cfg, exe: exe, root: root, mcast: mport, domain: fmt.Sprintf("bench-%08x", rand.Uint32())}, nil
}

// close stops every node (at once) and removes the homes.
func (cl *cluster) close() {
	cl.mu.Lock()
	nodes := cl.nodes
	cl.mu.Unlock()
	var wg sync.WaitGroup
	for _, n := range nodes {
		wg.Go(func() { n.stop(10 * time.Second) })
	}
	wg.Wait()
	_ = os.RemoveAll(cl.root)
}

// start creates the home of name and launches it; it does not wait.
func (cl *cluster) start(ctx context.Context, name string, standalone bool) (*node, error) {
	return cl.startWith(ctx, name, standalone, "", cl.domain)
}

// startWith is start with a cluster key (hex, "" for none) and a domain.
func (cl *cluster) startWith(ctx context.Context, name string, standalone bool, key, domain string) (*node, error) {
	return cl.startPrep(ctx, name, standalone, key, domain, nil)
}

// startPrep is startWith with prep (nil: none) run on the home between
// init and launch.
func (cl *cluster) startPrep(ctx context.Context, name string, standalone bool, key, domain string, prep func(home string) error) (*node, error) {
	httpPort, err := freeTCPPort()
	if err != nil {
		return nil, err
	}
	recvPort, err := freeTCPPort()
	if err != nil {
		return nil, err
	}
	home := filepath.Join(cl.root, name)
	p := HomeParams{JvmRoute: name, HTTPPort: httpPort, ReceiverPort: recvPort, McastAddress: "228.0.0.4",
		McastPort: cl.mcast, Domain: domain, Standalone: standalone, ClusterKey: key}
	if cl.admin {
		if p.AdminPort, err = freeTCPPort(); err != nil {
			return nil, err
		}
	}
	if err := cl.cfg.InitHome(ctx, home, p); err != nil {
		return nil, fmt.Errorf("init %s: %w", name, err)
	}
	if o := cl.cfg.SendOptions; o != 0 && !standalone {
		if err := setSendOptions(home, o); err != nil {
			return nil, fmt.Errorf("init %s: %w", name, err)
		}
	}
	if prep != nil {
		if err := prep(home); err != nil {
			return nil, fmt.Errorf("init %s: %w", name, err)
		}
	}
	kind := "cluster member"
	if standalone {
		kind = "standalone"
	}
	fmt.Fprintf(cl.cfg.Progress, "bench: starting %s (%s) on 127.0.0.1:%d\n", name, kind, httpPort)
	n, err := launch(cl.exe, name, home, httpPort)
	if err != nil {
		return nil, err
	}
	cl.add(n)
	return n, nil
}

// ready waits for each non-nil node's "Server startup in".
func (cl *cluster) ready(ctx context.Context, ns ...*node) error {
	for _, n := range ns {
		if n == nil {
			continue
		}
		if _, err := n.ready(ctx, cl.cfg.StartTimeout); err != nil {
			return fmt.Errorf("%w: %w", ErrNodeStart, err)
		}
	}
	return nil
}

// fill creates cfg.Sessions sessions of one cfg.Size value on n and adds
// the fill rate and the memory rows.
func (cl *cluster) fill(ctx context.Context, rep *Report, n *node, seed uint64) error {
	cfg := cl.cfg
	cli := NewClient(cfg.FillConcurrency)
	defer cli.CloseIdleConnections()
	before, err := count(ctx, cli, n.url)
	if err != nil {
		return fmt.Errorf("fill: %w", err)
	}
	rss0, rssErr := RSS(n.pid())
	fmt.Fprintf(cfg.Progress, "bench: filling %s with %d sessions of %d B (%d workers)\n", n.name, cfg.Sessions, cfg.Size, cfg.FillConcurrency)
	res, err := Run(ctx, Load{Concurrency: cfg.FillConcurrency, Requests: int64(cfg.Sessions)}, fillOps(cli, n.url, cfg.Size, seed+3))
	if err != nil {
		return fmt.Errorf("fill: %w", err)
	}
	if res.Errors > 0 {
		return fmt.Errorf("fill: %d of %d requests failed, first: %w", res.Errors, cfg.Sessions, res.FirstErr)
	}
	after, err := count(ctx, cli, n.url)
	if err != nil {
		return fmt.Errorf("fill: %w", err)
	}
	rss1, rssErr1 := RSS(n.pid())
	rep.Add(secTransfer, Row{Metric: fmt.Sprintf("fill %s: %s sessions × %s", n.name, FormatCount(int64(cfg.Sessions)), FormatBytes(int64(cfg.Size))),
		Value: fmt.Sprintf("%s · %s · p99 %s", FormatDuration(res.Elapsed), FormatRate(res.Rate()), FormatDuration(res.Latency.Quantile(0.99)))})
	if err := errors.Join(rssErr, rssErr1); err != nil {
		rep.Note("memory figures skipped: %v", err)
		return nil
	}
	added := after - before
	rep.Add(secMemory, Row{Metric: n.name + " before → after the fill", Value: fmt.Sprintf("%s → %s (%s sessions → %s)",
		FormatBytes(rss0<<10), FormatBytes(rss1<<10), FormatCount(before), FormatCount(after))})
	if added > 0 {
		per := float64(rss1-rss0) * 1024 / float64(added)
		rep.Add(secMemory, Row{Metric: "per session (value " + FormatBytes(int64(cfg.Size)) + ")",
			Value: fmt.Sprintf("%s · %s per 100k sessions", FormatBytes(int64(per)), FormatBytes(int64(per*100_000)))})
		rep.Note("memory: VmRSS of the node process, so it includes the Go heap's GC headroom (GOGC=100) and the sessions' ids and metadata")
	}
	return nil
}

var reReceived = regexp.MustCompile(`received in \[?(\d+)\]? ms`)

// transfer starts node3 next to the filled node and adds the state
// transfer rows.
func (cl *cluster) transfer(ctx context.Context, rep *Report, from *node) error {
	cli := NewClient(2)
	defer cli.CloseIdleConnections()
	n3, err := cl.start(ctx, "node3", false)
	if err != nil {
		return err
	}
	startup, err := n3.ready(ctx, cl.cfg.StartTimeout)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrNodeStart, err)
	}
	want, err := count(ctx, cli, from.url)
	if err != nil {
		return fmt.Errorf("state transfer: %w", err)
	}
	got, err := count(ctx, cli, n3.url)
	if err != nil {
		return fmt.Errorf("state transfer: %w", err)
	}
	open := startup
	if l, ok := n3.log.find(contains(lineConnector)); ok {
		open = l
	}
	rep.Add(secTransfer, Row{Metric: "node3 process start → HTTP connector open", Value: FormatDuration(open.At.Sub(n3.began))})
	req, okReq := n3.log.find(contains(lineRequesting))
	if okReq {
		d := open.At.Sub(req.At)
		rep.Add(secTransfer, Row{Metric: "state transfer (request sent → connector open)", Value: FormatDuration(d),
			Goal: "≤ 2 s", Verdict: verdict(d <= 2*time.Second && got == want)})
	} else {
		rep.Note("node3 never logged %q: it did not ask for the sessions", lineRequesting)
	}
	if l, ok := n3.log.find(contains(lineReceived)); ok {
		if m := reReceived.FindStringSubmatch(l.Msg); m != nil {
			rep.Add(secTransfer, Row{Metric: `node3's log "received in"`, Value: m[1] + " ms"})
		}
	}
	rep.Add(secTransfer, Row{Metric: "sessions on node3 / on " + from.name, Value: FormatCount(got) + " / " + FormatCount(want),
		Goal: "equal", Verdict: verdict(got == want)})
	return nil
}

// execInit returns an InitFunc running "exe init". It cannot make a
// standalone home.
func execInit(exe string) InitFunc {
	return func(ctx context.Context, dir string, p HomeParams) error {
		if p.Standalone {
			return ErrNoStandaloneInit
		}
		cmd := exec.CommandContext(ctx, exe, "init", "--home", dir, "--jvm-route", p.JvmRoute,
			"--http-port", strconv.Itoa(p.HTTPPort), "--shutdown-port", "-1",
			"--receiver-port", strconv.Itoa(p.ReceiverPort),
			"--mcast-address", p.McastAddress, "--mcast-port", strconv.Itoa(p.McastPort),
			"--mcast-bind", "127.0.0.1", "--mcast-ttl", "0", "--domain", p.Domain)
		admin := "off"
		if p.AdminPort > 0 {
			admin = "127.0.0.1:" + strconv.Itoa(p.AdminPort)
		}
		cmd.Args = append(cmd.Args, "--admin", admin)
		if p.ClusterKey != "" {
			cmd.Args = append(cmd.Args, "--cluster-key", p.ClusterKey)
		}
		cmd.Env = childEnv()
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("%s init: %w: %s", exe, err, short(string(out)))
		}
		return nil
	}
}

// freeTCPPort returns a free loopback port never handed out before.
func freeTCPPort() (int, error) {
	port, err := freeport.TCP()
	if err != nil {
		return 0, fmt.Errorf("bench: %w", err)
	}
	return port, nil
}
func freeUDPPort() (int, error) {
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("bench: free port: %w", err)
	}
	defer pc.Close()
	return pc.LocalAddr().(*net.UDPAddr).Port, nil
}
