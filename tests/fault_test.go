//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Real faults on real sockets (DESIGN §6).
//
//   - LinkDown/LinkUp: the node's bridge port goes down (carrier lost on both
//     ends): the node is cut off from every other node.
//   - Partition/Heal: nftables rules in the hub's bridge drop frames between
//     two groups of nodes; each group still talks among itself.
//   - SetLoss/ClearLoss: random loss on the node's eth0 with nftables
//     (`numgen random`), because this kernel has no sch_netem for
//     `tc qdisc … netem loss`. There is no delay injection for the same reason.

const (
	lossTable = "gmt_loss" // inet table inside a node namespace
	partTable = "gmt_part" // bridge table inside the hub namespace
)

// LinkDown sets the node's bridge port down: the node loses its link.
func (nt *Net) LinkDown(t testing.TB, ns *NS) {
	t.Helper()
	nt.ip("-n", nt.Hub, "link", "set", ns.Port, "down")
}

// LinkUp brings the node's bridge port back up.
func (nt *Net) LinkUp(t testing.TB, ns *NS) {
	t.Helper()
	nt.ip("-n", nt.Hub, "link", "set", ns.Port, "up")
}

// requireNft skips (or fails under GOMCAT_E2E=require) without nft.
func requireNft(t testing.TB) {
	t.Helper()
	requireE2E(t)
	if _, err := exec.LookPath("nft"); err != nil {
		skipOrFail(t, "e2e: needs nft (nftables) for loss and partitions")
	}
}

// nft feeds a script to `nft -f -` inside namespace name.
func nft(t testing.TB, name, script string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), ipCmdTTL)
	defer cancel()
	cmd := exec.CommandContext(ctx, "ip", "netns", "exec", name, "nft", "-f", "-")
	cmd.Stdin = strings.NewReader(script)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("nft in %s: %v: %s\nscript:\n%s", name, err, strings.TrimSpace(string(out)), script)
	}
	return string(out)
}

// SetLoss drops outPct percent of the packets the node sends and inPct percent
// of those it receives on eth0 (0..100, two decimals), at random. It replaces
// any earlier setting; the namespace's deletion removes it.
func (ns *NS) SetLoss(t testing.TB, outPct, inPct float64) {
	t.Helper()
	requireNft(t)
	for _, p := range []float64{outPct, inPct} {
		if p < 0 || p > 100 {
			t.Fatalf("SetLoss: %v%%: want 0..100", p)
		}
	}
	out, in := int(outPct*100+0.5), int(inPct*100+0.5)
	nft(t, ns.Name, fmt.Sprintf(`table inet %[1]s
delete table inet %[1]s
table inet %[1]s {
	chain out {
		type filter hook output priority 0; policy accept;
		oifname "%[2]s" numgen random mod 10000 < %[3]d counter drop
	}
	chain in {
		type filter hook input priority 0; policy accept;
		iifname "%[2]s" numgen random mod 10000 < %[4]d counter drop
	}
}
`, lossTable, nodeIf, out, in))
}

// ClearLoss removes the loss set by SetLoss.
func (ns *NS) ClearLoss(t testing.TB) {
	t.Helper()
	requireNft(t)
	nft(t, ns.Name, fmt.Sprintf("table inet %[1]s\ndelete table inet %[1]s\n", lossTable))
}

var counterRE = regexp.MustCompile(`counter packets ([0-9]+)`)

// LossDropped returns how many packets SetLoss's rules dropped so far,
// outgoing and incoming.
func (ns *NS) LossDropped(t testing.TB) (out, in int) {
	t.Helper()
	requireNft(t)
	count := func(chain string) int {
		s := ns.Run(t, "nft", "list", "chain", "inet", lossTable, chain)
		m := counterRE.FindStringSubmatch(s)
		if m == nil {
			t.Fatalf("no counter in %s chain %s:\n%s", ns.Name, chain, s)
		}
		n, _ := strconv.Atoi(m[1])
		return n
	}
	return count("out"), count("in")
}

// Partition drops every frame between a node of a and a node of b in the
// hub's bridge, both ways. Each side keeps talking among itself. It replaces
// an earlier partition; Heal removes it.
func (nt *Net) Partition(t testing.TB, a, b []*NS) {
	t.Helper()
	requireNft(t)
	var rules strings.Builder
	for _, x := range a {
		for _, y := range b {
			fmt.Fprintf(&rules, "\t\tiifname %q oifname %q drop\n\t\tiifname %q oifname %q drop\n", x.Port, y.Port, y.Port, x.Port)
		}
	}
	nft(t, nt.Hub, fmt.Sprintf(`table bridge %[1]s
delete table bridge %[1]s
table bridge %[1]s {
	chain forward {
		type filter hook forward priority 0; policy accept;
%[2]s	}
}
`, partTable, rules.String()))
}

// Heal removes the partition set by Partition.
func (nt *Net) Heal(t testing.TB) {
	t.Helper()
	requireNft(t)
	nft(t, nt.Hub, fmt.Sprintf("table bridge %[1]s\ndelete table bridge %[1]s\n", partTable))
}

// waitFor polls cond every 20 ms until it is true or timeout passes; then it
// fails the test with what.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
