//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// bkManagerRE is the <Manager> element gomcat init writes.
var bkManagerRE = regexp.MustCompile(`(?s)<Manager className="org\.apache\.catalina\.ha\.session\.(?:Delta|Backup)Manager".*?/>`)

// bkUseBackupManager rewrites n's <Manager> into a BackupManager keeping
// backups copies of each session.
func bkUseBackupManager(t *testing.T, n *Node, backups int) {
	t.Helper()
	p := filepath.Join(n.Home, "conf", "server.xml")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	m := fmt.Sprintf(`<Manager className="org.apache.catalina.ha.session.BackupManager" backups="%d" rpcTimeout="5000"/>`, backups)
	out := bkManagerRE.ReplaceAll(b, []byte(m))
	if string(out) == string(b) {
		t.Fatalf("%s: no <Manager> element to replace", p)
	}
	if err := os.WriteFile(p, out, 0o644); err != nil {
		t.Fatal(err)
	}
}

// bkStartAll starts the nodes at once and waits for each.
func bkStartAll(t *testing.T, nodes []*Node) {
	t.Helper()
	for _, n := range nodes {
		n.Start(t)
	}
	for _, n := range nodes {
		n.WaitStarted(t)
	}
}

// bkAdmin GETs path from n's loopback-only admin listener.
func bkAdmin(t *testing.T, n *Node, path string) string {
	t.Helper()
	c := n.NS.HTTPClient(false)
	defer c.CloseIdleConnections()
	code, body := Get(t, c, "http://127.0.0.1:9080"+path)
	if code != 200 {
		t.Fatalf("%s %s: %d %q", n.Route, path, code, body)
	}
	return body
}

// bkMetric is the sum of a /metrics series of n.
func bkMetric(t *testing.T, n *Node, name string, labels ...string) float64 {
	t.Helper()
	v, _ := obsValue(bkAdmin(t, n, "/metrics")+"\n", name, labels...)
	return v
}

// bkLost sums the lost-sessions counters of the nodes.
func bkLost(t *testing.T, nodes []*Node) int {
	t.Helper()
	sum := 0.0
	for _, n := range nodes {
		sum += bkMetric(t, n, "gomcat_sessions_lost_total")
	}
	return int(sum)
}

// bkHolders maps each session's base id to the nodes holding its value,
// primary first, as the nodes' /manager lists say.
func bkHolders(t *testing.T, nodes []*Node) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, n := range nodes {
		var infos []struct {
			ID   string `json:"id"`
			Role string `json:"role"`
		}
		if err := json.Unmarshal([]byte(bkAdmin(t, n, "/manager/json/sessions?path=/")), &infos); err != nil {
			t.Fatalf("%s: sessions: %v", n.Route, err)
		}
		for _, si := range infos {
			base, _, _ := strings.Cut(si.ID, ".")
			if si.Role == "primary" {
				out[base] = append([]string{n.Route}, out[base]...)
			} else {
				out[base] = append(out[base], n.Route)
			}
		}
	}
	return out
}

