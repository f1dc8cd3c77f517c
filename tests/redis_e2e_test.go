//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Sessions in Redis (issue 16): gomcat nodes whose ROOT context has
// <Manager className="gomcat.RedisManager">, against real redis-server and
// redis-sentinel processes, each in its own namespace.

// redisPort is where every redis-server listens in its namespace;
// sentinels listen on redisSentinelPort.
const (
	redisPort         = 6379
	redisSentinelPort = 26379
)

// redisProc is a redis-server (or redis-sentinel) bound to its namespace's
// address, with its config and data in a temp dir; restart starts it again
// on the same dir (with appendonly, its data reloaded).
type redisProc struct {
	*Proc
	ns   *NS
	port int
	argv []string
}

// startRedisNS starts a redis-server in ns with the config lines extra
// (after bind, port, dir). persist turns on the append-only file with
// fsync always, so a restart keeps every acknowledged write.
func startRedisNS(t *testing.T, ns *NS, label string, persist bool, extra ...string) *redisProc {
	t.Helper()
	lines := []string{"save \"\""}
	if persist {
		lines = append(lines, "appendonly yes", "appendfsync always")
	}
	return startRedisConf(t, ns, label, redisPort, nil, append(lines, extra...))
}

// startSentinelNS starts a redis-sentinel in ns watching master as "gm"
// (quorum 2, down after 1 s).
func startSentinelNS(t *testing.T, ns *NS, label string, master *redisProc) *redisProc {
	t.Helper()
	return startRedisConf(t, ns, label, redisSentinelPort, []string{"--sentinel"}, []string{
		fmt.Sprintf("sentinel monitor gm %s %d 2", master.ns.Addr, master.port),
		"sentinel down-after-milliseconds gm 1000",
		"sentinel failover-timeout gm 5000",
		"sentinel parallel-syncs gm 1",
	})
}

func startRedisConf(t *testing.T, ns *NS, label string, port int, args, lines []string) *redisProc {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		skipOrFail(t, "redis-server not installed (apt-get install redis-server redis-sentinel)")
	}
	dir := t.TempDir()
	conf := filepath.Join(dir, label+".conf")
	head := []string{"bind " + ns.Addr.String(), "port " + strconv.Itoa(port), "dir " + dir,
		"protected-mode no", "daemonize no"}
	if err := os.WriteFile(conf, []byte(strings.Join(append(head, lines...), "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := &redisProc{ns: ns, port: port, argv: append([]string{bin, conf}, args...)}
	r.Proc = StartCommand(t, ns, label, nil, r.argv...)
	r.WaitLog(t, `Ready to accept connections|Sentinel ID is`, 20*time.Second)
	return r
}

func (r *redisProc) addr() string { return net.JoinHostPort(r.ns.Addr.String(), strconv.Itoa(r.port)) }

func (r *redisProc) url() string { return "redis://" + r.addr() }

// restart starts the (exited) server again with the same config and dir.
func (r *redisProc) restart(t *testing.T) {
	t.Helper()
	mark := r.LogMark()
	r.start(t, r.argv...)
	r.WaitLogAfter(t, mark, `Ready to accept connections`, 20*time.Second)
}

// client is a go-redis client dialing r from inside from.
func (r *redisProc) client(t *testing.T, from *NS) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: r.addr(), Dialer: from.DialContext, DisableIdentity: true})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// redisNode inits and starts a node in ns whose ROOT context keeps its
// sessions in Redis; attrs are the Manager's connection attributes.
func redisNode(t *testing.T, ns *NS, route, attrs string) *Node {
	t.Helper()
	n := InitNode(t, ns, NodeOptions{Route: route})
	xml := `<Context docBase="ROOT" app="example" distributable="true" sessionTimeout="30">` +
		`<Manager className="gomcat.RedisManager" ` + attrs + ` timeout="500"/></Context>`
	if err := os.WriteFile(filepath.Join(n.Home, "conf", "Catalina", "localhost", "ROOT.xml"), []byte(xml), 0o644); err != nil {
		t.Fatal(err)
	}
	n.Start(t)
	n.WaitStarted(t)
	n.WaitLog(t, `redis session manager started`, 10*time.Second)
	return n
}

