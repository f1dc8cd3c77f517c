//go:build !linux

package bench

import "os/exec"

// dieWithParent does nothing outside Linux (no Pdeathsig): a bench that
// dies leaves its nodes running until their stop; the bench stops them on
// every clean exit path.
func dieWithParent(*exec.Cmd) {}
