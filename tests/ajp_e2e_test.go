//go:build e2e

package e2e

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// AJP/1.3 front ends (issue 15): real gomcat nodes with an AJP connector
// (secret required, bound to the node's address) behind Apache httpd with
// mod_jk (workers.properties and httpd.conf from `gomcat lbconfig modjk`)
// and with mod_proxy_ajp (`gomcat lbconfig httpd --ajp`), both validated
// with apache2 -t. The same sticky-session scenario as the HTTP front ends
// (kill -9 of the session's node, the session found on the other with its
// route rewritten), plus request bodies (POST, chunked), a large response,
// keep-alive reuse (the nodes' /metrics) and CPing (the AJP connector's
// stop line counts them),
// and a wrong or missing secret refused with 403.

const ajpPort = 8009
const ajpSecret = "e2e-ajp-Secret_1"

func TestAJPFrontEnds(t *testing.T) {
	for _, kind := range []string{"modjk", "proxy_ajp"} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			bin := balServer(t, "apache2")
			if _, err := os.Stat("/usr/lib/apache2/modules/mod_jk.so"); err != nil && kind == "modjk" {
				skipOrFail(t, "e2e: mod_jk is not installed (apt-get install libapache2-mod-jk)")
			}
			nt := NewNet(t, 4) // 0, 1: nodes; 2: httpd; 3: client
			nodes := ajpStartNodes(t, nt.NS[0], nt.NS[1])
			feNS, client := nt.NS[2], nt.NS[3]
			dir, conf := ajpLBConfig(t, feNS, kind, nodes, "--home", nodes["node1"].Home, "--home", nodes["node2"].Home)
			b, _ := os.ReadFile(conf)
			if kind == "modjk" {
				b, _ = os.ReadFile(filepath.Join(dir, "workers.properties"))
			}
			for _, n := range nodes {
				want := []string{fmt.Sprintf(`BalancerMember "ajp://%s:%d" route=%s secret=%s`, n.NS.Addr, ajpPort, n.Route, ajpSecret)}
				if kind == "modjk" {
					want = []string{"worker." + n.Route + ".host=" + n.NS.Addr.String(), "worker." + n.Route + ".route=" + n.Route,
						"worker." + n.Route + ".secret=" + ajpSecret, "worker.gomcat.sticky_session=true"}
				}
				for _, w := range want {
					if !strings.Contains(string(b), w) {
						t.Fatalf("%s config lacks %q:\n%s", kind, w, b)
					}
				}
			}
			front := ajpRunHTTPD(t, bin, feNS, dir, conf, balFrontPort)
			ajpBodies(t, client, front)
			ajpReuse(t, client, front, nodes)
			// mod_proxy_ajp does not resend a request that was on its way to
			// the node when it died (mod_jk does): one 500 is logged, not failed.
			tolerate := 0
			if kind == "proxy_ajp" {
				tolerate = 1
			}
			first, other := balStickyFailoverTolerant(t, front, client, nodes, tolerate)
			if kind == "proxy_ajp" {
				ajpSecretRefused(t, bin, feNS, client, nodes[other])
			}
			// Keep-alive and CPing, from the survivor's own count at stop.
			nodes[other].Stop(t)
			line := nodes[other].WaitLog(t, `Stopping ProtocolHandler \["ajp-`, 30*time.Second)
			stat := func(k string) int {
				m := regexp.MustCompile(k + `=([0-9]+)`).FindStringSubmatch(line)
				if m == nil {
					t.Fatalf("no %s in %q", k, line)
				}
				n, _ := strconv.Atoi(m[1])
				return n
			}
			conns, reqs, cpings := stat("connections"), stat("requests"), stat("cpings")
			t.Logf("%s: %s served %d AJP requests on %d connections, %d CPings (%s was killed)", kind, other, reqs, conns, cpings, first)
			if cpings == 0 {
				t.Errorf("no CPing reached %s (%s probes with CPing)", other, kind)
			}
			if kind == "proxy_ajp" && stat("secret_refused") < 2 {
				t.Errorf("secret_refused = %d, want the wrong and the missing secret counted", stat("secret_refused"))
			}
		})
	}
}

