package proc

import (
	"fmt"
	"os"
)

// Kill ends process pid at once (SIGKILL; TerminateProcess on Windows).
func Kill(pid int) error {
	if pid <= 0 {
		return fmt.Errorf("proc: kill %d: invalid pid", pid)
	}
	p, err := os.FindProcess(pid)
	if err != nil {
		return fmt.Errorf("proc: kill %d: %w", pid, err)
	}
	defer p.Release()
	if err := p.Kill(); err != nil {
		return fmt.Errorf("proc: kill %d: %w", pid, err)
	}
	return nil
}
