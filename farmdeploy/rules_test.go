package farmdeploy

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"testing"

	"github.com/gomcat/gomcat/internal/testkit"
)

func startMsg(id uint64, name string, size int64) []byte {
	sum := sha256.Sum256(nil)
	return encode(message{Kind: kindStart, Transfer: id, Name: name, Size: size, SHA256: sum[:]})
}

// A FILE-START flood opens no file, keeps at most MaxTransfers in flight
// and is refused (counted) beyond; announced sizes are charged against
// DiskBudget.
func TestStartFloodIsBounded(t *testing.T) {
	cfg := testConfig(t, false)
	cfg.MaxTransfers = 4
	cfg.MaxBundleSize = 1 << 20
	cfg.DiskBudget = 3 << 20
	d := startDeployer(t, cfg, &fakeCluster{self: "node2", members: []string{"node1"}}, newFakeInstaller())
	ctx := context.Background()
	refused := 0
	for i := range 2000 {
		err := d.Deliver(ctx, "node1", startMsg(uint64(i+1), fmt.Sprintf("b%d.gar", i), 1<<10))
		if errors.Is(err, ErrBusy) {
			refused++
		} else if err != nil {
			t.Fatal(err)
		}
	}
	if refused != 2000-4 {
		t.Fatalf("%d starts refused, want %d", refused, 2000-4)
	}
	if n := countPartials(t, cfg); n != 0 {
		t.Fatalf("%d temp files after FILE-STARTs only, want 0", n)
	}
	if st := d.Stats(); st.Refused != 2000-4 {
		t.Fatalf("stats %+v", st)
	}
	// A new transfer of the same bundle from the same sender replaces its
	// predecessor instead of taking another slot.
	if err := d.Deliver(ctx, "node1", startMsg(5000, "b0.gar", 1<<10)); err != nil {
		t.Fatalf("restart of b0.gar: %v", err)
	}
	// The disk budget: 4 transfers of 1 KiB in flight, so 3 MiB is over.
	d2 := startDeployer(t, cfg, &fakeCluster{self: "node2", members: []string{"node1"}}, newFakeInstaller())
	for i := range 3 {
		if err := d2.Deliver(ctx, "node1", startMsg(uint64(i+1), fmt.Sprintf("c%d.gar", i), 1<<20)); err != nil {
			t.Fatal(err)
		}
	}
	if err := d2.Deliver(ctx, "node1", startMsg(9, "c9.gar", 1)); !errors.Is(err, ErrBusy) {
		t.Fatalf("start over the disk budget: %v, want ErrBusy", err)
	}
	// Whole transfers still work and free their share.
	d.Stop(ctx)
	d3 := startDeployer(t, cfg, &fakeCluster{self: "node2", members: []string{"node1"}}, newFakeInstaller())
	for i := range 10 {
		if err := deliverBundle(t, d3, "node1", uint64(i+1), "ok.gar", []byte("content"), nil); err != nil {
			t.Fatalf("transfer %d: %v", i, err)
		}
	}
}

// Deploy, undeploy and manifests come only from Senders, and a bundle
// installed from one member is changed only by that member.
func TestSenderRules(t *testing.T) {
	cfg := testConfig(t, false)
	cfg.Senders = []string{"node1"}
	inst := newFakeInstaller()
	cl := &fakeCluster{self: "node3", members: []string{"node1", "node2"}}
	d := startDeployer(t, cfg, cl, inst)
	if err := deliverBundle(t, d, "node2", 1, "app.gar", []byte("evil"), nil); !errors.Is(err, ErrNotSender) {
		t.Fatalf("bundle from node2: %v, want ErrNotSender", err)
	}
	if err := deliverBundle(t, d, "node1", 2, "app.gar", []byte("good"), nil); err != nil {
		t.Fatal(err)
	}
	testkit.WaitFor(t, "app.gar installed", func() bool { return inst.has("app.gar", []byte("good")) })
	ctx := context.Background()
	if err := d.Deliver(ctx, "node2", encode(message{Kind: kindUndeploy, Name: "app.gar"})); !errors.Is(err, ErrNotSender) {
		t.Fatalf("undeploy from node2: %v, want ErrNotSender", err)
	}
	if err := d.Deliver(ctx, "node2", encode(message{Kind: kindManifest})); !errors.Is(err, ErrNotSender) {
		t.Fatalf("manifest from node2: %v, want ErrNotSender", err)
	}
	// Without Senders any member may deploy, but not over another's bundle.
	cfg2 := testConfig(t, false)
	inst2 := newFakeInstaller()
	d2 := startDeployer(t, cfg2, cl, inst2)
	if err := deliverBundle(t, d2, "node1", 1, "app.gar", []byte("good"), nil); err != nil {
		t.Fatal(err)
	}
	testkit.WaitFor(t, "app.gar installed", func() bool { return d2.Stats().Received == 1 }) // recorded with its source
	if err := deliverBundle(t, d2, "node2", 2, "app.gar", []byte("evil"), nil); !errors.Is(err, ErrNotOwner) {
		t.Fatalf("node2 over node1's bundle: %v, want ErrNotOwner", err)
	}
	if err := d2.Deliver(ctx, "node2", encode(message{Kind: kindUndeploy, Name: "app.gar"})); !errors.Is(err, ErrNotOwner) {
		t.Fatalf("node2 undeploys node1's bundle: %v, want ErrNotOwner", err)
	}
	if !inst2.has("app.gar", []byte("good")) || d2.Stats().Refused != 2 {
		t.Fatalf("app.gar changed or refusals not counted: %+v", d2.Stats())
	}
}
