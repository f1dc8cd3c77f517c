//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Helpers for the membership scenarios (issue 3): member log lines, log
// timestamps, `gomcat members` tables, CPU of a process, a raw heartbeat.

// Membership defaults of a node made by InitNode (Tomcat's McastService).
const (
	mcastGroup     = "228.0.0.4"
	mcastPort      = 45564
	mcastFrequency = 500 * time.Millisecond
	mcastDropTime  = 3000 * time.Millisecond
)

// perfEnvVar set to 1 runs the long performance variants (10 kills, a
// plain build for the CPU figure).
const perfEnvVar = "GOMCAT_E2E_PERF"

func perfMode() bool { return os.Getenv(perfEnvVar) == "1" }

// memberRE matches the tcp://HOST:PORT,NAME, prefix (HOST in brackets for IPv6) of a member's String.
func memberRE(n *Node) string {
	return `tcp://` + regexp.QuoteMeta(net.JoinHostPort(n.NS.Addr.String(), strconv.Itoa(n.ReceiverPort))) + `,` + regexp.QuoteMeta(n.Route) + `,`
}

// addedRE matches the line a peer logs when n joins.
func addedRE(n *Node) string { return `Replication member added: ` + memberRE(n) }

// goneRE matches the line a peer logs when n is removed (any reason).
func goneRE(n *Node) string { return `Replication member disappeared: ` + memberRE(n) }

// verifyRE matches the failure detector's "will verify" line for n.
func verifyRE(n *Node) string {
	return `Received memberDisappeared\[` + memberRE(n) + `.*\] message\. Will verify\.`
}

// anyAddedRE / anyGoneRE match every membership addition / removal.
const (
	anyAddedRE = `Replication member added: `
	anyGoneRE  = `Replication member disappeared: `
)

// consoleTimeRE is the timestamp the console log format starts lines with.
var consoleTimeRE = regexp.MustCompile(`^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}) `)

// lineTime is the timestamp a node put on a console log line (millisecond
// resolution, local time). ok is false for a line without one.
func lineTime(line string) (ts time.Time, ok bool) {
	m := consoleTimeRE.FindStringSubmatch(line)
	if m == nil {
		return time.Time{}, false
	}
	ts, err := time.ParseInLocation("2006-01-02 15:04:05.000", m[1], time.Local)
	return ts, err == nil
}

// waitLogTime is WaitLogAfter that also returns when the line was logged:
// its own timestamp, else the time the test saw it.
func waitLogTime(t testing.TB, p *Proc, mark int, pattern string, timeout time.Duration) (string, time.Time) {
	t.Helper()
	line := p.WaitLogAfter(t, mark, pattern, timeout)
	seen := time.Now()
	if ts, ok := lineTime(line); ok {
		return line, ts
	}
	return line, seen
}

// linesAfter returns the lines of p's log after mark matching pattern.
func linesAfter(p *Proc, mark int, pattern string) []string {
	re := regexp.MustCompile(pattern)
	log := p.Log()
	if mark > len(log) {
		mark = len(log)
	}
	var out []string
	for line := range strings.SplitSeq(log[mark:], "\n") {
		if re.MatchString(line) {
			out = append(out, line)
		}
	}
	return out
}

// countAfter counts the lines of p's log after mark matching pattern.
func countAfter(p *Proc, mark int, pattern string) int { return len(linesAfter(p, mark, pattern)) }

// startAll inits a node in each namespace, starts them all at once and
// waits until every one has started. opts(i) may be nil for defaults.
func startAll(t testing.TB, nss []*NS, opts func(i int) NodeOptions) []*Node {
	t.Helper()
	nodes := make([]*Node, len(nss))
	for i, ns := range nss {
		var o NodeOptions
		if opts != nil {
			o = opts(i)
		}
		nodes[i] = InitNode(t, ns, o)
	}
	for _, n := range nodes {
		n.Start(t)
	}
	for _, n := range nodes {
		n.WaitStarted(t)
	}
	return nodes
}

// waitMesh waits until every node of a logged every other one as added
// (after marks[i], or the current run when marks is nil).
func waitMesh(t testing.TB, a []*Node, marks []int, timeout time.Duration) {
	t.Helper()
	for i, n := range a {
		for _, o := range a {
			if o == n {
				continue
			}
			if marks == nil {
				n.WaitLog(t, addedRE(o), timeout)
			} else {
				n.WaitLogAfter(t, marks[i], addedRE(o), timeout)
			}
		}
	}
}

// memberRow is one row of a `gomcat members` table.
type memberRow struct {
	Name, Receiver, HTTP, Alive, LastHeard, Note string
}

// memberTable is one table printed by `gomcat members`.
type memberTable struct {
	Header string // "15:04:05  group …  members N"
	Rows   []memberRow
	Notes  []string // "note: …" lines, without the prefix
}

var (
	tableHeaderRE = regexp.MustCompile(`^\d\d:\d\d:\d\d  group `)
	columnsRE     = regexp.MustCompile(`\s{2,}`)
)

