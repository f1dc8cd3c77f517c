//go:build unix

package proc

import (
	"errors"
	"fmt"
	"syscall"
)

// Alive reports whether process pid exists (and, on Linux, is not a zombie
// waiting for its parent). A process of another user counts as alive.
func Alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	if err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	return !zombie(pid)
}

// Terminate asks process pid to stop (SIGTERM).
func Terminate(pid int) error {
	if pid <= 0 {
		return fmt.Errorf("proc: terminate %d: invalid pid", pid)
	}
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		return fmt.Errorf("proc: terminate %d: %w", pid, err)
	}
	return nil
}
