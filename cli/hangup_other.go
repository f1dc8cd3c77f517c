//go:build !unix

package cli

import "os"

// notifyHangup: there is no SIGHUP here; the log file is never reopened.
func notifyHangup(chan<- os.Signal) bool { return false }
