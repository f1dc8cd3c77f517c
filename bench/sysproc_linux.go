package bench

import (
	"os/exec"
	"syscall"
)

// dieWithParent makes the kernel kill cmd's process should the bench die
// (Pdeathsig, Linux only).
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
