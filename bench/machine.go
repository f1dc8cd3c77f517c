package bench

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
)

// Machine describes where the figures were measured.
type Machine struct {
	CPUs   int    // runtime.NumCPU: the CPUs this process may use
	Model  string // "model name" of /proc/cpuinfo; "" if unknown
	Go     string // runtime.Version of the bench binary (the nodes run the same one)
	OS     string // GOOS/GOARCH and the kernel release when known
	Memory string // MemTotal of /proc/meminfo; "" if unknown
}

// ThisMachine reads the machine's description; missing /proc files leave
// fields empty.
func ThisMachine() Machine {
	m := Machine{CPUs: runtime.NumCPU(), Go: runtime.Version(), OS: runtime.GOOS + "/" + runtime.GOARCH}
	m.Model = procField("/proc/cpuinfo", "model name")
	if kb, err := strconv.ParseInt(strings.TrimSuffix(procField("/proc/meminfo", "MemTotal"), " kB"), 10, 64); err == nil {
		m.Memory = fmt.Sprintf("%.1f GiB", float64(kb)/(1<<20))
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.OS += " " + strings.TrimSpace(string(b))
	}
	return m
}

func (m Machine) String() string {
	parts := []string{fmt.Sprintf("%d CPUs", m.CPUs)}
	for _, s := range []string{m.Model, m.Memory, m.OS, m.Go} {
		if s != "" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, " · ")
}

// procField returns the value of the first "key: value" line of a /proc
// file, trimmed; "" if absent.
func procField(path, key string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// RSS returns the resident set size of process pid in KiB (VmRSS of
// /proc/PID/status).
func RSS(pid int) (int64, error) {
	v := procField(fmt.Sprintf("/proc/%d/status", pid), "VmRSS")
	if v == "" {
		return 0, fmt.Errorf("bench: no VmRSS for pid %d", pid)
	}
	kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(v, "kB")), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("bench: VmRSS of pid %d: %w", pid, err)
	}
	return kb, nil
}