// ajpStartNodes starts node1 and node2 with an AJP connector on their
// namespace address (secret required) beside the HTTP one.
func ajpStartNodes(t *testing.T, a, b *NS) map[string]*Node {
	t.Helper()
	nodes := map[string]*Node{}
	for i, ns := range []*NS{a, b} {
		n := InitNode(t, ns, NodeOptions{Route: fmt.Sprintf("node%d", i+1)})
		file := filepath.Join(n.Home, "conf", "server.xml")
		x, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		ajp := fmt.Sprintf("\n    <Connector protocol=\"AJP/1.3\" port=\"%d\" address=\"%s\" secret=\"%s\"/>\n    <Engine ", ajpPort, ns.Addr, ajpSecret)
		x = bytes.Replace(x, []byte("\n    <Engine "), []byte(ajp), 1)
		if err := os.WriteFile(file, x, 0o644); err != nil {
			t.Fatal(err)
		}
		nodes[n.Route] = n
	}
	for _, n := range nodes {
		n.Start(t)
	}
	for _, n := range nodes {
		n.WaitStarted(t)
		n.WaitLog(t, `Starting ProtocolHandler \["ajp-`+strconv.Itoa(ajpPort)+`"\]`, time.Second)
	}
	nodes["node1"].WaitLog(t, `Replication member added: tcp://`+regexp.QuoteMeta(b.Addr.String())+`:[0-9]+,node2`, 20*time.Second)
	nodes["node2"].WaitLog(t, `Replication member added: tcp://`+regexp.QuoteMeta(a.Addr.String())+`:[0-9]+,node1`, 20*time.Second)
	return nodes
}

// ajpLBConfig runs gomcat lbconfig (modjk, or httpd --ajp) in ns with the
// given node flags; pid, logs, shm and workers.properties go into dir.
func ajpLBConfig(t *testing.T, ns *NS, kind string, nodes map[string]*Node, nodeArgs ...string) (dir, conf string) {
	t.Helper()
	dir = t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil { // httpd workers run as nobody
		t.Fatal(err)
	}
	conf = filepath.Join(dir, "httpd.conf")
	args := []string{"lbconfig", "httpd", "--ajp"}
	if kind == "modjk" {
		args = []string{"lbconfig", "modjk"}
	}
	args = append(args, "--listen", net.JoinHostPort(ns.Addr.String(), strconv.Itoa(balFrontPort)),
		"--pid-file", filepath.Join(dir, "httpd.pid"), "--error-log", filepath.Join(dir, "error.log"),
		"--tmp-dir", dir, "--user", "nobody", "--group", balNobodyGroup(), "-o", conf)
	args = append(args, nodeArgs...)
	if out, err := RunGomcat(t, ns, nil, args...); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	return dir, conf
}

// ajpRunHTTPD checks conf with apache2 -t, starts httpd in ns and returns
// the front end's URL once it answers.
func ajpRunHTTPD(t *testing.T, bin string, ns *NS, dir, conf string, port int) string {
	t.Helper()
	if out, err := balExec(ns, bin, "-t", "-f", conf); err != nil {
		t.Fatalf("apache2 -t -f %s: %v\n%s", conf, err, out)
	}
	fe := StartCommand(t, ns, "httpd-"+strconv.Itoa(port), nil, bin, "-f", conf, "-DFOREGROUND")
	t.Cleanup(func() {
		balStop(t, fe, filepath.Join(dir, "httpd.pid"))
		if t.Failed() {
			for _, f := range []string{"error.log", "gomcat-modjk-jk.log"} {
				if b, err := os.ReadFile(filepath.Join(dir, f)); err == nil {
					t.Logf("%s:\n%s", f, b)
				}
			}
		}
	})
	return "http://" + net.JoinHostPort(ns.Addr.String(), strconv.Itoa(port))
}

