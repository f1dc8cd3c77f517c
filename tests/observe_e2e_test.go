//go:build e2e

package e2e

import (
	"encoding/json"
	"net"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Observability (issue 12): three nodes and `gomcat balancer`, each node's
// admin listener on its namespace's loopback (the default gomcat init
// writes: 127.0.0.1:HTTP+1000), reached through a forward from the host's
// loopback. The metrics move with the scenario (sets on node1 → deltas sent
// on node1 and received on node2; node3's join → a state transfer with its
// duration and session count; an expire through `gomcat sessions` →
// replicated; kill -9 → member state), promtool accepts real output, and
// headless Chromium renders the node's and the balancer's status pages,
// whose members and counts are asserted and screenshotted.
func TestObservability(t *testing.T) {
	t.Parallel()
	nt := NewNet(t, 5) // 0, 1, 2: nodes; 3: balancer; 4: client
	nodes := balStartNodes(t, nt.NS[0], nt.NS[1])
	n1, n2 := nodes["node1"], nodes["node2"]
	client := nt.NS[4]
	adminAddr := "127.0.0.1:" + strconv.Itoa(DefaultHTTPPort+1000)
	a1, a2 := obsForward(t, n1.NS, adminAddr), obsForward(t, n2.NS, adminAddr)
	obsWaitMetric(t, a1, "node1 ready", func(v float64) bool { return v == 1 }, "gomcat_node_ready")

	// Five sessions set through node1, one attribute each.
	const sessions = 5
	app1 := "http://" + net.JoinHostPort(n1.NS.Addr.String(), strconv.Itoa(n1.HTTPPort))
	var ids []string
	for i := range sessions {
		c := client.HTTPClient(true)
		code, body := Get(t, c, app1+"/set?k=color&v=blue"+strconv.Itoa(i))
		if code != 200 || !strings.HasPrefix(body, "ok ") {
			t.Fatalf("/set %d: %d %q", i, code, body)
		}
		ids = append(ids, strings.TrimPrefix(body, "ok "))
		c.CloseIdleConnections()
	}
	sent := obsWaitMetric(t, a1, "node1 sent the deltas", func(v float64) bool { return v >= sessions },
		"gomcat_replication_messages_sent_total", `context="/"`, `kind="session_delta"`)
	recv := obsWaitMetric(t, a2, "node2 received the deltas", func(v float64) bool { return v >= sessions },
		"gomcat_replication_messages_received_total", `context="/"`, `kind="session_delta"`)
	obsWaitMetric(t, a2, "node2 holds the sessions", func(v float64) bool { return v == sessions }, "gomcat_sessions_active", `context="/"`)
	m1 := obsScrape(t, a1)
	if v, _ := obsValue(m1, "gomcat_http_requests_total", `context="/"`, `code="200"`); v < sessions {
		t.Errorf("node1 gomcat_http_requests_total{code=200} = %v, want >= %d", v, sessions)
	}
	t.Logf("deltas: node1 sent %v, node2 received %v", sent, recv)

	// node3 joins: its state transfer brings the five sessions.
	n3 := StartNode(t, nt.NS[2], NodeOptions{Route: "node3"})
	a3 := obsForward(t, n3.NS, adminAddr)
	m3 := obsScrape(t, a3)
	if v, _ := obsValue(m3, "gomcat_state_transfers_total", `result="completed"`); v != 1 {
		t.Errorf("node3 state transfers completed = %v, want 1", v)
	}
	if v, _ := obsValue(m3, "gomcat_state_transfer_sessions", `context="/"`); v != sessions {
		t.Errorf("node3 last state transfer sessions = %v, want %d", v, sessions)
	}
	if v, ok := obsValue(m3, "gomcat_state_transfer_duration_seconds", `context="/"`); !ok || v <= 0 {
		t.Errorf("node3 state transfer duration = %v (%v), want > 0", v, ok)
	}
	obsWaitMetric(t, a1, "node1 sees two live members", func(v float64) bool { return v == 2 }, "gomcat_cluster_members", `state="live"`)

	// The balancer, discovering the nodes by their heartbeats.
	lbNS := nt.NS[3]
	listen := net.JoinHostPort(lbNS.Addr.String(), strconv.Itoa(balFrontPort))
	lbAdmin := net.JoinHostPort(lbNS.Addr.String(), strconv.Itoa(balFrontPort+1))
	lb := StartGomcat(t, lbNS, "balancer", nil, "balancer", "--listen", listen, "--admin", lbAdmin,
		"--home", n1.Home, "--mcast-bind", lbNS.Addr.String(), "--log-format", "json")
	lb.WaitLog(t, `"message":"balancer started"`, 30*time.Second)
	balWaitLive(t, client, "http://"+lbAdmin, 3)
	ab := obsForward(t, lbNS, lbAdmin)
	for i := range 6 {
		c := client.HTTPClient(true)
		if code, body := Get(t, c, "http://"+listen+"/node"); code != 200 {
			t.Fatalf("balancer request %d: %d %q", i, code, body)
		}
		c.CloseIdleConnections()
	}
	mb := obsScrape(t, ab)
	if v, _ := obsValue(mb, "gomcat_balancer_responses_total", `code="200"`); v < 6 {
		t.Errorf("balancer 200 responses = %v, want >= 6", v)
	}
	if v, _ := obsValue(mb, "gomcat_balancer_nodes_live"); v != 3 {
		t.Errorf("balancer live nodes = %v, want 3", v)
	}
	obsPromtool(t, "node1's /metrics", obsScrape(t, a1))
	obsPromtool(t, "the balancer's /metrics", mb)

	// The node's status page in Chromium: members, sessions, the JSON agrees.
	browser := obsBrowser(t)
	var st struct {
		Members  []struct{ Name, State string }
		Contexts []struct{ Sessions int }
	}
	_, js := Get(t, plainClient(), a1+"/status?format=json")
	if err := json.Unmarshal([]byte(js), &st); err != nil {
		t.Fatalf("node1 status JSON: %v\n%s", err, js)
	}
	var page struct {
		Node, Sessions, Transfer string
		Members, Live            int
	}
	obsPage(t, browser, a1+"/", "node1-status.png", `({
		node: document.getElementById("node").textContent,
		members: document.querySelectorAll("tr.member").length,
		live: document.querySelectorAll("tr.member[data-state=live]").length,
		sessions: document.getElementById("sessions-total").textContent,
		transfer: document.getElementById("transfer").textContent,
	})`, &page)
	if page.Node != "node1" || page.Members != 3 || page.Live != 2 || len(st.Members) != 3 {
		t.Errorf("node1 page: %+v, JSON %d members; want node1, 3 member rows (2 live)", page, len(st.Members))
	}
	if n, _ := strconv.Atoi(page.Sessions); n < sessions || len(st.Contexts) == 0 || n != st.Contexts[0].Sessions {
		t.Errorf("node1 page: %q sessions, JSON %+v; want >= %d and equal", page.Sessions, st.Contexts, sessions)
	}
	var p3 struct{ Transfer string }
	obsPage(t, browser, a3+"/", "node3-status.png", `({transfer: document.getElementById("transfer").textContent})`, &p3)
	if !regexp.MustCompile(`context /: 5 sessions in \d+ ms`).MatchString(p3.Transfer) {
		t.Errorf("node3 page, last state transfer: %q", p3.Transfer)
	}

	// Expire one session with `gomcat sessions` on node1: node2 drops it too.
	out, err := n1.Gomcat(t, "sessions", "--home", n1.Home)
	if err != nil || !strings.Contains(out, ids[0]) || !strings.Contains(out, "primary") {
		t.Fatalf("gomcat sessions: %v\n%s", err, out)
	}
	if out, err := n1.Gomcat(t, "sessions", "--home", n1.Home, "expire", ids[0]); err != nil {
		t.Fatalf("gomcat sessions expire: %v\n%s", err, out)
	}
	obsWaitMetric(t, a2, "node2 got the expiry", func(v float64) bool { return v >= 1 },
		"gomcat_replication_messages_received_total", `kind="session_expired"`)
	if _, body := Get(t, plainClient(), a2+"/manager/text/sessions?path=/"); strings.Contains(body, ids[0]) {
		t.Errorf("node2 still lists the expired session:\n%s", body)
	}

	// kill -9 node3: node1 counts it gone, the balancer marks it down.
	n3.Kill(t)
	obsWaitMetric(t, a1, "node1 drops node3", func(v float64) bool { return v == 1 }, "gomcat_cluster_members", `state="live"`)
	obsWaitMetric(t, a1, "a disappeared event", func(v float64) bool { return v >= 1 }, "gomcat_cluster_membership_events_total", `event="disappeared"`)
	obsWaitMetric(t, ab, "the balancer marks node3 down", func(v float64) bool { return v == 1 }, "gomcat_balancer_node_state", `node="node3"`, `state="down"`)
	var lbp struct {
		Rows, Live int
		Node3      string
	}
	obsPage(t, browser, ab+"/status?format=html", "balancer-status.png", `({
		rows: document.querySelectorAll("tr.node").length,
		live: Number(document.getElementById("nodes-live").textContent),
		node3: document.querySelector("tr.node[data-name=node3]").dataset.state,
	})`, &lbp)
	lbRows, lbLive, n3state := lbp.Rows, lbp.Live, lbp.Node3
	if lbRows != 3 || lbLive != 2 || n3state != "down" {
		t.Errorf("balancer page: %d rows, %d live, node3 %q; want 3, 2, down", lbRows, lbLive, n3state)
	}
}
