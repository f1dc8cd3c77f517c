// Package node is a Gomcat server: it builds every part from a conf.Server
// and starts and stops them in order. It is the only package that wires
// concrete parts together and the only reader of conf.Cluster
// (clusterconf.go maps it onto mcast.Config or mcast.StaticConfig,
// transport.Config, cluster.Config, deltamgr.Config, farmdeploy.Config).
//
// Main type: Node. Check (check.go) reports, without starting anything,
// every problem New or Start would refuse, each at its element (gomcat
// configtest). New maps the model and opens nothing. Start runs, in
// order: home directories; the pid file (logs/gomcat.pid; a live holder
// refuses the start: HomeInUseError); with an admin <Listener>, the
// runtime/admin listener (admin.go: /metrics, /readyz, …); the connectors'
// and shutdown port's sockets bound, not yet served (a port in use fails
// before the node announces itself); with a <Cluster>, the
// SimpleTcpCluster ("Cluster is about to start", receiver bound,
// membership, its fast join — "Membership established" — or with
// establishWait "Sleeping for N milliseconds to establish cluster
// membership"); the hosts, whose distributable contexts get a
// deltamgr.Manager named "<host>#<path>" (ROOT "localhost#") whose Start
// runs the state transfer (or, with <Manager className="BackupManager">,
// a backupmgr.Manager whose Start exchanges the map of owners); a context's
// own <Manager className="DeltaManager|BackupManager"> replaces the
// Cluster's template for it, as in Tomcat; with a <Deployer>, the farm deployer ("Cluster
// FarmWarDeployer started."; after the hosts, unlike Tomcat, because it
// installs the bundles it missed at start); the connectors serving (HTTP,
// then AJP/1.3), then the HTTP URL advertised in the heartbeat (balancers
// route only to a member with a URL); the shutdown port accepting;
// "Server startup in N ms". Stop runs the reverse (connectors
// drain for Config.ShutdownGrace; the cluster stops last, so peers get the
// goodbye) and is idempotent. Run = Start, wait for ctx or the shutdown
// command, Stop; signals are the caller's.
//
// The cluster seam (cluster.go): one deltamgr.Router per node on channel 1,
// the farm deployer on channel 2, one backupmgr.Router on channel 4, all
// through cluster.Port, which satisfies deltamgr.Cluster (backupmgr's
// too) and farmdeploy.Cluster; the cluster Host's
// *host.Host is the farm's Installer. Non-distributable contexts, hosts a
// Host-level Cluster does not cover, and nodes without a <Cluster> get a
// session.LocalManager. A context with <Manager
// className="gomcat.RedisManager"> gets a redismgr.Manager instead
// (redis.go), distributable or not, cluster or not; its passwordFile is
// read once when the context deploys. Bridge (bridge.go, gomcat sessions
// migrate) is the other use of a cluster model: a member without hosts or
// connectors that takes a DeltaManager cluster's sessions by state
// transfer and keeps copying them into each context's Redis until Stop
// (no goroutine of its own: Run copies on the caller's). The heartbeat advertises the primary connector's
// URL: its address if it names one, else the receiver's advertised address.
//
// Keys (keys.go): New refuses a cluster off loopback without a key or the
// insecure opt-in (CheckClusterKey). Goroutines: the shutdown port's accept
// loop (start → Stop); with a keyFile, its watcher (2 s poll and SIGHUP;
// cluster Start → Stop); everything else belongs to the parts (cluster, connectors, appBase pollers, session
// sweepers, farm loops) and is stopped by their Stop.
package node
