package proc

import (
	"bytes"
	"os"
	"strconv"
)

// zombie reports whether pid has exited but is not yet reaped (state Z in
// /proc/PID/stat, the field after the parenthesised command name).
func zombie(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	i := bytes.LastIndexByte(b, ')')
	return i >= 0 && i+2 < len(b) && b[i+2] == 'Z'
}
