package proc

import (
	"os"
	"os/exec"
	"runtime"
	"testing"
)

func TestAliveSelf(t *testing.T) {
	if !Alive(os.Getpid()) {
		t.Fatal("Alive(self) = false")
	}
	for _, pid := range []int{0, -1} {
		if Alive(pid) {
			t.Errorf("Alive(%d) = true", pid)
		}
	}
}

// A child that was killed is not alive: once reaped, and on Linux already
// as a zombie (killed, not yet reaped).
func TestAliveChild(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("uses sleep(1)")
	}
	cmd := exec.Command("sleep", "30")
	if err := cmd.Start(); err != nil {
		t.Skip(err)
	}
	pid := cmd.Process.Pid
	if !Alive(pid) {
		t.Fatal("running child: Alive = false")
	}
	if err := Kill(pid); err != nil {
		t.Fatal(err)
	}
	waitZombie(t, pid)
	_ = cmd.Wait()
	if Alive(pid) {
		t.Error("reaped child: Alive = true")
	}
}

func TestTerminate(t *testing.T) {
	if runtime.GOOS == "windows" {
		if err := Terminate(os.Getpid()); err == nil {
			t.Fatal("Terminate on Windows: want ErrUnsupported")
		}
		return
	}
	cmd := exec.Command("sleep", "30")
	if err := cmd.Start(); err != nil {
		t.Skip(err)
	}
	if err := Terminate(cmd.Process.Pid); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err == nil {
		t.Fatal("sleep exited 0 after SIGTERM")
	}
}
