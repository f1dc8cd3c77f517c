package deltamgr

import (
	"context"
	"runtime"
	"strings"
	"testing"

	"github.com/gomcat/gomcat/internal/testkit"
	"github.com/gomcat/gomcat/transport/transporttest"
)

// BenchmarkHeapPerSession reports the live heap one session costs holding
// one 1 KiB string value (what the example app's /set stores), on the node
// that created it and on the member that received it by replication:
// session, attribute storage, CBOR bytes, the store's and the manager's
// indexes. It is a measure, not a timing: run it with -benchtime 1x.
//
//	go test -run '^$' -bench HeapPerSession -benchtime 1x ./deltamgr
func BenchmarkHeapPerSession(b *testing.B) {
	const n = 20_000
	value := strings.Repeat("v", 1024)
	for b.Loop() {
		b.StopTimer()
		h := transporttest.NewHub(1)
		n1, n2 := benchNode(b, h, "n1"), benchNode(b, h, "n2")
		for _, nd := range []*node{n1, n2} {
			if err := nd.m.Start(context.Background()); err != nil {
				b.Fatal(err)
			}
		}
		before := liveHeap()
		b.StartTimer()
		for range n {
			s, err := n1.m.Create(context.Background())
			if err != nil {
				b.Fatal(err)
			}
			if err := s.Set("k", value); err != nil {
				b.Fatal(err)
			}
			if err := n1.m.RequestCompleted(context.Background(), s); err != nil {
				b.Fatal(err)
			}
		}
		testkit.WaitFor(b, "the member has every session", func() bool { return n2.m.Count() == n })
		b.StopTimer()
		after := liveHeap()
		b.ReportMetric(float64(after-before)/n/2, "heap-B/session/node")
		for _, nd := range []*node{n1, n2} {
			nd.m.Stop(context.Background())
		}
		h.Close()
		b.StartTimer()
	}
}

func liveHeap() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}