// parseMemberTables splits `gomcat members` output into its tables.
func parseMemberTables(out string) []memberTable {
	var tables []memberTable
	var cur *memberTable
	inRows := false
	for line := range strings.SplitSeq(out, "\n") {
		line = strings.TrimRight(line, " \r")
		switch {
		case tableHeaderRE.MatchString(line):
			tables = append(tables, memberTable{Header: line})
			cur, inRows = &tables[len(tables)-1], false
		case cur == nil || line == "":
			inRows = false
		case strings.HasPrefix(line, "NAME") && strings.Contains(line, "RECEIVER"):
			inRows = true
		case strings.HasPrefix(line, "note: "):
			cur.Notes = append(cur.Notes, strings.TrimPrefix(line, "note: "))
			inRows = false
		case inRows:
			f := columnsRE.Split(line, -1)
			for len(f) < 6 {
				f = append(f, "")
			}
			cur.Rows = append(cur.Rows, memberRow{f[0], f[1], f[2], f[3], f[4], f[5]})
		}
	}
	return tables
}

// membersOnce runs `gomcat members --once` in ns on the default group, bound
// to ns's address, with extra flags, and returns its one table.
func membersOnce(t testing.TB, ns *NS, extra ...string) (memberTable, string) {
	t.Helper()
	args := append([]string{"members", "--once", "--wait", "2s",
		"--mcast-address", mcastGroup, "--mcast-port", strconv.Itoa(mcastPort),
		"--mcast-bind", ns.Addr.String()}, extra...)
	out, err := RunGomcat(t, ns, nil, args...)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	tables := parseMemberTables(out)
	if len(tables) != 1 {
		t.Fatalf("gomcat members --once printed %d tables, want 1:\n%s", len(tables), out)
	}
	return tables[0], out
}

// rowsNamed returns the rows of tb for member name.
func (tb memberTable) rowsNamed(name string) []memberRow {
	var out []memberRow
	for _, r := range tb.Rows {
		if r.Name == name {
			out = append(out, r)
		}
	}
	return out
}

// names returns the member names of tb, sorted.
func (tb memberTable) names() []string {
	var out []string
	for _, r := range tb.Rows {
		out = append(out, r.Name)
	}
	sort.Strings(out)
	return out
}

// clockTicks is USER_HZ, the unit of utime and stime in /proc/PID/stat
// (100 on every Linux architecture Go supports).
const clockTicks = 100

// procCPU returns the user + system CPU time pid has used so far.
func procCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')') // comm may hold spaces and parentheses
	if i < 0 {
		return 0, fmt.Errorf("/proc/%d/stat: no ')': %q", pid, s)
	}
	f := strings.Fields(s[i+1:]) // f[0] is field 3 (state)
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f))
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64) // field 14
	st, err2 := strconv.ParseInt(f[12], 10, 64) // field 15
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("/proc/%d/stat: utime %q stime %q", pid, f[11], f[12])
	}
	return time.Duration(ut+st) * time.Second / clockTicks, nil
}

// joinGroup opens a UDP socket in ns joined to the default group on ns's
// eth0, for reading heartbeats raw.
func joinGroup(t testing.TB, ns *NS) *net.UDPConn {
	t.Helper()
	group := &net.UDPAddr{IP: net.ParseIP(mcastGroup), Port: mcastPort}
	var c *net.UDPConn
	err := ns.Do(func() error {
		ifi, err := net.InterfaceByName(nodeIf)
		if err != nil {
			return err
		}
		c, err = net.ListenMulticastUDP("udp4", ifi, group)
		return err
	})
	if err != nil {
		t.Fatalf("%s: join %s: %v", ns, group, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// readHeartbeat returns the next datagram from src (an IPv4 address) on c.
func readHeartbeat(t testing.TB, c *net.UDPConn, src string, timeout time.Duration) []byte {
	t.Helper()
	buf := make([]byte, 64<<10)
	deadline := time.Now().Add(timeout)
	c.SetReadDeadline(deadline)
	for {
		n, from, err := c.ReadFromUDP(buf)
		if err != nil {
			t.Fatalf("no heartbeat from %s within %s: %v", src, timeout, err)
		}
		if from.IP.String() == src {
			return append([]byte(nil), buf[:n]...)
		}
	}
}

// durations summarises samples: median, min, max, formatted.
func durations(ds []time.Duration) (median, lo, hi time.Duration) {
	if len(ds) == 0 {
		return 0, 0, 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	if len(s)%2 == 1 {
		median = s[len(s)/2]
	} else {
		median = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return median, s[0], s[len(s)-1]
}

// ms formats d in milliseconds.
func ms(d time.Duration) string { return strconv.FormatInt(d.Milliseconds(), 10) + "ms" }

// plainBinary builds ./cmd/gomcat without -race into the test's temporary
// directory, for CPU figures that describe the product rather than the race
// detector.
func plainBinary(t testing.TB) string {
	t.Helper()
	Binary(t)
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "gomcat")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, goTool(), "build", "-o", out, "./cmd/gomcat")
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/gomcat: %v: %s", err, b)
	}
	return out
}

// startWith starts n with another gomcat binary (same home and flags).
func (n *Node) startWith(t testing.TB, bin string) {
	t.Helper()
	n.start(t, append([]string{bin, "start", "--home", n.Home}, n.opts.StartArgs...)...)
}
