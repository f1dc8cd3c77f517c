// Package cli is the gomcat command line, importable so that a program of
// your own can register its apps (host.Register) and run the stock CLI
// (Caddy's cmd shape: cmd/gomcat is only this main):
//
//	import "github.com/gomcat/gomcat/cli"
//
//	func main() { os.Exit(cli.Main(os.Args)) }
//
// cli sits above runtime/node: it reads the config model (conf), hands it to
// node.Nodes and imports every part it reports on; nothing of ours but
// cmd/ and examples/ imports cli.
//
// Main installs the signal handling (SIGINT/SIGTERM stop the node
// gracefully; a second one exits at once with code 130) and runs App.
// Run is Main without signals, for tests. Commands: init, configtest,
// run (the node in the foreground; start is the same, kept for
// compatibility), stop (waits for the node to stop; --force kills it
// after --wait), members (a silent multicast observer's table), bundle
// create|inspect, deploy (copy a bundle into a running watching node's
// watchDir and follow the rollout in its farm status file), demo (two
// nodes of one cluster in one process), balancer (the sticky front end),
// lbconfig (HAProxy, nginx, httpd and keepalived configs for the nodes),
// bench (replication, balancer and session-manager figures), sessions
// (list, expire; migrate: node.Bridge moving a DeltaManager cluster's
// sessions into Redis), version (also --version).
//
// Precedence everywhere: defaults < conf/server.xml < GOMCAT_* environment
// < flags; init writes the environment's and the flags' values into the
// template. members and deploy prefer what a running node published in
// logs/gomcat.json (node.RunInfo) over the files.
//
// The package starts no goroutines of its own beyond Main's signal watcher
// (which ends when Main returns); run/start and demo run node.Nodes until the
// context ends or a shutdown port receives the command; members runs an
// mcast.Observer until the context ends (or once, after --wait).
//
// Errors go to stderr as one line ("gomcat: ...") with exit code 1 (deploy:
// 2 when a member failed, 3 on timeout); configtest lists every problem,
// one per line, in the shape "FILE:LINE: element <X> attribute y: what is
// wrong": the file's (all of them, a parse error hides none) and what start
// would refuse beyond it (node.Check: each subsystem's Validate, an app the
// binary does not register, a static context's missing docBase).
package cli
