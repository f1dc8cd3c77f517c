package farmdeploy

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gomcat/gomcat/internal/testkit"
	"github.com/rs/zerolog"
)

// fakeInstaller records what is installed, by file name, with its content hash.
type fakeInstaller struct {
	mu        sync.Mutex
	installed map[string][32]byte
	fail      error
	calls     int
}

func newFakeInstaller() *fakeInstaller { return &fakeInstaller{installed: map[string][32]byte{}} }

func (f *fakeInstaller) Install(_ context.Context, path string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.fail != nil {
		return f.fail
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	f.installed[filepath.Base(path)] = sha256.Sum256(b)
	return nil
}

func (f *fakeInstaller) Uninstall(_ context.Context, path string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.installed, filepath.Base(path))
	return nil
}

func (f *fakeInstaller) has(name string, content []byte) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	sum, ok := f.installed[name]
	if content == nil {
		return ok
	}
	return ok && sum == sha256.Sum256(content)
}

// fakeCluster is a fixed membership that records sends.
type fakeCluster struct {
	self    string
	members []string
	mu      sync.Mutex
	sent    []message
}

func (c *fakeCluster) Self() string      { return c.self }
func (c *fakeCluster) Members() []string { return c.members }
func (c *fakeCluster) Subscribe(fn func(int, string)) func() {
	for _, m := range c.members {
		fn(1, m)
	}
	return func() {}
}
func (c *fakeCluster) Send(_ context.Context, _ string, b []byte, _ int) error {
	m, err := decode(b)
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.sent = append(c.sent, m)
	c.mu.Unlock()
	return nil
}

func (c *fakeCluster) reports() []message {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []message
	for _, m := range c.sent {
		if m.Kind == kindReport {
			out = append(out, m)
		}
	}
	return out
}

func testConfig(t *testing.T, watch bool) Config {
	t.Helper()
	dir := t.TempDir()
	cfg := DefaultConfig()
	cfg.TempDir = filepath.Join(dir, "temp")
	cfg.DeployDir = filepath.Join(dir, "webapps")
	cfg.WatchDir = filepath.Join(dir, "watch")
	cfg.WatchEnabled = watch
	cfg.Interval = 20 * time.Millisecond
	cfg.ChunkSize = 1024
	cfg.Logger = zerolog.New(zerolog.NewTestWriter(t))
	return cfg
}

func startDeployer(t *testing.T, cfg Config, cl Cluster, inst Installer) *Deployer {
	t.Helper()
	d, err := New(cfg, cl, inst)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Stop(context.Background()) })
	return d
}

func chunks(b []byte, size int) [][]byte {
	var out [][]byte
	for len(b) > 0 {
		n := min(size, len(b))
		out = append(out, b[:n])
		b = b[n:]
	}
	return out
}

// deliverBundle feeds one transfer to d as a member would send it.
func deliverBundle(t *testing.T, d *Deployer, from string, id uint64, name string, content []byte, announced []byte) error {
	t.Helper()
	ctx := context.Background()
	sum := sha256.Sum256(content)
	if announced == nil {
		announced = sum[:]
	}
	if err := d.Deliver(ctx, from, encode(message{Kind: kindStart, Transfer: id, Name: name, Size: int64(len(content)), SHA256: announced})); err != nil {
		return err
	}
	for i, c := range chunks(content, 1024) {
		if err := d.Deliver(ctx, from, encode(message{Kind: kindChunk, Transfer: id, Index: int64(i), Data: c})); err != nil {
			return err
		}
	}
	return d.Deliver(ctx, from, encode(message{Kind: kindEnd, Transfer: id}))
}

func TestReceiveChunkSizes(t *testing.T) {
	for _, size := range []int{0, 1, 1023, 1024, 4096, 4097} {
		t.Run(strings.ReplaceAll(time.Duration(size).String(), "ns", "B"), func(t *testing.T) {
			cfg := testConfig(t, false)
			inst := newFakeInstaller()
			cl := &fakeCluster{self: "node2", members: []string{"node1"}}
			d := startDeployer(t, cfg, cl, inst)
			content := bytes.Repeat([]byte{'x'}, size)
			if err := deliverBundle(t, d, "node1", 1, "shop.gar", content, nil); err != nil {
				t.Fatal(err)
			}
			testkit.WaitFor(t, "install", func() bool { return inst.has("shop.gar", content) })
			got, err := os.ReadFile(filepath.Join(cfg.DeployDir, "shop.gar"))
			if err != nil || !bytes.Equal(got, content) {
				t.Fatalf("deployed file = %d bytes, %v; want %d bytes", len(got), err, size)
			}
			testkit.WaitFor(t, "report", func() bool { return len(cl.reports()) == 1 })
			if r := cl.reports()[0]; r.State != StateStarted {
				t.Fatalf("report = %+v, want started", r)
			}
		})
	}
}

