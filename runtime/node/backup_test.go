package node

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/gomcat/gomcat/backupmgr"
	"github.com/gomcat/gomcat/deltamgr"
	"github.com/gomcat/gomcat/internal/testkit"
	"github.com/gomcat/gomcat/runtime/session"
)

// backupManager returns the BackupManager of tn's ROOT context.
func backupManager(t *testing.T, tn *testNode) *backupmgr.Manager {
	t.Helper()
	for _, c := range tn.adminContexts() {
		if m, ok := c.Manager.(*backupmgr.Manager); ok && c.Path == "/" {
			return m
		}
	}
	t.Fatalf("%s: no BackupManager on /", tn.name)
	return nil
}

// startBackupNodes starts node1..node3 with o and waits until the
// BackupManager of each one's ROOT context sees the two others.
func startBackupNodes(t *testing.T, o nodeOpts) ([]*testNode, map[string]*backupmgr.Manager) {
	t.Helper()
	nodes := []*testNode{newClusterNode(t, "node1", o), newClusterNode(t, "node2", o), newClusterNode(t, "node3", o)}
	for _, n := range nodes {
		n.start(t)
	}
	mgrs := make(map[string]*backupmgr.Manager)
	for _, n := range nodes {
		mgrs[n.name] = backupManager(t, n)
	}
	testkit.WaitWithin(t, "every manager to see two peers", 15*time.Second, func() bool {
		for _, m := range mgrs {
			if m.Peers() != 2 {
				return false
			}
		}
		return true
	})
	return nodes, mgrs
}

// TestBackupManagerNodes: three nodes with <Manager className="BackupManager">
// on channel 4: a session has one primary and one backup, the third member
// knows only the owners; a request on that third member fetches it and the
// JvmRouteBinderValve gives it the member's route; when its primary leaves,
// the others relocate (the log line) and still serve it, nothing lost.
func TestBackupManagerNodes(t *testing.T) {
	mp := randomMcastPort()
	o := nodeOpts{mcastPort: mp, establishWait: 300 * time.Millisecond,
		manager: `<Manager className="org.apache.catalina.ha.session.BackupManager" rpcTimeout="5000"/>`}
	nodes, mgrs := startBackupNodes(t, o)

	jar, _ := cookiejar.New(nil)
	code, body, id := get(t, jar, nodes[0].url+"/set?k=color&v=blue")
	if code != 200 || !strings.HasSuffix(id, ".node1") {
		t.Fatalf("set on node1: %d %q cookie %q", code, body, id)
	}
	primary, backups, ok := mgrs["node1"].Owners(id)
	if !ok || primary != "node1" || len(backups) != 1 || backups[0] == "node1" {
		t.Fatalf("owners on node1: %q %v %v", primary, backups, ok)
	}
	proxy := "node2"
	if backups[0] == "node2" {
		proxy = "node3"
	}
	testkit.WaitWithin(t, "the proxy to learn the owners", 10*time.Second, func() bool {
		p, b, ok := mgrs[proxy].Owners(id)
		return ok && p == "node1" && len(b) == 1 && b[0] == backups[0]
	})
	if st := mgrs[proxy].Stats(); st.Sessions != 0 || st.Proxies != 1 {
		t.Fatalf("%s holds %d values, %d proxies; want 0 and 1", proxy, st.Sessions, st.Proxies)
	}

	// The member that only knows the owners serves the session: it fetches
	// it, becomes primary, and the valve rewrites the route.
	var pn *testNode
	for _, n := range nodes {
		if n.name == proxy {
			pn = n
		}
	}
	up, _ := url.Parse(pn.url)
	jarP, _ := cookiejar.New(nil)
	jarP.SetCookies(up, []*http.Cookie{{Name: "JSESSIONID", Value: id, Path: "/"}})
	code, body, id2 := get(t, jarP, pn.url+"/get?k=color")
	base := strings.TrimSuffix(id, ".node1")
	if code != 200 || body != "blue" || id2 != base+"."+proxy {
		t.Fatalf("get on %s: %d %q cookie %q, want blue and %s", proxy, code, body, id2, base+"."+proxy)
	}
	if p, _, _ := mgrs[proxy].Owners(id2); p != proxy {
		t.Fatalf("primary of %s after the takeover: %q", id2, p)
	}
	if st := mgrs[proxy].Stats(); st.Retrieved != 1 || st.Primaries != 1 {
		t.Errorf("%s: retrieved %d, primaries %d; want 1, 1", proxy, st.Retrieved, st.Primaries)
	}

	// Its new primary leaves: the others relocate and still serve it.
	if err := pn.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	var rest []*testNode
	for _, n := range nodes {
		if n != pn {
			rest = append(rest, n)
		}
	}
	testkit.WaitWithin(t, "the relocation log line", 15*time.Second, func() bool {
		for _, n := range rest {
			if _, ok := n.logs.Find("Relocation of map entries was complete in ["); ok {
				return true
			}
		}
		return false
	})
	u0, _ := url.Parse(rest[0].url)
	jar0, _ := cookiejar.New(nil)
	jar0.SetCookies(u0, []*http.Cookie{{Name: "JSESSIONID", Value: id2, Path: "/"}})
	code, body, _ = get(t, jar0, rest[0].url+"/get?k=color")
	if code != 200 || body != "blue" {
		t.Fatalf("get on %s after %s left: %d %q", rest[0].name, proxy, code, body)
	}
	for _, n := range rest {
		if l := mgrs[n.name].Stats().Lost; l != 0 {
			t.Errorf("%s counted %d lost sessions", n.name, l)
		}
	}
}

