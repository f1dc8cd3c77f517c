// Package transporttest is an in-memory cluster fabric for unit tests of
// the transport's consumers (the session manager, the farm deployer): no
// sockets, seeded drops and delays, partitions. A *Port implements the
// cluster seam (Contract B): Self, Members, Seniors, Subscribe (membership
// events: what a port sees change), Send, Broadcast.
//
//	h := transporttest.NewHub(1)
//	defer h.Close()
//	a := h.Join("node1", mgr1.Deliver)
//	b := h.Join("node2", mgr2.Deliver)
//	err := a.Send(ctx, "node2", msg, 6) // returns node2's Deliver error
//
// Semantics: opts bit 8 (async) returns at once; otherwise bit 4 (sync)
// waits for the receiver's Deliver and returns its error; otherwise
// (use_ack, or 0) waits until delivery starts. Messages from one port to
// another are delivered in send order, even with delays. Members and
// Seniors are in join order; a member on the other side of a partition is
// not listed (as membership would expire it). Sending to a name that is
// not a member fails; to a partitioned member, async is dropped silently
// like a network and the other modes fail at once with ErrUnreachable.
// A dropped message (SetDrop) is lost silently when async, otherwise the
// send fails with ErrDropped. Payloads are copied at Send.
//
// Cluster is the test cluster the consumers' unit tests share, in the
// spirit of hashicorp/raft's MakeCluster: members built by the test's own
// Build (its manager, router, config), added (Add, AddAll), killed at once
// (Kill: out of the hub, then stopped), restarted with their Build (Restart)
// and partitioned by name, and waits that block on a member's Subscribe
// events, not on a poll (WaitJoined, WaitLeft, WaitMembers). State of the
// members themselves is waited for with internal/testkit.WaitFor.
//
//	c := transporttest.NewCluster[*node](t, 1) // hub closed at cleanup
//	ns := c.AddAll(build, transporttest.Names("n", 3)...)
//	c.Kill("n2")
//	c.WaitMembers("n1", "n3")
//	c.Restart("n2", nil) // with the Build it was added with
//
// Goroutines: one delivery goroutine per port, started by Join, ended by
// Leave (not waited for, so Leave may be called from Deliver) or Close
// (waits for all). Broadcast sends to members concurrently and waits.
// Lock order: Hub.mu before Port.mu.
package transporttest