func TestChecksumMismatchKeepsPreviousVersion(t *testing.T) {
	cfg := testConfig(t, false)
	inst := newFakeInstaller()
	cl := &fakeCluster{self: "node2", members: []string{"node1"}}
	d := startDeployer(t, cfg, cl, inst)
	v1 := []byte("version one")
	if err := deliverBundle(t, d, "node1", 1, "shop.gar", v1, nil); err != nil {
		t.Fatal(err)
	}
	testkit.WaitFor(t, "v1", func() bool { return inst.has("shop.gar", v1) })
	bad := sha256.Sum256([]byte("something else"))
	if err := deliverBundle(t, d, "node1", 2, "shop.gar", []byte("version two"), bad[:]); err != nil {
		t.Fatal(err)
	}
	testkit.WaitFor(t, "rejection", func() bool { return d.Stats().Rejected == 1 })
	if !inst.has("shop.gar", v1) {
		t.Fatal("previous version no longer installed")
	}
	got, _ := os.ReadFile(filepath.Join(cfg.DeployDir, "shop.gar"))
	if !bytes.Equal(got, v1) {
		t.Fatalf("deploy dir holds %q, want the previous version", got)
	}
	assertNoPartials(t, cfg)
	testkit.WaitFor(t, "failure report", func() bool { return len(cl.reports()) == 2 })
	failed := 0
	for _, r := range cl.reports() { // reports travel on their own goroutines: any order
		if r.State == StateFailed && strings.Contains(r.Error, "checksum") {
			failed++
		}
	}
	if failed != 1 {
		t.Fatalf("reports = %+v, want one failed with checksum", cl.reports())
	}
}

func TestInstallFailureRestoresPreviousFile(t *testing.T) {
	cfg := testConfig(t, false)
	inst := newFakeInstaller()
	d := startDeployer(t, cfg, &fakeCluster{self: "node2", members: []string{"node1"}}, inst)
	v1 := []byte("good")
	if err := deliverBundle(t, d, "node1", 1, "shop.gar", v1, nil); err != nil {
		t.Fatal(err)
	}
	testkit.WaitFor(t, "v1", func() bool { return inst.has("shop.gar", v1) })
	inst.mu.Lock()
	inst.fail = errors.New("app refused to start")
	inst.mu.Unlock()
	if err := deliverBundle(t, d, "node1", 2, "shop.gar", []byte("broken"), nil); err != nil {
		t.Fatal(err)
	}
	testkit.WaitFor(t, "rejection", func() bool { return d.Stats().Rejected == 1 })
	got, _ := os.ReadFile(filepath.Join(cfg.DeployDir, "shop.gar"))
	if !bytes.Equal(got, v1) {
		t.Fatalf("deploy dir holds %q after a failed install, want %q", got, v1)
	}
	assertNoPartials(t, cfg)
}

func TestDuplicateAndGapChunks(t *testing.T) {
	cfg := testConfig(t, false)
	inst := newFakeInstaller()
	d := startDeployer(t, cfg, &fakeCluster{self: "node2", members: []string{"node1"}}, inst)
	ctx := context.Background()
	content := bytes.Repeat([]byte("ab"), 1024) // two chunks
	sum := sha256.Sum256(content)
	must := func(m message) {
		t.Helper()
		if err := d.Deliver(ctx, "node1", encode(m)); err != nil {
			t.Fatal(err)
		}
	}
	must(message{Kind: kindStart, Transfer: 7, Name: "a.gar", Size: int64(len(content)), SHA256: sum[:]})
	must(message{Kind: kindChunk, Transfer: 7, Index: 0, Data: content[:1024]})
	must(message{Kind: kindChunk, Transfer: 7, Index: 0, Data: content[:1024]}) // duplicate
	must(message{Kind: kindChunk, Transfer: 7, Index: 1, Data: content[1024:]})
	must(message{Kind: kindEnd, Transfer: 7})
	testkit.WaitFor(t, "install", func() bool { return inst.has("a.gar", content) })
	if s := d.Stats(); s.Duplicates != 1 {
		t.Fatalf("duplicates = %d, want 1", s.Duplicates)
	}

	must(message{Kind: kindStart, Transfer: 8, Name: "b.gar", Size: int64(len(content)), SHA256: sum[:]})
	err := d.Deliver(ctx, "node1", encode(message{Kind: kindChunk, Transfer: 8, Index: 1, Data: content[1024:]}))
	if err == nil {
		t.Fatal("a chunk after a gap was accepted")
	}
	if err := d.Deliver(ctx, "node1", encode(message{Kind: kindEnd, Transfer: 8})); !errors.Is(err, ErrUnknownTransfer) {
		t.Fatalf("end of an aborted transfer: %v, want ErrUnknownTransfer", err)
	}
	assertNoPartials(t, cfg)
}

