//go:build unix

package cli

import (
	"os"
	"os/signal"
	"syscall"
)

// notifyHangup relays SIGHUP to ch.
func notifyHangup(ch chan<- os.Signal) bool {
	signal.Notify(ch, syscall.SIGHUP)
	return true
}