// bkWaitCopies waits until every session the nodes list is held by
// exactly copies nodes (its primary and its backups), want among them.
func bkWaitCopies(t *testing.T, nodes []*Node, want []string, copies int) map[string][]string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		h, bad := bkHolders(t, nodes), ""
		for _, id := range want {
			if _, ok := h[id]; !ok {
				bad = id + " held nowhere"
			}
		}
		for id, hs := range h {
			if len(hs) != copies {
				bad = fmt.Sprintf("%s held by %v", id, hs)
			}
		}
		if bad == "" {
			return h
		}
		if time.Now().After(deadline) {
			t.Fatalf("not %d copies of every session after 30 s: %s", copies, bad)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// bkUser is one session created through the balancer.
type bkUser struct {
	c    *http.Client
	base string
	v    string
}

func bkUsers(t *testing.T, client *NS, front string, n int, tag string) []*bkUser {
	t.Helper()
	var us []*bkUser
	for i := range n {
		u := &bkUser{c: client.HTTPClientJar(NewClusterJar()), v: fmt.Sprintf("%s%d", tag, i)}
		u.c.Timeout = 15 * time.Second
		t.Cleanup(u.c.CloseIdleConnections)
		code, body := Get(t, u.c, front+"/set?k=v&v="+u.v)
		if code != 200 || !strings.HasPrefix(body, "ok ") {
			t.Fatalf("user %s: /set: %d %q", u.v, code, body)
		}
		u.base, _, _ = strings.Cut(strings.TrimPrefix(body, "ok "), ".")
		us = append(us, u)
	}
	return us
}

func bkBases(us []*bkUser) []string {
	var out []string
	for _, u := range us {
		out = append(out, u.base)
	}
	return out
}

// bkPair picks two running nodes that together hold every copy of the
// most sessions, and returns them with those sessions.
func bkPair(h map[string][]string, running []*Node) (a, b *Node, doomed []string) {
	for i, x := range running {
		for _, y := range running[i+1:] {
			var d []string
			for id, hs := range h {
				if !slices.ContainsFunc(hs, func(r string) bool { return r != x.Route && r != y.Route }) {
					d = append(d, id)
				}
			}
			if len(d) > len(doomed) {
				a, b, doomed = x, y, d
			}
		}
	}
	return a, b, doomed
}

func bkKillTwo(t *testing.T, a, b *Node) {
	t.Helper()
	a.Signal(t, syscall.SIGKILL)
	b.Signal(t, syscall.SIGKILL)
	a.Wait(t, 10*time.Second)
	b.Wait(t, 10*time.Second)
}

func bkWithout(nodes []*Node, gone ...*Node) []*Node {
	var out []*Node
	for _, n := range nodes {
		if !slices.Contains(gone, n) {
			out = append(out, n)
		}
	}
	return out
}

// TestBackupManager8Nodes: 8 nodes with <Manager className="BackupManager">
// behind the gomcat balancer (sticky). Sessions spread over every node as
// primaries and as backups; a node killed -9 under a bounded load loses no
// session and fails no request (the balancer retries idempotent GETs, the
// survivors fetch the sessions from their backups); with backups=1 two
// nodes killed at once that were the only holders of some sessions: those
// are counted lost (gomcat_sessions_lost_total), every other session keeps
// its value; with backups=2 the same kill loses nothing.
func TestBackupManager8Nodes(t *testing.T) {
	t.Parallel()
	const size = 8
	nt := NewNet(t, size+2) // 0-7 nodes, 8 balancer, 9 client
	nodes := make([]*Node, size)
	backends := []string{}
	for i := range nodes {
		nodes[i] = InitNode(t, nt.NS[i], NodeOptions{})
		bkUseBackupManager(t, nodes[i], 1)
		backends = append(backends, "--backend", fmt.Sprintf("%s=http://%s", nodes[i].Route, net.JoinHostPort(nt.NS[i].Addr.String(), strconv.Itoa(DefaultHTTPPort))))
	}
	bkStartAll(t, nodes)
	lbNS, client := nt.NS[size], nt.NS[size+1]
	listen := net.JoinHostPort(lbNS.Addr.String(), strconv.Itoa(balFrontPort))
	admin := net.JoinHostPort(lbNS.Addr.String(), strconv.Itoa(balFrontPort+1))
	lb := StartGomcat(t, lbNS, "balancer", nil, append([]string{"balancer", "--listen", listen, "--admin", admin,
		"--health-path", "/node", "--health-interval", "250ms", "--log-format", "json"}, backends...)...)
	lb.WaitLog(t, `"message":"balancer started"`, 30*time.Second)
	balWaitLive(t, client, "http://"+admin, size)
	front := "http://" + listen
	for _, n := range nodes {
		waitFor(t, 30*time.Second, n.Route+" to see 7 map members", func() bool {
			return n.CountLog(`Replication member added`) >= size-1
		})
	}

	var users []*bkUser
	t.Run("spread", func(t *testing.T) {
		users = bkUsers(t, client, front, 48, "a")
		h := bkWaitCopies(t, nodes, bkBases(users), 2)
		primaries, backups := map[string]int{}, map[string]int{}
		for _, hs := range h {
			primaries[hs[0]]++
			backups[hs[1]]++
		}
		for _, n := range nodes {
			if primaries[n.Route] == 0 || backups[n.Route] == 0 {
				t.Errorf("%s is primary of %d and backup of %d sessions; want both > 0 (primaries %v, backups %v)",
					n.Route, primaries[n.Route], backups[n.Route], primaries, backups)
			}
			// What /metrics says agrees with the lists.
			if v := bkMetric(t, n, "gomcat_sessions_role", `role="primary"`); int(v) != primaries[n.Route] {
				t.Errorf("%s: gomcat_sessions_role{role=primary} %v, the list says %d", n.Route, v, primaries[n.Route])
			}
		}
		t.Logf("primaries %v, backups %v", primaries, backups)
	})
	if t.Failed() {
		return
	}

	running := nodes
	t.Run("kill one under load", func(t *testing.T) {
		load := startLoad(t, client, front, 8, true)
		load.waitRounds(t, 100)
		// The victim is the primary of a loaded session (ids carry the
		// creating node's route; nothing has failed over yet).
		_, route, _ := strings.Cut(load.users[0].id, ".")
		victim := nodes[slices.IndexFunc(nodes, func(n *Node) bool { return n.Route == route })]
		running = bkWithout(nodes, victim)
		m := running[0].LogMark()
		victim.Kill(t)
		t.Logf("%s killed -9 after %d rounds", victim.Route, load.count())
		// Requests before the members notice the death (the survivors
		// fetch from the backups) and after the relocation.
		load.waitRounds(t, 50)
		running[0].WaitLogAfter(t, m, `Relocation of map entries was complete in \[\d+\] ms`, 30*time.Second)
		load.waitRounds(t, 100)
		rounds, lost, failed := load.stop()
		t.Logf("load: %d rounds of /set + /get by 8 users, %d lost, %d failed requests", rounds, len(lost), len(failed))
		if len(lost) > 0 {
			t.Errorf("%d sessions lost or stale, e.g. %q", len(lost), lost[:min(len(lost), 5)])
		}
		if len(failed) > 0 {
			t.Errorf("%d requests failed, e.g. %q", len(failed), failed[:min(len(failed), 5)])
		}
		if n := bkLost(t, running); n != 0 {
			t.Errorf("%d sessions counted lost after one death", n)
		}
	})
	if t.Failed() {
		return
	}

	t.Run("kill two backups=1", func(t *testing.T) {
		h := bkWaitCopies(t, running, bkBases(users), 2)
		a, b, doomed := bkPair(h, running)
		if len(doomed) == 0 {
			t.Fatalf("no two nodes hold every copy of a session: %v", h)
		}
		t.Logf("killing %s and %s at once: %d sessions have no other copy", a.Route, b.Route, len(doomed))
		bkKillTwo(t, a, b)
		running = bkWithout(running, a, b)
		waitFor(t, 30*time.Second, fmt.Sprintf("%d sessions counted lost", len(doomed)), func() bool {
			return bkLost(t, running) >= len(doomed)
		})
		if n := bkLost(t, running); n != len(doomed) {
			t.Errorf("%d sessions counted lost, want %d", n, len(doomed))
		}
		for _, u := range users {
			code, body := Get(t, u.c, front+"/get?k=v")
			switch {
			case slices.Contains(doomed, u.base):
				if code != 404 {
					t.Errorf("doomed session %s: %d %q, want 404", u.base, code, body)
				}
			case code != 200 || body != u.v:
				t.Errorf("session %s: %d %q, want %q", u.base, code, body, u.v)
			}
		}
	})
	if t.Failed() {
		return
	}

	t.Run("kill two backups=2", func(t *testing.T) {
		for _, n := range running {
			n.Stop(t)
		}
		for _, n := range nodes {
			bkUseBackupManager(t, n, 2)
		}
		bkStartAll(t, nodes)
		balWaitLive(t, client, "http://"+admin, size)
		users := bkUsers(t, client, front, 32, "b")
		h := bkWaitCopies(t, nodes, bkBases(users), 3)
		// Two nodes that are primary and backup of one session.
		var a, b *Node
		for _, hs := range h {
			for _, n := range nodes {
				switch n.Route {
				case hs[0]:
					a = n
				case hs[1]:
					b = n
				}
			}
			break
		}
		t.Logf("killing %s and %s at once (backups=2)", a.Route, b.Route)
		m := nodes[0].LogMark()
		if nodes[0] == a || nodes[0] == b {
			m = bkWithout(nodes, a, b)[0].LogMark()
		}
		bkKillTwo(t, a, b)
		running = bkWithout(nodes, a, b)
		running[0].WaitLogAfter(t, m, `Relocation of map entries was complete in \[\d+\] ms`, 30*time.Second)
		for _, u := range users {
			if code, body := Get(t, u.c, front+"/get?k=v"); code != 200 || body != u.v {
				t.Errorf("session %s: %d %q, want %q", u.base, code, body, u.v)
			}
		}
		if n := bkLost(t, running); n != 0 {
			t.Errorf("%d sessions counted lost with backups=2", n)
		}
	})
}