// Under testing/synctest: the deployer's ticker runs on the bubble's
// clock, so "four intervals pass and nothing expires" takes no real time.
func TestStalledTransferExpires(t *testing.T) { synctest.Test(t, testStalledTransferExpires) }

func testStalledTransferExpires(t *testing.T) {
	cfg := testConfig(t, false)
	clk := testkit.NewClock(time.Unix(1_700_000_000, 0))
	cfg.Now = clk.Now
	cfg.MaxValidTime = time.Minute
	d := startDeployer(t, cfg, &fakeCluster{self: "node2", members: []string{"node1"}}, newFakeInstaller())
	sum := sha256.Sum256([]byte("whatever"))
	ctx := context.Background()
	if err := d.Deliver(ctx, "node1", encode(message{Kind: kindStart, Transfer: 1, Name: "s.gar", Size: 4096, SHA256: sum[:]})); err != nil {
		t.Fatal(err)
	}
	if err := d.Deliver(ctx, "node1", encode(message{Kind: kindChunk, Transfer: 1, Index: 0, Data: make([]byte, 1024)})); err != nil {
		t.Fatal(err)
	}
	if n := countPartials(t, cfg); n != 1 {
		t.Fatalf("%d partial files during the transfer, want 1", n)
	}
	clk.Add(59 * time.Second)
	time.Sleep(4 * cfg.Interval) // four sweeps, on the bubble's clock
	synctest.Wait()
	if d.Stats().Expired != 0 {
		t.Fatal("transfer expired before maxValidTime")
	}
	clk.Add(2 * time.Second)
	testkit.WaitFor(t, "expiry", func() bool { return d.Stats().Expired == 1 })
	assertNoPartials(t, cfg)
}

func TestRefusesNonMembersAndBadNames(t *testing.T) {
	cfg := testConfig(t, false)
	d := startDeployer(t, cfg, &fakeCluster{self: "node2", members: []string{"node1"}}, newFakeInstaller())
	if err := deliverBundle(t, d, "mallory", 1, "x.gar", []byte("evil"), nil); !errors.Is(err, ErrNotMember) {
		t.Fatalf("bundle from a non-member: %v, want ErrNotMember", err)
	}
	for _, name := range []string{"../x.gar", "/etc/x.gar", ".hidden.gar", "x.war", "a/b.gar", ".gar"} {
		if err := deliverBundle(t, d, "node1", 2, name, []byte("x"), nil); !errors.Is(err, ErrBadName) {
			t.Errorf("name %q: %v, want ErrBadName", name, err)
		}
	}
	cfg2 := testConfig(t, false)
	cfg2.MaxBundleSize = 10
	d2 := startDeployer(t, cfg2, &fakeCluster{self: "node2", members: []string{"node1"}}, newFakeInstaller())
	if err := deliverBundle(t, d2, "node1", 3, "big.gar", make([]byte, 11), nil); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("oversized bundle: %v, want ErrTooLarge", err)
	}
	assertNoPartials(t, cfg)
	assertNoPartials(t, cfg2)
}

func TestDecodeRejectsGarbage(t *testing.T) {
	for _, b := range [][]byte{nil, {0xff}, encode(message{Kind: 99}), []byte("FLT2002")} {
		if _, err := decode(b); err == nil {
			t.Errorf("decode(%x) succeeded", b)
		}
	}
	m := message{Kind: kindManifest, Entries: []entry{{Name: "a.gar", Size: 3, SHA256: make([]byte, 32)}}}
	got, err := decode(encode(m))
	if err != nil || got.Kind != kindManifest || len(got.Entries) != 1 || got.Entries[0].Name != "a.gar" {
		t.Fatalf("round trip = %+v, %v", got, err)
	}
}

func FuzzDecode(f *testing.F) {
	sum := make([]byte, 32)
	f.Add(encode(message{Kind: kindStart, Transfer: 1, Name: "a.gar", Size: 10, SHA256: sum}))
	f.Add(encode(message{Kind: kindChunk, Transfer: 1, Index: 3, Data: []byte("abc")}))
	f.Add(encode(message{Kind: kindManifest, Entries: []entry{{Name: "a.gar", Size: 1, SHA256: sum}}}))
	f.Add(encode(message{Kind: kindReport, Name: "a.gar", State: StateFailed, Error: "x"}))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := decode(b)
		if err != nil {
			return
		}
		if _, err := decode(encode(m)); err != nil {
			t.Fatalf("re-decode of a decoded message failed: %v", err)
		}
	})
}

