package deltamgr_test

import (
	"context"
	"fmt"

	"github.com/rs/zerolog"

	"github.com/gomcat/gomcat/deltamgr"
	"github.com/gomcat/gomcat/transport/transporttest"
)

// The wiring runtime/node does for each node: one Router on channel 1,
// one Manager per distributable context, registered before Start.
func Example() {
	hub := transporttest.NewHub(1) // runtime/node: the cluster's channel-1 port
	defer hub.Close()
	start := func(name string) *deltamgr.Manager {
		r := deltamgr.NewRouter(zerolog.Nop())
		port := hub.Join(name, r.Deliver) // inbound session messages → Router
		r.Bind(port)
		cfg := deltamgr.DefaultConfig("localhost#/shop")
		cfg.Route = name
		m, err := deltamgr.New(cfg, port)
		if err != nil {
			panic(err)
		}
		if err := r.Add(m); err != nil {
			panic(err)
		}
		if err := m.Start(context.Background()); err != nil { // state transfer; then open the connector
			panic(err)
		}
		return m
	}
	node1 := start("node1")
	defer node1.Stop(context.Background())

	s, _ := node1.Create(context.Background())
	_ = s.Set("k", "v")
	_ = node1.RequestCompleted(context.Background(), s) // the ReplicationValve's call

	node2 := start("node2") // receives node1's sessions before Start returns
	defer node2.Stop(context.Background())
	v, _ := node2.Find(s.ID()).Get("k")
	fmt.Println(node2.Count(), v)
	// Output: 1 v
}
