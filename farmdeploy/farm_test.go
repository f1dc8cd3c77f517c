package farmdeploy

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gomcat/gomcat/internal/testkit"
	"github.com/gomcat/gomcat/transport/transporttest"
)

// farmNode is one member on the in-memory hub.
type farmNode struct {
	name string
	cfg  Config
	inst *fakeInstaller
	d    *Deployer
}

// farm is a test cluster of deployers on one hub.
type farm = transporttest.Cluster[*farmNode]

func newFarm(t *testing.T, seed int64) *farm { return transporttest.NewCluster[*farmNode](t, seed) }

func joinFarm(t *testing.T, h *farm, name string, watch bool) *farmNode {
	t.Helper()
	return h.Add(name, farmBuild(testConfig(t, watch)))
}

// farmBuild is the factory of a started deployer with cfg; Restart reuses
// it, so a restarted node keeps its directories (the same disk).
func farmBuild(cfg Config) transporttest.Build[*farmNode] {
	return func(t testing.TB, name string, join func(transporttest.DeliverFunc) *transporttest.Port) (*farmNode, func()) {
		t.Helper()
		n := &farmNode{name: name, cfg: cfg, inst: newFakeInstaller()}
		var d atomic.Pointer[Deployer]
		port := join(func(ctx context.Context, from string, msg []byte) error {
			if dd := d.Load(); dd != nil {
				return dd.Deliver(ctx, from, msg)
			}
			return ErrClosed
		})
		dep, err := New(n.cfg, port, n.inst)
		if err != nil {
			t.Fatal(err)
		}
		d.Store(dep)
		stop := func() { dep.Stop(context.Background()) }
		if err := dep.Start(context.Background()); err != nil {
			stop()
			t.Fatal(err)
		}
		n.d = dep
		return n, stop
	}
}

// drop writes a bundle into the watch dir the way `gomcat deploy` does:
// a temporary name, then a rename.
var dropSeq atomic.Int64

func drop(t *testing.T, n *farmNode, name string, content []byte) {
	t.Helper()
	tmp := filepath.Join(n.cfg.WatchDir, ".incoming.tmp")
	if err := os.WriteFile(tmp, content, 0o644); err != nil {
		t.Fatal(err)
	}
	// Every drop gets its own modification time, so a replaced bundle
	// is seen as changed without waiting for the clock to move.
	mt := time.Unix(1_700_000_000+dropSeq.Add(1), 0)
	if err := os.Chtimes(tmp, mt, mt); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(n.cfg.WatchDir, name)); err != nil {
		t.Fatal(err)
	}
}

func allHave(nodes []*farmNode, name string, content []byte) func() bool {
	return func() bool {
		for _, n := range nodes {
			if content == nil {
				if n.inst.has(name, nil) {
					return false
				}
				continue
			}
			if !n.inst.has(name, content) {
				return false
			}
		}
		return true
	}
}

func TestFarmDeployChangeRemove(t *testing.T) {
	h := newFarm(t, 1)
	master := joinFarm(t, h, "node1", true)
	n2 := joinFarm(t, h, "node2", false)
	n3 := joinFarm(t, h, "node3", false)
	nodes := []*farmNode{master, n2, n3}

	v1 := bytes.Repeat([]byte("v1"), 5000) // 10,000 bytes: 10 chunks, not a multiple
	drop(t, master, "shop.gar", v1)
	testkit.WaitFor(t, "v1 everywhere", allHave(nodes, "shop.gar", v1))
	testkit.WaitFor(t, "status started everywhere", func() bool {
		b, ok := master.d.Status().Bundle("shop.gar")
		if !ok || len(b.Members) != 3 {
			return false
		}
		for _, m := range b.Members {
			if m.State != StateStarted {
				return false
			}
		}
		return true
	})
	st, err := ReadStatus(master.cfg.TempDir)
	if err != nil {
		t.Fatalf("status file: %v", err)
	}
	if b, ok := st.Bundle("shop.gar"); !ok || b.Members["node3"].State != StateStarted {
		t.Fatalf("status file = %+v", st)
	}

	v2 := bytes.Repeat([]byte("v2"), 4096) // 8,192 bytes: exactly 8 chunks of 1024
	drop(t, master, "shop.gar", v2)
	testkit.WaitFor(t, "v2 everywhere", allHave(nodes, "shop.gar", v2))
	for _, n := range nodes {
		got, _ := os.ReadFile(filepath.Join(n.cfg.DeployDir, "shop.gar"))
		if !bytes.Equal(got, v2) {
			t.Fatalf("%s deploy dir holds %d bytes, want v2", n.name, len(got))
		}
	}

	if err := os.Remove(filepath.Join(master.cfg.WatchDir, "shop.gar")); err != nil {
		t.Fatal(err)
	}
	testkit.WaitFor(t, "undeployed everywhere", allHave(nodes, "shop.gar", nil))
	for _, n := range nodes {
		if _, err := os.Stat(filepath.Join(n.cfg.DeployDir, "shop.gar")); !os.IsNotExist(err) {
			t.Fatalf("%s still has the bundle file: %v", n.name, err)
		}
	}
}