// redisUser is one user of the load: a session, written and read back
// alternately through the front end.
type redisUser struct {
	c     *http.Client
	id    string // the session id its first /set got
	sure  int    // the last value a /set acknowledged
	maybe int    // a value a failed /set may have stored (-1: none)
}

// redisLoad is the bounded load: users loop /set then /get until stop (or
// 2 minutes, or 3000 rounds each); each /get must return the user's
// last acknowledged value (or the one a failed /set may have stored), and
// the session id must never change.
type redisLoad struct {
	mu      sync.Mutex
	rounds  int
	lost    []string // a session gone, a different id, a stale value
	failed  []string // a request without an answer or with a non-200
	quit    chan struct{}
	done    sync.WaitGroup
	users   []*redisUser
	front   string
	started time.Time
	rebind  bool // ids may change route, not base
}

func startRedisLoad(t *testing.T, client *NS, front string, users int) *redisLoad {
	t.Helper()
	return startLoad(t, client, front, users, false)
}

// startLoad starts the load; with rebind a session id may change its
// route (a JvmRouteBinderValve after a failover) but never its base.
func startLoad(t *testing.T, client *NS, front string, users int, rebind bool) *redisLoad {
	t.Helper()
	l := &redisLoad{quit: make(chan struct{}), front: front, started: time.Now(), rebind: rebind}
	for i := range users {
		u := &redisUser{c: client.HTTPClientJar(NewClusterJar()), maybe: -1}
		u.c.Timeout = 10 * time.Second
		t.Cleanup(u.c.CloseIdleConnections)
		code, body := Get(t, u.c, front+"/set?k=v&v=0")
		if code != 200 || !strings.HasPrefix(body, "ok ") {
			t.Fatalf("user %d: first /set: %d %q", i, code, body)
		}
		u.id = strings.TrimPrefix(body, "ok ")
		l.users = append(l.users, u)
	}
	for i, u := range l.users {
		l.done.Add(1)
		go l.run(i, u)
	}
	return l
}

func (l *redisLoad) get(u *redisUser, path string) (int, string, error) {
	resp, err := u.c.Get(l.front + path)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(b)), err
}

func (l *redisLoad) run(i int, u *redisUser) {
	defer l.done.Done()
	deadline := time.Now().Add(2 * time.Minute)
	for v := 1; v <= 3000 && time.Now().Before(deadline); v++ {
		select {
		case <-l.quit:
			return
		default:
		}
		code, body, err := l.get(u, "/set?k=v&v="+strconv.Itoa(v))
		switch {
		case err == nil && code == 200 && l.same(u, strings.TrimPrefix(body, "ok ")):
			u.sure, u.maybe = v, -1
		case err == nil && code == 200:
			l.note(&l.lost, "user %d: /set v=%d answered %q, session was %s", i, v, body, u.id)
		default:
			u.maybe = v
			l.note(&l.failed, "user %d: /set v=%d: %d %q %v", i, v, code, body, err)
			continue
		}
		code, body, err = l.get(u, "/get?k=v")
		switch {
		case err != nil || (code != 200 && code != 404):
			l.note(&l.failed, "user %d: /get after v=%d: %d %q %v", i, v, code, body, err)
		case code != 200 || (body != strconv.Itoa(u.sure) && body != strconv.Itoa(u.maybe)):
			l.note(&l.lost, "user %d: /get after v=%d: %d %q, want %d", i, v, code, body, u.sure)
		}
		l.mu.Lock()
		l.rounds++
		l.mu.Unlock()
	}
}

// same reports whether id is u's session (with rebind: the same base;
// u.id follows the new route).
func (l *redisLoad) same(u *redisUser, id string) bool {
	if id == u.id {
		return true
	}
	base, _, _ := strings.Cut(id, ".")
	old, _, _ := strings.Cut(u.id, ".")
	if !l.rebind || base != old {
		return false
	}
	u.id = id
	return true
}

func (l *redisLoad) note(list *[]string, format string, a ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	*list = append(*list, fmt.Sprintf("%s: ", time.Since(l.started).Round(time.Millisecond))+fmt.Sprintf(format, a...))
}

func (l *redisLoad) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.rounds
}

