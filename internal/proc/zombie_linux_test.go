package proc

import (
	"runtime"
	"testing"
)

// waitZombie waits for the kernel to mark the killed, unreaped child pid a
// zombie, then checks that Alive says it exited.
func waitZombie(t *testing.T, pid int) {
	t.Helper()
	for !zombie(pid) {
		runtime.Gosched()
	}
	if Alive(pid) {
		t.Error("zombie child: Alive = true")
	}
}
