package backupmgr

import (
	"crypto/rand"
	"encoding/hex"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// BenchmarkProxyEntryMemory measures the live heap one proxy entry costs
// (an id this member knows only the owners of): 100,000 MSG_PROXY roles
// from the 7 other members of an 8-member cluster, each with freshly
// allocated strings as Decode gives them, applied to an empty core;
// B/entry is the heap in use after minus before, over 100,000.
func BenchmarkProxyEntryMemory(b *testing.B) {
	const n = 100_000
	names, msgs := proxyMsgs(n)
	var perEntry float64
	for b.Loop() {
		c := newCore(names[0], 1, 0, 0, 0)
		for _, p := range names[1:] {
			c.peerUp(p, false)
		}
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		for _, m := range msgs {
			cp := *m.Entry
			cp.ID = strings.Clone(cp.ID)
			cp.Primary = strings.Clone(cp.Primary)
			cp.Backups = []string{strings.Clone(cp.Backups[0])}
			c.receive(cp.Primary, &Message{Kind: KindProxy, Entry: &cp}, t0)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		if _, _, proxies := c.roleCounts(); proxies != n {
			b.Fatalf("%d proxies, want %d", proxies, n)
		}
		perEntry = float64(after.HeapAlloc-before.HeapAlloc) / n
		runtime.KeepAlive(c)
	}
	b.ReportMetric(perEntry, "B/entry")
}

// proxyMsgs returns the member names of an 8-member cluster and n PROXY
// messages of ids in NewID's form, owned by the 7 members after the first.
func proxyMsgs(n int) ([]string, []*Message) {
	names := []string{"node1", "node2", "node3", "node4", "node5", "node6", "node7", "node8"}
	msgs := make([]*Message, n)
	for i := range msgs {
		raw := make([]byte, 16)
		_, _ = rand.Read(raw)
		p, bk := names[1+i%7], names[1+(i+1)%7]
		msgs[i] = &Message{Kind: KindProxy, Entry: &Entry{
			ID:      strings.ToUpper(hex.EncodeToString(raw)) + "." + strings.Clone(p),
			Primary: strings.Clone(p), Backups: []string{strings.Clone(bk)}, Ver: 1}}
	}
	return names, msgs
}

// BenchmarkPeerDownProxies times the relocation after a member left on a
// core that knows 100,000 proxies (2/7 of them name the member leaving).
func BenchmarkPeerDownProxies(b *testing.B) {
	names, msgs := proxyMsgs(100_000)
	for b.Loop() {
		b.StopTimer()
		c := newCore(names[0], 1, 0, 0, 0)
		for _, p := range names[1:] {
			c.peerUp(p, false)
		}
		for _, m := range msgs {
			cp := *m.Entry
			cp.Backups = slices.Clone(cp.Backups)
			c.receive(cp.Primary, &Message{Kind: KindProxy, Entry: &cp}, t0)
		}
		b.StartTimer()
		c.peerDown(names[7])
	}
}
