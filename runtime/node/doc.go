// Package node is a Gomcat server: it builds every part from a conf.Server
// and starts and stops them in Tomcat's order. It is the only package that
// wires concrete parts together.
//
// Main type: Node. New(Config) maps the model into each package's own
// Config (host.Config per <Host>, host.ConnectorConfig per <Connector>,
// session.Config per context) and opens nothing. Start runs, in order:
// home directories, the cluster, the hosts (contexts, session managers,
// appBase bundles), the connectors, the shutdown port; then logs "Server
// startup in N ms". Stop runs the reverse (connectors drain in-flight
// requests for Config.ShutdownGrace) and logs "Server stopped in N ms".
// Run = Start, wait for ctx or the shutdown command, Stop. Signals are the
// caller's (cmd/gomcat cancels ctx on SIGINT/SIGTERM).
//
// Goroutines: the shutdown port's accept loop (start → Stop); everything
// else belongs to the parts (connectors, appBase pollers, session sweepers)
// and is stopped by their Stop.
//
// The cluster seam (cluster.go, build.go). When the model has a <Cluster>,
// New makes a clusterSeam; today its Start logs once "clustering is not
// active yet; sessions are local". The valves are already wired: a
// Cluster's ReplicationValve (filter; sync when channelSendOptions lacks
// the async bit) and JvmRouteBinderValve go on the distributable contexts of
// the hosts it covers (host.Config.Valves). To activate clustering:
//   - clusterSeam becomes a runtime/cluster SimpleTcpCluster built from
//     conf.Cluster (mcast.Config from Membership, transport.Config from
//     Receiver/Sender, the key), started before the hosts (the "cluster"
//     step of buildGroup) so membership exists when managers start;
//   - Node.managers returns a deltamgr.Manager for distributable contexts
//     of covered hosts (its Start runs the state transfer, which blocks
//     the connectors from opening, as in Tomcat);
//   - a farmdeploy.Deployer (from conf.Cluster.Deployer) gets the
//     ClusterHost's *host.Host as its Installer (Install, Uninstall)
//     and starts after the hosts.
package node