// backupConfig maps every BackupManager attribute; the context's own
// limit wins over the template's.
func TestBackupConfig(t *testing.T) {
	s := parse(t, `<Server port="-1"><Service><Connector port="8080"/><Engine jvmRoute="n1"><Cluster className="SimpleTcpCluster">
  <Manager className="BackupManager" mapSendOptions="async" rpcTimeout="2000" accessTimeout="1000"
           terminateOnStartFailure="true" backups="3" rebalanceRate="50" maxActiveSessions="10"
           maxSessionSize="4096" processExpiresFrequency="2"/>
</Cluster><Host name="localhost"/></Engine></Service></Server>`)
	c := backupConfig(&s.Cluster().Manager, "localhost#", "n1", time.Minute, 0, zerolog.Nop())
	if c.MapSendOptions != 8 || c.RPCTimeout != 2*time.Second || c.AccessTimeout != time.Second || !c.TerminateOnStartFailure ||
		c.Backups != 3 || c.RebalanceRate != 50 || c.MaxActiveSessions != 10 || c.MaxSessionSize != 4096 ||
		c.SweepInterval != 2*backgroundTick || c.MaxInactive != time.Minute || c.Route != "n1" || c.Name != "localhost#" {
		t.Errorf("backupConfig: %+v", c)
	}
	if err := c.Validate(); err != nil {
		t.Error(err)
	}
	if c := backupConfig(&s.Cluster().Manager, "localhost#", "n1", time.Minute, 5, zerolog.Nop()); c.MaxActiveSessions != 5 {
		t.Errorf("context limit: %d, want 5", c.MaxActiveSessions)
	}
}

// TestContextBackupManager: a <Context> with its own
// <Manager className="BackupManager" backups="2"> gets a backupmgr.Manager
// with that element's attributes although the Cluster's template is a
// DeltaManager; the Host's other distributable context keeps the template.
func TestContextBackupManager(t *testing.T) {
	mp := randomMcastPort()
	o := nodeOpts{mcastPort: mp, establishWait: 300 * time.Millisecond,
		contexts: `<Context path="/" app="example" distributable="true">
          <Manager className="org.apache.catalina.ha.session.BackupManager" backups="2" rpcTimeout="5000"/>
        </Context>
        <Context path="/d" app="example" distributable="true"/>`}
	nodes, mgrs := startBackupNodes(t, o)
	for _, n := range nodes {
		var d session.Manager
		for _, c := range n.adminContexts() {
			if c.Path == "/d" {
				d = c.Manager
			}
		}
		if _, ok := d.(*deltamgr.Manager); !ok {
			t.Fatalf("%s: /d has %T, want the template's *deltamgr.Manager", n.name, d)
		}
	}
	jar, _ := cookiejar.New(nil)
	code, body, id := get(t, jar, nodes[0].url+"/set?k=color&v=blue")
	if code != 200 || !strings.HasSuffix(id, ".node1") {
		t.Fatalf("set on node1: %d %q cookie %q", code, body, id)
	}
	// backups="2" of the context's element: both other members hold it.
	primary, backups, ok := mgrs["node1"].Owners(id)
	if !ok || primary != "node1" || len(backups) != 2 {
		t.Fatalf("owners on node1: %q %v %v; want node1 and 2 backups", primary, backups, ok)
	}
	for _, name := range []string{"node2", "node3"} {
		if st := mgrs[name].Stats(); st.Sessions != 1 || st.Backups != 1 {
			t.Errorf("%s holds %d values, %d backups; want 1 and 1", name, st.Sessions, st.Backups)
		}
	}
}
