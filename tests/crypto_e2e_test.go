//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Cluster keys (issue 11): a node off loopback needs one, a running cluster
// rotates them without losing a write, and a recorded sealed connection
// opens nowhere else.

// A node whose membership is bound to its namespace's address and that has
// no key exits non-zero at once, saying how to make one; with the explicit
// opt-in it starts and warns.
func TestKeyRequiredOffLoopback(t *testing.T) {
	t.Parallel()
	nt := NewNet(t, 1)
	n := InitNode(t, nt.NS[0], NodeOptions{Env: []string{"GOMCAT_CLUSTER_KEY="}})
	n.Start(t)
	if code := n.Wait(t, 30*time.Second); code <= 0 {
		t.Fatalf("a node off loopback without a key exited %d, want > 0", code)
	}
	for _, want := range []string{"no cluster key", "membership bound to " + nt.NS[0].Addr.String(), "gomcat keygen", "--insecure-cluster"} {
		if n.CountLog(regexp.QuoteMeta(want)) == 0 {
			t.Errorf("refusal does not say %q:\n%s", want, n.Log())
		}
	}
	if n.CountLog(`Server startup in`) != 0 {
		t.Fatalf("the node started")
	}
	out, err := n.Gomcat(t, "configtest", "--home", n.Home)
	if err == nil || !strings.Contains(out, "gomcat keygen") {
		t.Errorf("configtest: %v\n%s", err, out)
	}
	mark := n.LogMark()
	n.opts.StartArgs = []string{"--insecure-cluster"}
	n.Start(t)
	n.WaitStarted(t)
	n.WaitLogAfter(t, mark, `WITHOUT a key by explicit opt-in`, 5*time.Second)
}

// replayerBin builds ./tests/replayer with -race into dir.
func replayerBin(t *testing.T) string {
	t.Helper()
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "replayer")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, goTool(), "build", "-race", "-tags", "e2e", "-o", out, "./tests/replayer")
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./tests/replayer: %v: %s", err, b)
	}
	return out
}

// uniqueIDOf reads n's unique id from the line a peer logged when it added n.
func uniqueIDOf(t *testing.T, peer, n *Node) string {
	t.Helper()
	line := peer.WaitLog(t, addedRE(n), 15*time.Second)
	m := regexp.MustCompile(`,id=([0-9a-f]{32}),`).FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("no unique id in %q", line)
	}
	return m[1]
}

// A sealed connection, recorded on its way from node1's address to node2
// (the attacker holds node1's name, unique id and the key: an insider's
// view), is replayed verbatim on a new connection to node2, to node3 and to
// node2 after a restart: every replay is refused at its first frame and
// counted, and the nodes keep replicating.
func TestSealedReplayRefused(t *testing.T) {
	t.Parallel()
	nt := NewNet(t, 3)
	bin := replayerBin(t)
	var nodes []*Node
	for i := range 3 {
		nodes = append(nodes, InitNode(t, nt.NS[i], NodeOptions{}))
	}
	for _, n := range nodes {
		n.Start(t)
	}
	for _, n := range nodes {
		n.WaitStarted(t)
	}
	waitMesh(t, nodes, nil, 20*time.Second)
	n1, n2, n3 := nodes[0], nodes[1], nodes[2]
	id1 := uniqueIDOf(t, n2, n1)
	rec := filepath.Join(t.TempDir(), "conn.bin")
	recv := func(n *Node) string { return fmt.Sprintf("%s:%d", n.NS.Addr, n.ReceiverPort) }

	p := StartCommand(t, n1.NS, "record", nil, bin, "record", "--to", recv(n2), "--key", E2EClusterKey,
		"--name", n1.Route, "--id", id1, "--out", rec, "--count", "5")
	line := p.WaitLog(t, `^RECORDED `, 30*time.Second)
	var bytes, acked int
	if _, err := fmt.Sscanf(line, "RECORDED bytes=%d acked=%d", &bytes, &acked); err != nil || acked != 5 || bytes == 0 {
		t.Fatalf("recording: %q (%v): the recorded connection must have been accepted", line, err)
	}
	replay := func(label string, to *Node, mark int) {
		t.Helper()
		p := StartCommand(t, n1.NS, label, nil, bin, "replay", "--to", recv(to), "--in", rec)
		if l := p.WaitLog(t, `^REPLAYED `, 20*time.Second); !strings.Contains(l, "closed=true") {
			t.Errorf("%s: the receiver did not close the replayed connection: %s", label, l)
		}
		to.WaitLogAfter(t, mark, `closing connection .*does not open with the cluster key.*seal_errors=[1-9]`, 10*time.Second)
	}
	replay("replay-same-node", n2, n2.LogMark())
	replay("replay-other-node", n3, n3.LogMark())

	n2.Stop(t)
	if code := n2.Wait(t, 30*time.Second); code != 0 {
		t.Fatalf("node2 stop: exit %d", code)
	}
	mark := n2.LogMark()
	n2.Start(t)
	n2.WaitStarted(t)
	replay("replay-restarted", n2, mark)
	if n := n2.CountLog(`seal_errors=1 `) + n3.CountLog(`seal_errors=1 `); n < 2 {
		t.Errorf("replays not counted (seal_errors=1 on node3 and on the restarted node2): %d lines", n)
	}
	// The cluster still replicates: a write on node1 reads back on node2.
	c := nt.NS[2].HTTPClient(false)
	defer c.CloseIdleConnections()
	waitMembers(t, n1, n2)
	id := setNew(t, c, n1, "after", "replay")
	if !poll(10*time.Second, func() bool {
		r, err := doSession(c, n3.URL("/get?k=after"), id)
		return err == nil && r.Code == 200 && r.Body == "replay"
	}) {
		t.Errorf("node3 lost replication after the replays")
	}
}

