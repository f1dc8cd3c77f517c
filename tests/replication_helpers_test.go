//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Helpers of the replication scenarios (issue 5): configuration edits made
// before a node starts, requests with an explicit session cookie, and the
// Tomcat milestone lines of the state transfer.

// Tomcat's state transfer lines (tomcat-cluster.md §4.6). The ROOT
// context's manager is "localhost#" in Tomcat's logs; "localhost#/" is
// accepted too.
const (
	mgrRE           = `Manager \[localhost#/?\]`
	skipAloneRE     = mgrRE + `: skipping state transfer\. No members active in cluster group\.`
	skipAnyRE       = mgrRE + `: skipping state transfer\.`
	noContextSkipRE = mgrRE + `: skipping state transfer\. No member has this context yet\.`
	requestingRE    = mgrRE + `, requesting session state from \[node1\]\. This operation will timeout if no session state has been received within \[60\] seconds\.`
	requestingAnyRE = mgrRE + `, requesting session state from \[[^\]]+\]\. This operation will timeout if no session state has been received within \[60\] seconds\.`
	receivedRE      = mgrRE + `; session state sent at \[[^\]]+\] received in \[[0-9]+\] ms\.`
	timeoutRE       = mgrRE + `: No session state sent at`
	startupMsRE     = `Server startup in ([0-9]+) ?ms`
	connectorOpenRE = `Starting ProtocolHandler`
)

// Send options of the Cluster (Tomcat's channelSendOptions).
const (
	sendAsync = 8 // the default: the response goes at once, replication follows
	sendSync  = 6 // use_ack|sync_ack: no response before every member processed the delta
)

// replaceInFile replaces the one occurrence of old in the node file rel
// (relative to the home) with new, failing when old is not there exactly once.
func replaceInFile(t testing.TB, n *Node, rel, old, new string) {
	t.Helper()
	path := filepath.Join(n.Home, rel)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if c := strings.Count(string(b), old); c != 1 {
		t.Fatalf("%s: %q occurs %d times, want 1", path, old, c)
	}
	if err := os.WriteFile(path, []byte(strings.Replace(string(b), old, new, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
}

// setSendOptions sets channelSendOptions in the node's server.xml (there is
// no init/start flag or GOMCAT_* variable for it) and checks with
// configtest that the node reads it.
func setSendOptions(t testing.TB, n *Node, opts int) {
	t.Helper()
	if opts != sendAsync {
		replaceInFile(t, n, "conf/server.xml", `channelSendOptions="8"`, fmt.Sprintf(`channelSendOptions="%d"`, opts))
	}
	out, err := n.Gomcat(t, "configtest", "--home", n.Home)
	if err != nil {
		t.Fatalf("configtest after setting channelSendOptions=%d: %v\n%s", opts, err, out)
	}
	if !regexp.MustCompile(`channelSendOptions:\s+` + strconv.Itoa(opts) + `\b`).MatchString(out) {
		t.Fatalf("configtest does not show channelSendOptions %d:\n%s", opts, out)
	}
}

// reply is one HTTP exchange: status, trimmed body and the JSESSIONID the
// response set ("" when none).
type reply struct {
	Code      int
	Body      string
	SetCookie string
}

// doSession sends GET url with the session cookie id (none when "") and
// returns the reply; it does not fail the test, for polling.
func doSession(c *http.Client, url, id string) (reply, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return reply{}, err
	}
	if id != "" {
		req.AddCookie(&http.Cookie{Name: "JSESSIONID", Value: id})
	}
	resp, err := c.Do(req)
	if err != nil {
		return reply{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return reply{}, err
	}
	r := reply{Code: resp.StatusCode, Body: strings.TrimSpace(string(b))}
	for _, ck := range resp.Cookies() {
		if ck.Name == "JSESSIONID" {
			r.SetCookie = ck.Value
		}
	}
	return r, nil
}

// getSession is doSession that fails the test on a transport error.
func getSession(t testing.TB, c *http.Client, url, id string) reply {
	t.Helper()
	r, err := doSession(c, url, id)
	if err != nil {
		t.Fatalf("GET %s (JSESSIONID=%s): %v", url, id, err)
	}
	return r
}

// setNew creates a fresh session on n with /set?k=&v= (no cookie) and
// returns its id, taken from the "ok <id>" body.
func setNew(t testing.TB, c *http.Client, n *Node, k, v string) string {
	t.Helper()
	r := getSession(t, c, n.URL("/set?k="+k+"&v="+v), "")
	id, ok := strings.CutPrefix(r.Body, "ok ")
	if r.Code != 200 || !ok || id == "" {
		t.Fatalf("%s /set?k=%s: %d %q", n.Route, k, r.Code, r.Body)
	}
	return id
}

// countOn returns the node's /count (sessions of the ROOT context).
func countOn(t testing.TB, c *http.Client, n *Node) int {
	t.Helper()
	r := getSession(t, c, n.URL("/count"), "")
	v, err := strconv.Atoi(r.Body)
	if r.Code != 200 || err != nil {
		t.Fatalf("%s /count: %d %q", n.Route, r.Code, r.Body)
	}
	return v
}

// sessionBase is a session id without its route.
func sessionBase(id string) string {
	base, _, _ := strings.Cut(id, ".")
	return base
}

// startupMs returns N of the current run's "Server startup in N ms".
func startupMs(t testing.TB, n *Node) int {
	t.Helper()
	line := n.WaitLog(t, startupMsRE, StartTimeout)
	m := regexp.MustCompile(startupMsRE).FindStringSubmatch(line)
	ms, err := strconv.Atoi(m[1])
	if err != nil {
		t.Fatalf("%s: startup line %q: %v", n.Route, line, err)
	}
	return ms
}

// logIndex is the offset of the first line matching pattern in the node's
// log after mark, or -1.
func logIndex(n *Node, mark int, pattern string) int {
	log := n.Log()
	if mark > len(log) {
		return -1
	}
	loc := regexp.MustCompile(pattern).FindStringIndex(log[mark:])
	if loc == nil {
		return -1
	}
	return mark + loc[0]
}

// waitMembers waits until each node logged that it added the other.
func waitMembers(t testing.TB, a, b *Node) {
	t.Helper()
	a.WaitLog(t, `Replication member added: tcp://[^ ]*,`+regexp.QuoteMeta(b.Route)+`,`, 15*time.Second)
	b.WaitLog(t, `Replication member added: tcp://[^ ]*,`+regexp.QuoteMeta(a.Route)+`,`, 15*time.Second)
}

// poll calls cond every 20 ms until it is true (true) or timeout passed
// (false), for checks that report their own failure.
func poll(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
	return true
}
