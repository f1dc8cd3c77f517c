//go:build e2e

// Package e2e runs real gomcat processes in network namespaces (DESIGN §6).
// Run: go test -race -tags e2e ./tests/ (as root; GOMCAT_E2E=require turns
// skips into failures; GOMCAT_E2E_LOGS=1 prints every process log).
//
// TestMain builds ./cmd/gomcat once with -race. Building blocks:
//
//	nt := NewNet(t, 3)              // hub bridge + 3 namespaces, 198.18.X.(i+1)/24, no default route
//	nt = NewNet6(t, 3)              // the same, IPv6 only: fd00::X:(i+1)/64 (nodad), no IPv4, no default route
//	ns := nt.NS[0]                  // ns.Name, ns.Addr, ns.Port (its bridge port)
//	n := StartNode(t, ns, NodeOptions{Route: "node1"}) // gomcat init + start, waits "Server startup in"
//	n.URL("/set?k=a&v=1")           // http://198.18.X.1:8080/set?k=a&v=1 (NewNet6: http://[fd00::X:1]:8080/…)
//	c := nt.NS[1].HTTPClient(true)  // client whose sockets live in NS[1], with a (per-host) cookie jar
//	c = nt.NS[1].HTTPClientJar(NewClusterJar()) // one jar for all nodes, as behind a balancer
//	Get(t, c, url); Cookie(t, c, url, "JSESSIONID"); GoGet(c, url).WaitServed(…)
//	n.WaitLog(t, `Replication member added`, 10*time.Second)
//	m := n.LogMark(); …; n.WaitLogAfter(t, m, re, d); n.CountLog(re)
//	n.Stop(t) (gomcat stop in ns); n.Signal(t, syscall.SIGTERM); n.Kill(t) (kill -9);
//	n.Wait(t, d) == 0; n.Start(t); n.WaitStarted(t)   // restart, same home
//	RunGomcat(t, ns, env, "members", "--once", …)      // a CLI command to completion
//	p := StartGomcat(t, ns, "balancer", env, "balancer", …) // long-running, a *Proc like a node
//	StartCommand(t, ns, "haproxy", nil, "haproxy", "-db", "-f", cfg)
//	nt.LinkDown(t, ns); nt.LinkUp(t, ns)               // cut a node off / reconnect
//	nt.Partition(t, nt.NS[:1], nt.NS[1:]); nt.Heal(t)  // drop frames between groups
//	ns.SetLoss(t, 30, 30); ns.LossDropped(t); ns.ClearLoss(t) // random loss (nftables)
//	ns.DialContext / Listen / ListenPacket / Do(fn)    // sockets of the test inside ns
//
// No delay injection: this kernel has no sch_netem. Everything is removed in
// t.Cleanup; processes are killed by PID; namespaces left by a crashed run
// (gmt<pid>-…, creator dead) are removed when the next run starts.
package e2e