// waitRounds waits until n more rounds completed (at most 30 s).
func (l *redisLoad) waitRounds(t *testing.T, n int) {
	t.Helper()
	want := l.count() + n
	waitFor(t, 30*time.Second, fmt.Sprintf("%d rounds of load", want), func() bool { return l.count() >= want })
}

// stop ends the load and returns the rounds done, lost and failed.
func (l *redisLoad) stop() (int, []string, []string) {
	close(l.quit)
	l.done.Wait()
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.rounds, l.lost, l.failed
}

// TestRedisNonStickyBalancer: 3 nodes with RedisManager behind `gomcat
// balancer --non-sticky` (every request of a session may land on any
// node); under a bounded load of 8 users, node2 then node3 are killed -9
// and restarted: no session is lost. Redis (append-only file) is killed -9
// and restarted: every session survives. Redis is killed and left down:
// the nodes answer 503 within a bound, keep running (one restarted
// meanwhile comes up and answers 503 too), and serve every session again
// once Redis is back.
func TestRedisNonStickyBalancer(t *testing.T) {
	t.Parallel()
	nt := NewNet(t, 6) // 0-2 nodes, 3 redis, 4 balancer, 5 client
	rd := startRedisNS(t, nt.NS[3], "redis", true)
	nodes := make([]*Node, 3)
	backends := []string{}
	for i := range nodes {
		nodes[i] = redisNode(t, nt.NS[i], fmt.Sprintf("node%d", i+1), `address="`+rd.url()+`"`)
		backends = append(backends, "--backend", fmt.Sprintf("node%d=http://%s", i+1, net.JoinHostPort(nt.NS[i].Addr.String(), strconv.Itoa(DefaultHTTPPort))))
	}
	lbNS, client := nt.NS[4], nt.NS[5]
	listen := net.JoinHostPort(lbNS.Addr.String(), strconv.Itoa(balFrontPort))
	admin := net.JoinHostPort(lbNS.Addr.String(), strconv.Itoa(balFrontPort+1))
	lb := StartGomcat(t, lbNS, "balancer", nil, append([]string{"balancer", "--listen", listen, "--admin", admin,
		"--non-sticky", "--health-path", "/node", "--health-interval", "250ms", "--log-format", "json"}, backends...)...)
	lb.WaitLog(t, `"message":"balancer started"`, 30*time.Second)
	balWaitLive(t, client, "http://"+admin, 3)
	front := "http://" + listen

	// Non-sticky: one session's requests reach every node.
	probe := client.HTTPClientJar(NewClusterJar())
	defer probe.CloseIdleConnections()
	seen := map[string]bool{}
	for range 9 {
		if code, body := Get(t, probe, front+"/node"); code == 200 {
			seen[body] = true
		}
	}
	if len(seen) != 3 {
		t.Fatalf("9 requests of one client reached %v, want all 3 nodes", seen)
	}

	load := startRedisLoad(t, client, front, 8)
	load.waitRounds(t, 100)
	for _, victim := range []int{1, 2} {
		nodes[victim].Kill(t)
		t.Logf("node%d killed -9 after %d rounds", victim+1, load.count())
		load.waitRounds(t, 150)
		nodes[victim].Start(t)
		nodes[victim].WaitStarted(t)
		balWaitLive(t, client, "http://"+admin, 3)
		load.waitRounds(t, 100)
	}
	rounds, lost, failed := load.stop()
	t.Logf("load: %d rounds of /set + /get by 8 users, %d lost, %d failed requests", rounds, len(lost), len(failed))
	if len(lost) > 0 {
		t.Errorf("%d sessions lost or stale, e.g. %q", len(lost), lost[:min(len(lost), 5)])
	}
	if len(failed) > 0 {
		t.Errorf("%d requests failed (the balancer retries idempotent GETs), e.g. %q", len(failed), failed[:min(len(failed), 5)])
	}

	// Redis killed -9 and restarted from its append-only file: every
	// session reads its last acknowledged value.
	rd.Kill(t)
	rd.restart(t)
	for i, u := range load.users {
		want := strconv.Itoa(u.sure)
		var code int
		var body string
		waitFor(t, 15*time.Second, fmt.Sprintf("user %d's session after the Redis restart", i), func() bool {
			code, body, _ = load.get(u, "/get?k=v")
			return code == 200 || code == 404
		})
		if code != 200 || (body != want && body != strconv.Itoa(u.maybe)) {
			t.Fatalf("after the Redis restart user %d reads %d %q, want %s", i, code, body, want)
		}
	}

	// Redis down: every node answers a session request 503 within a
	// bound (timeout 500 ms per operation, one retry), logs and counts it,
	// and lives on.
	rd.Kill(t)
	for i, n := range nodes {
		c := client.HTTPClientJar(NewClusterJar())
		c.Jar.SetCookies(nil, []*http.Cookie{{Name: "JSESSIONID", Value: load.users[i].id}})
		start := time.Now()
		code, body := Get(t, c, n.URL("/get?k=v"))
		took := time.Since(start)
		if code != http.StatusServiceUnavailable {
			t.Fatalf("Redis down: node%d answered %d %q, want 503", i+1, code, body)
		}
		if took > 5*time.Second {
			t.Errorf("Redis down: node%d took %s to answer 503", i+1, took)
		}
		if code, _ := Get(t, c, n.URL("/set?k=new&v=1")); code != http.StatusServiceUnavailable {
			t.Errorf("Redis down: /set on node%d answered %d, want 503", i+1, code)
		}
		t.Logf("Redis down: node%d 503 in %s", i+1, took.Round(time.Millisecond))
		c.CloseIdleConnections()
	}
	for i, n := range nodes {
		if !n.Running() {
			t.Fatalf("node%d exited while Redis was down", i+1)
		}
		if n.CountLog(`session load failed`) == 0 {
			t.Errorf("node%d did not log the failure", i+1)
		}
	}
	// A node (re)started while Redis is down comes up and answers 503 too.
	nodes[0].Kill(t)
	mark := nodes[0].LogMark()
	nodes[0].Start(t)
	nodes[0].WaitStarted(t)
	nodes[0].WaitLogAfter(t, mark, `redis unreachable at start`, 10*time.Second)
	first := client.HTTPClientJar(NewClusterJar())
	defer first.CloseIdleConnections()
	first.Jar.SetCookies(nil, []*http.Cookie{{Name: "JSESSIONID", Value: load.users[0].id}})
	if code, body := Get(t, first, nodes[0].URL("/get?k=v")); code != http.StatusServiceUnavailable {
		t.Fatalf("node1 started with Redis down answered %d %q, want 503", code, body)
	}
	rd.restart(t)
	waitFor(t, 15*time.Second, "node1 (started while Redis was down) serving once it is back", func() bool {
		code, body := Get(t, first, nodes[0].URL("/get?k=v"))
		return code == 200 && (body == strconv.Itoa(load.users[0].sure) || body == strconv.Itoa(load.users[0].maybe))
	})
	for i, u := range load.users {
		waitFor(t, 15*time.Second, fmt.Sprintf("user %d's session once Redis is back", i), func() bool {
			code, body, _ := load.get(u, "/get?k=v")
			return code == 200 && (body == strconv.Itoa(u.sure) || body == strconv.Itoa(u.maybe))
		})
	}
}