func countPartials(t *testing.T, cfg Config) int {
	t.Helper()
	n := 0
	for _, dir := range []string{cfg.TempDir, cfg.DeployDir} {
		ents, _ := os.ReadDir(dir)
		for _, e := range ents {
			if strings.HasSuffix(e.Name(), ".part") || strings.HasSuffix(e.Name(), ".prev") {
				n++
			}
		}
	}
	return n
}

func assertNoPartials(t *testing.T, cfg Config) {
	t.Helper()
	testkit.WaitFor(t, "no partial files", func() bool { return countPartials(t, cfg) == 0 })
}

// Under testing/synctest, like TestStalledTransferExpires.
func TestManifestRequestsStopOnceAnswered(t *testing.T) {
	synctest.Test(t, testManifestRequestsStopOnceAnswered)
}

func testManifestRequestsStopOnceAnswered(t *testing.T) {
	cfg := testConfig(t, false)
	clk := testkit.NewClock(time.Unix(1_700_000_000, 0))
	cfg.Now = clk.Now
	cl := &fakeCluster{self: "node2", members: []string{"node1", "node3"}}
	d := startDeployer(t, cfg, cl, newFakeInstaller())
	requests := func() int {
		cl.mu.Lock()
		defer cl.mu.Unlock()
		n := 0
		for _, m := range cl.sent {
			if m.Kind == kindManifestReq {
				n++
			}
		}
		return n
	}
	testkit.WaitFor(t, "the first requests", func() bool { return requests() == 2 })
	// node1 answers; node3 stays silent.
	if err := d.Deliver(context.Background(), "node1", encode(message{Kind: kindManifest, State: stateNotWatching})); err != nil {
		t.Fatal(err)
	}
	clk.Add(minManifestRetry)
	testkit.WaitFor(t, "a second request to the silent member only", func() bool { return requests() == 3 })
	time.Sleep(5 * cfg.Interval) // five polls, on the bubble's clock
	synctest.Wait()
	if n := requests(); n != 3 {
		t.Fatalf("%d requests before the retry pause doubled, want 3", n)
	}
	if err := d.Deliver(context.Background(), "node3", encode(message{Kind: kindManifest, State: stateNotWatching})); err != nil {
		t.Fatal(err)
	}
	clk.Add(maxManifestRetry)
	time.Sleep(5 * cfg.Interval)
	synctest.Wait()
	if n := requests(); n != 3 {
		t.Fatalf("%d requests after every member answered, want 3", n)
	}
}

// A manifest the sender took before it pushed a bundle (its send goroutine
// was overtaken by the push) does not undeploy that bundle; a manifest
// taken after the push does.
func TestStaleManifestKeepsNewerBundle(t *testing.T) {
	cfg := testConfig(t, false)
	inst := newFakeInstaller()
	d := startDeployer(t, cfg, &fakeCluster{self: "node2", members: []string{"node1"}}, inst)
	send := func(m message) {
		t.Helper()
		if err := d.Deliver(context.Background(), "node1", encode(m)); err != nil {
			t.Fatal(err)
		}
	}
	push := func(id uint64, name string, content []byte, gen uint64) {
		t.Helper()
		sum := sha256.Sum256(content)
		send(message{Kind: kindStart, Transfer: id, Name: name, Size: int64(len(content)), SHA256: sum[:], Gen: gen})
		send(message{Kind: kindChunk, Transfer: id, Index: 0, Data: content})
		send(message{Kind: kindEnd, Transfer: id})
	}
	push(1, "n.gar", []byte("new"), 20)
	testkit.WaitFor(t, "n.gar installed", func() bool { return inst.has("n.gar", nil) })
	send(message{Kind: kindManifest, Gen: 10}) // taken before n.gar: lists nothing
	// Installs and undeploys are applied in order: once o.gar is in, an
	// undeploy of n.gar queued by the stale manifest would have run.
	push(2, "o.gar", []byte("other"), 40)
	testkit.WaitFor(t, "o.gar installed", func() bool { return inst.has("o.gar", nil) })
	if !inst.has("n.gar", nil) {
		t.Fatal("a manifest older than the bundle undeployed it")
	}
	send(message{Kind: kindManifest, Gen: 30}) // taken after n.gar, before o.gar
	testkit.WaitFor(t, "n.gar undeployed", func() bool { return !inst.has("n.gar", nil) })
	if !inst.has("o.gar", nil) {
		t.Fatal("o.gar, newer than the manifest, was undeployed")
	}
	if d.Stats().Undeployed != 1 {
		t.Fatalf("undeployed %d, want 1", d.Stats().Undeployed)
	}
}
