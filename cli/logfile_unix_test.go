//go:build unix

package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/gomcat/gomcat/internal/testkit"
)

// --log-file writes the JSON log (field types kept: pid is a number) to a
// file under the home; SIGHUP reopens it after a rotation.
func TestLogFileReopenOnHangup(t *testing.T) {
	home := initHomeT(t, freeTCPPort(t), freeTCPPort(t))
	file := filepath.Join(home, "logs", "catalina.out")
	readLog := func() string { b, _ := os.ReadFile(file); return string(b) }
	_, serr := startLogT(t, home, readLog, "--log-file", "logs/catalina.out", "--log-format", "json")
	if !strings.Contains(serr.String(), "gomcat: logging to "+file) {
		t.Fatalf("stderr: %q", serr.String())
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var start map[string]any
	for _, line := range strings.Split(string(b), "\n") {
		if strings.Contains(line, "Starting service") {
			if err := json.Unmarshal([]byte(line), &start); err != nil {
				t.Fatal(err)
			}
		}
	}
	if pid, ok := start["pid"].(float64); !ok || int(pid) != os.Getpid() {
		t.Fatalf("Starting service line: pid %#v, want the number %d", start["pid"], os.Getpid())
	}
	if !strings.Contains(string(b), "Server startup in") {
		t.Fatalf("log file lacks the startup line:\n%s", b)
	}
	if err := os.Rename(file, file+".1"); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	testkit.WaitFor(t, "a new log file with the reopen line", func() bool {
		b, err := os.ReadFile(file)
		return err == nil && strings.Contains(string(b), "log file reopened (SIGHUP)")
	})
}
