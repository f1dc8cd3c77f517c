// Package logfile is an append-only log file that can be reopened at its
// path, so logrotate (or an operator) can move it away and signal the
// process (SIGHUP) to start a fresh one: Tomcat's logs/catalina.out with
// the rotation Apache httpd and nginx users expect.
//
// Main type: File (Open, Write, Reopen, Close). Write and Reopen are safe
// for concurrent use; a Reopen that fails keeps the old file.
//
// Goroutines: none (the caller turns SIGHUP into Reopen).
package logfile