// TestRedisSentinelFailover: a master and a replica watched by 3
// sentinels, each in its own namespace; 2 nodes reach Redis through the
// sentinels. The master is killed -9: the sentinels promote the replica,
// the nodes follow, sessions written before (and replicated) are still
// there and new writes succeed.
func TestRedisSentinelFailover(t *testing.T) {
	t.Parallel()
	nt := NewNet(t, 8) // 0 master, 1 replica, 2-4 sentinels, 5-6 nodes, 7 client
	master := startRedisNS(t, nt.NS[0], "master", false)
	replica := startRedisNS(t, nt.NS[1], "replica", false, fmt.Sprintf("replicaof %s %d", nt.NS[0].Addr, redisPort))
	replica.WaitLog(t, `MASTER <-> REPLICA sync: Finished with success`, 20*time.Second)
	var sentinels []string
	for i := range 3 {
		s := startSentinelNS(t, nt.NS[2+i], fmt.Sprintf("sentinel%d", i+1), master)
		sentinels = append(sentinels, s.addr())
	}
	attrs := `sentinel="` + strings.Join(sentinels, ",") + `" masterName="gm"`
	nodes := []*Node{redisNode(t, nt.NS[5], "node1", attrs), redisNode(t, nt.NS[6], "node2", attrs)}
	client := nt.NS[7]

	users := make([]*http.Client, 6)
	for i := range users {
		users[i] = client.HTTPClientJar(NewClusterJar())
		defer users[i].CloseIdleConnections()
		if code, body := Get(t, users[i], nodes[i%2].URL("/set?k=v&v=before")); code != 200 {
			t.Fatalf("user %d: /set: %d %q", i, code, body)
		}
	}
	// Every write reached the replica before the master dies (replication
	// is asynchronous: what it has not got yet is lost, as with any
	// Redis failover).
	rc := replica.client(t, client)
	waitFor(t, 10*time.Second, "the sessions on the replica", func() bool {
		keys, err := rc.Keys(context.Background(), "gomcat:sessions:*").Result()
		return err == nil && len(keys) == len(users)
	})

	master.Kill(t)
	start := time.Now()
	waitFor(t, 60*time.Second, "service after the failover", func() bool {
		code, _ := Get(t, users[0], nodes[0].URL("/set?k=v&v=after"))
		return code == 200
	})
	t.Logf("service resumed %s after the master was killed", time.Since(start).Round(100*time.Millisecond))
	for i, c := range users {
		n := nodes[(i+1)%2] // the other node
		var code int
		var body string
		waitFor(t, 30*time.Second, fmt.Sprintf("user %d on node%d after the failover", i, (i+1)%2+1), func() bool {
			code, body = Get(t, c, n.URL("/get?k=v"))
			return code == 200
		})
		want := "before"
		if i == 0 {
			want = "after"
		}
		if body != want {
			t.Errorf("user %d after the failover reads %q, want %q", i, body, want)
		}
		if code, body := Get(t, c, n.URL("/set?k=w&v=new")); code != 200 {
			t.Errorf("user %d: /set after the failover: %d %q", i, code, body)
		}
	}
	role, err := rc.Do(context.Background(), "ROLE").Slice()
	if err != nil || len(role) == 0 || role[0] != "master" {
		t.Errorf("replica's ROLE after the failover = %v (%v), want master", role, err)
	}
}

