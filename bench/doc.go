// Package bench measures a Gomcat cluster: "gomcat bench replication",
// "gomcat bench balancer", "gomcat bench start", "gomcat bench memory",
// "gomcat bench table", "gomcat bench sessions". Figures are reported,
// never asserted. Sessions (SessionsConfig, sessions.go) puts the session
// managers side by side: a standalone node, a DeltaManager pair and two
// nodes on one redis-server (RedisManager sticky and non-sticky), plus
// the Redis commands per request (INFO commandstats) and memory per
// session (MEMORY USAGE, used_memory), over a small RESP client of its own.
//
// Replication (ReplicationConfig) measures, against running nodes (Target,
// Peer, optional Baseline without a Cluster) or against nodes it launches
// itself from the gomcat binary: /set throughput of a standalone node and
// of a clustered one (the replication overhead), replication latency (a
// write answered by one node → visible on the other, exact percentiles of
// the samples), the state transfer of many sessions to a joining node
// (timed from its own log lines) and the resident memory per session.
// Balancer (BalancerConfig) compares small GETs with a session cookie
// through a node directly, gomcat balancer and HAProxy. Start
// (StartConfig) times process start → first HTTP 200 of a lone cluster
// node and of a node joining a filled member, and → /count == Sessions,
// for this binary and optionally a Baseline binary in the same rounds.
// Memory (MemoryConfig) reports VmRSS per session on a node that created
// the sessions and on the member holding them by replication. Table
// (TableConfig) runs replication (async, sync), start (10k, 100k),
// memory and balancer in turn and summarizes them in issue 14's rows
// (summarize, table-tested on synthetic reports).
//
// The load generator is Run: Concurrency workers in a closed loop (each a
// user with its own session cookie) for a duration or a request budget,
// latencies in a log-linear Histogram (within 0.8 %, fixed memory).
// Targets are measured in interleaved rounds so that drift of the machine
// spreads over all of them. Report prints the figures beside the machine
// (CPUs, CPU model, memory, kernel, Go version) and the goals of issues 5
// and 6.
//
// Self-contained mode launches "gomcat start" children on homes in a
// temporary directory: HTTP on 127.0.0.1, multicast bound to 127.0.0.1
// with TTL 0 on a random port with a random domain, the shutdown port off.
// They are stopped by PID (SIGTERM, then SIGKILL after 10 s), killed by
// the kernel if the bench dies (Pdeathsig, Linux only), and the homes are
// removed.
//
// Goroutines: Run's workers (they end when the duration or the budget is
// used up, or ctx ends; Run waits for them); per launched node a log
// reader and a waiter, both ending when the process exits, which the
// bench's own cleanup ensures.
package bench