func TestLateJoinerCatchesUp(t *testing.T) {
	h := newFarm(t, 2)
	master := joinFarm(t, h, "node1", true)
	n2 := joinFarm(t, h, "node2", false)
	a := bytes.Repeat([]byte("a"), 3000)
	b := bytes.Repeat([]byte("b"), 2048)
	drop(t, master, "a.gar", a)
	drop(t, master, "b.gar", b)
	testkit.WaitFor(t, "both on node2", func() bool { return n2.inst.has("a.gar", a) && n2.inst.has("b.gar", b) })

	late := joinFarm(t, h, "node4", false)
	testkit.WaitFor(t, "late joiner has both", func() bool { return late.inst.has("a.gar", a) && late.inst.has("b.gar", b) })
}

func TestMemberDownDuringDeployGetsItOnReturn(t *testing.T) {
	h := newFarm(t, 3)
	master := joinFarm(t, h, "node1", true)
	n2 := joinFarm(t, h, "node2", false)
	joinFarm(t, h, "node3", false)
	// node3 dies: it leaves the hub, its deployer stops.
	h.Kill("node3")
	h.WaitMembers("node1", "node2")

	v := bytes.Repeat([]byte("z"), 5*1024+7)
	drop(t, master, "z.gar", v)
	testkit.WaitFor(t, "node2 has it", func() bool { return n2.inst.has("z.gar", v) })

	// node3 returns with its old directories (a restart on the same disk).
	back := h.Restart("node3", nil)
	testkit.WaitFor(t, "node3 has it after return", func() bool { return back.inst.has("z.gar", v) })
}

func TestUndeployWhileAwayIsAppliedOnReturn(t *testing.T) {
	h := newFarm(t, 4)
	master := joinFarm(t, h, "node1", true)
	n2 := joinFarm(t, h, "node2", false)
	v := []byte("to be removed")
	drop(t, master, "r.gar", v)
	testkit.WaitFor(t, "node2 has it", func() bool { return n2.inst.has("r.gar", v) })
	h.Kill("node2")
	h.WaitMembers("node1")
	os.Remove(filepath.Join(master.cfg.WatchDir, "r.gar"))
	testkit.WaitFor(t, "undeployed on master", func() bool { return !master.inst.has("r.gar", nil) })

	// node2 returns; its deploy dir still holds r.gar from before.
	h.Restart("node2", nil)
	// node2 recorded that r.gar came from node1, whose manifest no longer lists it.
	testkit.WaitFor(t, "r.gar undeployed on node2 after its return", func() bool {
		_, err := os.Stat(filepath.Join(n2.cfg.DeployDir, "r.gar"))
		return os.IsNotExist(err)
	})
}

func TestRenamedBundleDeploysWithoutWaitingForAPoll(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("file notifications are Linux only; elsewhere the watcher polls")
	}
	h := newFarm(t, 5)
	cfg := testConfig(t, true)
	cfg.Interval = time.Hour // only a notification can trigger the deploy
	master := h.Add("node1", farmBuild(cfg))
	v := []byte("renamed into place")
	drop(t, master, "n.gar", v)
	testkit.WaitFor(t, "deploy on notification", func() bool { return master.inst.has("n.gar", v) })
	if err := os.Remove(filepath.Join(master.cfg.WatchDir, "n.gar")); err != nil {
		t.Fatal(err)
	}
	testkit.WaitFor(t, "undeploy on notification", func() bool { return !master.inst.has("n.gar", nil) })
	if info, err := os.Stat(filepath.Join(master.cfg.DeployDir, "n.gar")); err == nil {
		t.Fatalf("bundle still in deploy dir: %v", info.Mode())
	}
}

func TestDeployedBundleIsWorldReadable(t *testing.T) {
	cfg := testConfig(t, false)
	inst := newFakeInstaller()
	d := startDeployer(t, cfg, &fakeCluster{self: "node2", members: []string{"node1"}}, inst)
	if err := deliverBundle(t, d, "node1", 1, "m.gar", []byte("mode"), nil); err != nil {
		t.Fatal(err)
	}
	testkit.WaitFor(t, "install", func() bool { return inst.has("m.gar", nil) })
	info, err := os.Stat(filepath.Join(cfg.DeployDir, "m.gar"))
	if err != nil || info.Mode().Perm() != bundleMode {
		t.Fatalf("deployed bundle mode = %v, %v; want %v", info.Mode().Perm(), err, os.FileMode(bundleMode))
	}
}