// ajpBodies: a POST with a Content-Length and a chunked one (both larger
// than many AJP packets) arrive whole; a multi-MiB response too.
func ajpBodies(t *testing.T, client *NS, front string) {
	t.Helper()
	c := client.HTTPClient(false)
	defer c.CloseIdleConnections()
	waitFor(t, 30*time.Second, "the front end serving", func() bool {
		resp, err := c.Get(front + "/node")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
	body := make([]byte, 3<<20+17)
	rand.Read(body)
	sum := sha256.Sum256(body)
	want := fmt.Sprintf("%d %s", len(body), hex.EncodeToString(sum[:]))
	for _, chunked := range []bool{false, true} {
		var r io.Reader = bytes.NewReader(body)
		if chunked {
			r = io.MultiReader(r) // no length: the client sends it chunked
		}
		req, _ := http.NewRequest(http.MethodPost, front+"/echo", r)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatalf("POST (chunked %v): %v", chunked, err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || strings.TrimSpace(string(got)) != want {
			t.Fatalf("POST (chunked %v) of %d bytes: %d %q, want %q", chunked, len(body), resp.StatusCode, got, want)
		}
	}
	const n = 8 << 20
	resp, err := c.Get(front + "/bytes?n=" + strconv.Itoa(n))
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 || len(got) != n || !bytes.Equal(got[n-32:], []byte("0123456789abcdef0123456789abcdef")) {
		t.Fatalf("GET /bytes?n=%d: %d, %d bytes, %v", n, resp.StatusCode, len(got), err)
	}
}

// ajpReuse: 50 requests in a row through the front end open (almost) no
// new AJP connection: httpd keeps them (gomcat_ajp_* on each node's admin
// /metrics, read before and after).
func ajpReuse(t *testing.T, client *NS, front string, nodes map[string]*Node) {
	t.Helper()
	var admins []string
	for _, n := range nodes {
		admins = append(admins, obsForward(t, n.NS, "127.0.0.1:"+strconv.Itoa(n.HTTPPort+1000)))
	}
	sum := func(name string) float64 {
		var total float64
		for _, a := range admins {
			v, ok := obsValue(obsScrape(t, a), name)
			if !ok {
				t.Fatalf("%s/metrics has no %s", a, name)
			}
			total += v
		}
		return total
	}
	c := client.HTTPClient(false)
	defer c.CloseIdleConnections()
	Get(t, c, front+"/node") // the client's own connection is open
	conns, reqs := sum("gomcat_ajp_connections_total"), sum("gomcat_ajp_requests_total")
	const n = 50
	for i := range n {
		if code, body := Get(t, c, front+"/node"); code != 200 {
			t.Fatalf("request %d: %d %q", i, code, body)
		}
	}
	dc, dr := sum("gomcat_ajp_connections_total")-conns, sum("gomcat_ajp_requests_total")-reqs
	t.Logf("%d requests through %s: %.0f AJP requests on %.0f new AJP connections", n, front, dr, dc)
	if dr < n || dc > n/5 {
		t.Errorf("%.0f AJP requests on %.0f new connections for %d front-end requests: httpd does not reuse AJP connections", dr, dc, n)
	}
}

// ajpSecretRefused runs two more mod_proxy_ajp front ends to node: one
// with a wrong secret, one with none. Both get 403 and nothing else.
func ajpSecretRefused(t *testing.T, bin string, ns, client *NS, node *Node) {
	t.Helper()
	wrong := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(wrong, []byte("not-the-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	member := fmt.Sprintf("%s=ajp://%s:%d", node.Route, node.NS.Addr, ajpPort)
	for i, extra := range [][]string{{"--ajp-secret-file", wrong}, nil} {
		port := balFrontPort + 1 + i
		dir, conf := ajpLBConfig(t, ns, "proxy_ajp", nil, append([]string{"--node", member}, extra...)...)
		b, _ := os.ReadFile(conf)
		b = bytes.ReplaceAll(b, []byte(":"+strconv.Itoa(balFrontPort)), []byte(":"+strconv.Itoa(port)))
		if err := os.WriteFile(conf, b, 0o644); err != nil {
			t.Fatal(err)
		}
		front := ajpRunHTTPD(t, bin, ns, dir, conf, port)
		c := client.HTTPClient(false)
		var code int
		var body string
		waitFor(t, 30*time.Second, "a 403 from "+front, func() bool {
			resp, err := c.Get(front + "/node")
			if err != nil {
				return false
			}
			bb, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			code, body = resp.StatusCode, string(bb)
			return code != http.StatusServiceUnavailable // hcheck not passed yet
		})
		c.CloseIdleConnections()
		if code != http.StatusForbidden || strings.Contains(body, node.Route) {
			t.Fatalf("secret %v: %d %q, want 403", extra, code, body)
		}
	}
}
