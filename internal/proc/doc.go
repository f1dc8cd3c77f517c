// Package proc asks the operating system about other processes by id: is
// one alive, terminate it (SIGTERM), kill it. `gomcat start` uses it to
// refuse a home whose pid file names a live process, `gomcat stop` to wait
// for a node's exit (and, with --force, to kill it).
//
// Per OS: Unix sends signal 0 (a zombie counts as exited on Linux, read
// from /proc); Windows opens the process and reads its exit code. Terminate
// is Unix only (ErrUnsupported elsewhere: use the shutdown port or Kill).
//
// Goroutines: none. Every function is safe for concurrent use.
package proc
