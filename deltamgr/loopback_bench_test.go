package deltamgr_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/gomcat/gomcat/deltamgr"
	"github.com/gomcat/gomcat/internal/testkit"
	"github.com/gomcat/gomcat/mcast"
	"github.com/gomcat/gomcat/runtime/cluster"
	"github.com/gomcat/gomcat/transport"
)

// BenchmarkStateTransferLoopback100k is BenchmarkStateTransfer100k over
// the real transport: two runtime/cluster members on 127.0.0.1
// (multicast on lo, TTL 0, a random group), the joiner's Start timed from
// GET_ALL to the installed 100,000 sessions of 1 KiB. Goal: ≤ 2 s per op.
//
//	go test -run '^$' -bench StateTransferLoopback -benchtime 5x ./deltamgr
func BenchmarkStateTransferLoopback100k(b *testing.B) {
	const n, size = 100_000, 1024
	group := fmt.Sprintf("239.255.%d.%d", rand.IntN(256), 1+rand.IntN(254))
	port := 20000 + rand.IntN(40000)
	n1 := loopbackNode(b, group, port, "n1")
	if err := n1.m.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	payload := strings.Repeat("x", size)
	for i := range n {
		s, err := n1.m.Create(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		if err := s.Set("i", i); err != nil {
			b.Fatal(err)
		}
		if err := s.Set("p", payload); err != nil {
			b.Fatal(err)
		}
		if err := n1.m.RequestCompleted(context.Background(), s); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(n * size)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		b.StopTimer()
		i++
		j := loopbackNode(b, group, port, fmt.Sprintf("j%d", i))
		waitMember(b, j.c, "n1")
		waitMember(b, n1.c, j.name)
		b.StartTimer()
		if err := j.m.Start(context.Background()); err != nil {
			b.Fatal(err)
		}
		if got := j.m.Count(); got != n {
			b.Fatalf("joined with %d sessions", got)
		}
		b.StopTimer()
		j.stop()
		waitGone(b, n1.c, j.name)
		b.StartTimer()
	}
}

type loopNode struct {
	name string
	c    *cluster.Cluster
	m    *deltamgr.Manager
}

func (n *loopNode) stop() {
	_ = n.m.Stop(context.Background())
	_ = n.c.Stop(context.Background())
}

func loopbackNode(b *testing.B, group string, port int, name string) *loopNode {
	b.Helper()
	cfg := cluster.DefaultLocalConfig(name)
	mc := mcast.DefaultLocalConfig()
	mc.Address, mc.Port = group, port
	cfg.Membership = cluster.Multicast{Config: mc}
	c, err := cluster.New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	r := deltamgr.NewRouter(cfg.Logger)
	c.Handle(transport.ChannelSessions, r.Deliver)
	p := c.Port(transport.ChannelSessions)
	r.Bind(p)
	mcfg := deltamgr.DefaultConfig("localhost#/bench")
	mcfg.Route = name
	m, err := deltamgr.New(mcfg, p)
	if err != nil {
		b.Fatal(err)
	}
	if err := r.Add(m); err != nil {
		b.Fatal(err)
	}
	if err := c.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	n := &loopNode{name: name, c: c, m: m}
	b.Cleanup(n.stop)
	return n
}

func waitMember(b *testing.B, c *cluster.Cluster, name string) {
	b.Helper()
	testkit.WaitFor(b, name+" joins", func() bool {
		for _, m := range c.Port(transport.ChannelSessions).Members() {
			if m == name {
				return true
			}
		}
		return false
	})
}

func waitGone(b *testing.B, c *cluster.Cluster, name string) {
	b.Helper()
	testkit.WaitFor(b, name+" leaves", func() bool {
		for _, m := range c.Port(transport.ChannelSessions).Members() {
			if m == name {
				return false
			}
		}
		return true
	})
}