// redisContext writes node n's ROOT context descriptor: with a
// RedisManager at url, or (url "") distributable on the cluster's
// DeltaManager, as gomcat init writes it.
func redisContext(t *testing.T, home, url string) {
	t.Helper()
	mgr := ""
	if url != "" {
		mgr = `<Manager className="gomcat.RedisManager" address="` + url + `" timeout="500"/>`
	}
	xml := `<Context docBase="ROOT" app="example" distributable="true" sessionTimeout="30">` + mgr + `</Context>`
	if err := os.WriteFile(filepath.Join(home, "conf", "Catalina", "localhost", "ROOT.xml"), []byte(xml), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestRedisMigrateFromDeltaManager: two nodes replicate their sessions
// with DeltaManager; `gomcat sessions migrate` joins their cluster and
// copies every session into Redis; the nodes are then switched to
// RedisManager one at a time. No user is logged out: each keeps their
// session id and value; what users of the node still on DeltaManager
// write (or create, or invalidate) meanwhile reaches Redis through the
// bridge.
func TestRedisMigrateFromDeltaManager(t *testing.T) {
	t.Parallel()
	nt := NewNet(t, 5) // 0-1 nodes, 2 redis, 3 bridge, 4 client
	nodes := balStartNodes(t, nt.NS[0], nt.NS[1])
	n1, n2 := nodes["node1"], nodes["node2"]
	rd := startRedisNS(t, nt.NS[2], "redis", false)
	client := nt.NS[4]

	type user struct {
		c    *http.Client
		n    *Node // the node it sticks to
		id   string
		want string // "" once invalidated
	}
	var users []*user
	for i := range 6 {
		u := &user{c: client.HTTPClientJar(NewClusterJar()), n: []*Node{n1, n2}[i%2], want: "a" + strconv.Itoa(i)}
		defer u.c.CloseIdleConnections()
		code, body := Get(t, u.c, u.n.URL("/set?k=v&v="+u.want))
		if code != 200 || !strings.HasPrefix(body, "ok ") {
			t.Fatalf("user %d: /set: %d %q", i, code, body)
		}
		u.id = strings.TrimPrefix(body, "ok ")
		users = append(users, u)
	}
	// Replicated to the other node before the bridge asks for the state.
	waitFor(t, 10*time.Second, "the sessions replicated", func() bool {
		code, body := Get(t, users[0].c, n2.URL("/get?k=v"))
		return code == 200 && body == users[0].want
	})

	bh := InitNode(t, nt.NS[3], NodeOptions{Route: "bridge"})
	redisContext(t, bh.Home, rd.url())
	bridge := StartGomcat(t, nt.NS[3], "bridge", nil, "sessions", "migrate", "--home", bh.Home, "--interval", "200ms")
	bridge.WaitLog(t, `bridge: sessions copied into Redis.*sessions=6|"sessions":6.*bridge: sessions copied`, 60*time.Second)

	// node1 switches to Redis: its users keep their sessions.
	n1.Stop(t)
	n1.Wait(t, 30*time.Second)
	redisContext(t, n1.Home, rd.url())
	n1.Start(t)
	n1.WaitStarted(t)
	n1.WaitLog(t, `redis session manager started`, 10*time.Second)
	for i, u := range users {
		if u.n != n1 {
			continue
		}
		if code, body := Get(t, u.c, n1.URL("/get?k=v")); code != 200 || body != u.want {
			t.Fatalf("user %d on node1 after its switch to Redis: %d %q, want %q", i, code, body, u.want)
		}
	}

	// Users of node2, still on DeltaManager, write, arrive and log out;
	// the bridge carries it into Redis (node1 reads it there).
	for i, u := range users {
		if u.n != n2 {
			continue
		}
		u.want = "b" + strconv.Itoa(i)
		if code, body := Get(t, u.c, n2.URL("/set?k=v&v="+u.want)); code != 200 {
			t.Fatalf("user %d: /set on node2: %d %q", i, code, body)
		}
	}
	late := &user{c: client.HTTPClientJar(NewClusterJar()), n: n2, want: "late"}
	defer late.c.CloseIdleConnections()
	if code, body := Get(t, late.c, n2.URL("/set?k=v&v=late")); code != 200 {
		t.Fatalf("late user: /set on node2: %d %q", code, body)
	}
	users = append(users, late)
	gone := users[1] // a node2 user
	if code, _ := Get(t, gone.c, n2.URL("/invalidate")); code != 200 {
		t.Fatalf("/invalidate on node2: %d", code)
	}
	gone.want = ""
	for i, u := range users {
		if u.n != n2 {
			continue
		}
		probe := client.HTTPClientJar(NewClusterJar())
		ck := u.c.Jar.Cookies(nil)
		if u == gone {
			ck = []*http.Cookie{{Name: "JSESSIONID", Value: u.id}}
		}
		probe.Jar.SetCookies(nil, ck)
		waitFor(t, 15*time.Second, fmt.Sprintf("user %d's change on node2 in Redis (read on node1)", i), func() bool {
			code, body := Get(t, probe, n1.URL("/get?k=v"))
			if u.want == "" {
				return code == 404
			}
			return code == 200 && body == u.want
		})
		probe.CloseIdleConnections()
	}

	// node2 switches too: every user still has their session.
	n2.Stop(t)
	n2.Wait(t, 30*time.Second)
	redisContext(t, n2.Home, rd.url())
	n2.Start(t)
	n2.WaitStarted(t)
	for i, u := range users {
		code, body := Get(t, u.c, u.n.URL("/get?k=v"))
		switch {
		case u.want == "" && code != 404:
			t.Errorf("user %d logged out on node2 before the switch: %d %q after it", i, code, body)
		case u.want != "" && (code != 200 || body != u.want):
			t.Errorf("user %d after both switches: %d %q, want %q", i, code, body, u.want)
		}
	}
	bridge.Signal(t, syscall.SIGTERM)
	if code := bridge.Wait(t, 30*time.Second); code != 0 {
		t.Fatalf("bridge exited %d:\n%s", code, bridge.Log())
	}
	if !strings.Contains(bridge.Log(), "localhost#: ") {
		t.Errorf("bridge printed no summary:\n%s", bridge.Log())
	}
}