// Three nodes with a key file rotate to a new key while a client writes
// sessions (sync replication: a response means every member has the
// change): add, promote, retire, each step copied to every node and applied
// by SIGHUP. No member is lost, nothing fails to open, and every session
// written before, during and after the rotation reads back on every node.
func TestKeyRotationUnderLoad(t *testing.T) {
	t.Parallel()
	nt := NewNet(t, 4)
	var nodes []*Node
	for i := range 3 {
		nodes = append(nodes, InitNode(t, nt.NS[i], NodeOptions{InitArgs: []string{"--cluster-key-file", "conf/cluster.key"}}))
	}
	keyFile := func(n *Node) string { return filepath.Join(n.Home, "conf", "cluster.key") }
	if out, err := nodes[0].Gomcat(t, "keygen", keyFile(nodes[0])); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	distribute := func() {
		t.Helper()
		b, err := os.ReadFile(keyFile(nodes[0]))
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range nodes[1:] {
			tmp := keyFile(n) + ".new"
			if err := os.WriteFile(tmp, b, 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Rename(tmp, keyFile(n)); err != nil {
				t.Fatal(err)
			}
		}
	}
	distribute()
	for _, n := range nodes {
		setSendOptions(t, n, sendSync)
		// Reads of another node's session must not rename it: take the
		// JvmRouteBinderValve out, so a read is only a read.
		replaceInFile(t, n, "conf/server.xml", `<Valve className="org.apache.catalina.ha.session.JvmRouteBinderValve"/>`, "")
	}
	for _, n := range nodes {
		n.Start(t)
	}
	for _, n := range nodes {
		n.WaitStarted(t)
	}
	waitMesh(t, nodes, nil, 20*time.Second)
	marks := make([]int, len(nodes))
	for i, n := range nodes {
		marks[i] = n.LogMark()
	}

	// The load: one client, sessions created round-robin on the three
	// nodes, bounded in count and time.
	type write struct{ id, v string }
	var (
		mu     sync.Mutex
		writes []write
		fails  []string
	)
	stop := make(chan struct{})
	done := make(chan struct{})
	c := nt.NS[3].HTTPClient(false)
	defer c.CloseIdleConnections()
	go func() {
		defer close(done)
		deadline := time.Now().Add(90 * time.Second)
		for i := 0; i < 3000 && time.Now().Before(deadline); i++ {
			select {
			case <-stop:
				return
			default:
			}
			n := nodes[i%3]
			v := strconv.Itoa(i)
			r, err := doSession(c, n.URL("/set?k=w&v="+v), "")
			id, ok := strings.CutPrefix(r.Body, "ok ")
			mu.Lock()
			if err != nil || r.Code != 200 || !ok {
				fails = append(fails, fmt.Sprintf("%s /set %s: %d %q %v", n.Route, v, r.Code, r.Body, err))
			} else {
				writes = append(writes, write{id, v})
			}
			mu.Unlock()
			time.Sleep(5 * time.Millisecond)
		}
	}()
	written := func() int { mu.Lock(); defer mu.Unlock(); return len(writes) }
	waitFor(t, 20*time.Second, "writes before the rotation", func() bool { return written() >= 30 })

	step := func(flag string) {
		t.Helper()
		if out, err := nodes[0].Gomcat(t, "keygen", flag, keyFile(nodes[0])); err != nil {
			t.Fatalf("keygen %s: %v\n%s", flag, err, out)
		}
		distribute()
		before := written()
		for _, n := range nodes {
			mark := n.LogMark()
			n.Signal(t, syscall.SIGHUP)
			n.WaitLogAfter(t, mark, `cluster keys reloaded`, 10*time.Second)
		}
		// Let writes flow under the new state of every node.
		waitFor(t, 20*time.Second, "writes after "+flag, func() bool { return written() >= before+30 })
	}
	step("--add")
	step("--promote")
	step("--retire")
	close(stop)
	<-done

	mu.Lock()
	defer mu.Unlock()
	for _, f := range fails {
		t.Errorf("write failed during the rotation: %s", f)
	}
	for i, n := range nodes {
		for _, re := range []string{anyGoneRE, `does not open with the cluster key`, `not reloaded`} {
			if l := linesAfter(n.Proc, marks[i], re); len(l) > 0 {
				t.Errorf("%s during the rotation: %v", n.Route, l)
			}
		}
	}
	lost := 0
	for _, w := range writes {
		for _, n := range nodes {
			r := getSession(t, c, n.URL("/get?k=w"), w.id)
			if r.Code != 200 || r.Body != w.v {
				lost++
				t.Errorf("%s: session %s reads %d %q, want %q", n.Route, w.id, r.Code, r.Body, w.v)
			}
		}
	}
	t.Logf("rotation under load: %d sessions written (%d failed), each read on 3 nodes: %d missing", len(writes), len(fails), lost)
}
