// Package cli is the gomcat command line, importable so that a program of
// your own can register its apps (host.Register) and run the stock CLI:
//
//	func main() { os.Exit(cli.Main(os.Args)) }
//
// Main installs the signal handling (SIGINT/SIGTERM stop the node
// gracefully; a second one exits at once with code 130) and runs App.
// Run is Main without signals, for tests. Commands: init, configtest,
// start, stop, bundle create|inspect, demo, version.
//
// The package starts no goroutines of its own beyond Main's signal watcher
// (which ends when Main returns); start and demo run a node.Node until its
// context ends or its shutdown port receives the command.
//
// Errors go to stderr as one line ("gomcat: ...") with exit code 1;
// configtest lists every problem, one per line, in the shape
// "FILE:LINE: element <X> attribute y: what is wrong".
package cli
