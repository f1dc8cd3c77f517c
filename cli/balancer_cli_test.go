package cli

import (
	"context"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gomcat/gomcat/balancer/balancertest"
	"github.com/gomcat/gomcat/internal/testkit"
	"github.com/gomcat/gomcat/mcast"
)

// Tests of `gomcat balancer` and `gomcat lbconfig`. Helpers carry an lb
// prefix: the package's other test files have their own.

// lbRun runs gomcat args to completion; code 1 and the message on error.
func lbRun(t *testing.T, ctx context.Context, args ...string) (int, string, string) {
	t.Helper()
	var out, errb syncBuf
	err := App(&out, &errb).RunContext(ctx, append([]string{"gomcat"}, args...))
	if err != nil {
		fmt.Fprintf(&errb, "gomcat: %v\n", err)
		return 1, out.String(), errb.String()
	}
	return 0, out.String(), errb.String()
}

// lbMcastPort is a random multicast port, so tests never hear each other.
func lbMcastPort() int { return 20000 + mrand.IntN(40000) }

// lbInitHome writes a home with gomcat init: route, HTTP port, multicast
// port (0: random) on 127.0.0.1 with TTL 0.
func lbInitHome(t *testing.T, route string, httpPort, mcastPort int) string {
	t.Helper()
	if mcastPort == 0 {
		mcastPort = lbMcastPort()
	}
	home := filepath.Join(t.TempDir(), route)
	args := []string{"init", "--home", home, "--jvm-route", route, "--http-port", strconv.Itoa(httpPort),
		"--shutdown-port", "-1", "--receiver-port", "0", "--mcast-port", strconv.Itoa(mcastPort)}
	if code, out, errs := lbRun(t, context.Background(), args...); code != 0 {
		t.Fatalf("init: %d %s %s", code, out, errs)
	}
	return home
}

// None of these tests is parallel: urfave/cli's Run writes package-level
// flags (the help flag), and the balancer's logger setup writes zerolog's
// global time format; run at once, the race detector reports them.

func TestLBConfigFromHomes(t *testing.T) {
	h1 := lbInitHome(t, "node1", 18091, 0)
	h2 := lbInitHome(t, "node2", 18092, 0)
	// A connector that names its address is reached there.
	xml := filepath.Join(h2, "conf", "server.xml")
	b, err := os.ReadFile(xml)
	if err != nil {
		t.Fatal(err)
	}
	b = []byte(strings.Replace(string(b), `<Connector port="18092"`, `<Connector address="192.0.2.7" port="18092"`, 1))
	if err := os.WriteFile(xml, b, 0o644); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	code, out, errs := lbRun(t, ctx, "lbconfig", "haproxy", "--home", h1, "--home", h2, "--listen", "127.0.0.1:18080")
	if code != 0 {
		t.Fatalf("lbconfig haproxy: %d %s", code, errs)
	}
	// init binds multicast to 127.0.0.1, so node1 (all interfaces) is
	// reached there; node2's connector names its address.
	for _, want := range []string{"server node1 127.0.0.1:18091 check", "server node2 192.0.2.7:18092 check", "bind 127.0.0.1:18080", "use-server node1 if", "use-server node2 if"} {
		if !strings.Contains(out, want) {
			t.Errorf("haproxy config lacks %q:\n%s", want, out)
		}
	}

	// Every kind, to a file, with homes and --node mixed.
	dir := t.TempDir()
	for _, kind := range []string{"nginx", "httpd", "keepalived", "apache", "lvs"} {
		file := filepath.Join(dir, kind+".conf")
		code, out, errs := lbRun(t, ctx, "lbconfig", kind, "--home", h1, "--home", h2, "--node", "node3=127.0.0.1:18093",
			"--pid-file", filepath.Join(dir, kind+".pid"), "--tmp-dir", dir, "--error-log", filepath.Join(dir, "error.log"), "-o", file)
		if code != 0 || out != "" || !strings.Contains(errs, "wrote "+file) {
			t.Fatalf("lbconfig %s -o: %d %q %s", kind, code, out, errs)
		}
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"node1", "node2", "node3", "18091", "192.0.2.7", "18093"} {
			if !strings.Contains(string(b), want) {
				t.Errorf("%s config lacks %q:\n%s", kind, want, b)
			}
		}
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"lbconfig", "haproxy"}, "no nodes"},
		{[]string{"lbconfig"}, "needs a kind"},
		{[]string{"lbconfig", "squid", "--home", h1}, "unknown kind"},
		{[]string{"lbconfig", "nginx", "--home", h1, "--home", h1}, "listed twice"},
		{[]string{"lbconfig", "nginx", "--home", t.TempDir()}, "has no conf/server.xml"},
		{[]string{"lbconfig", "nginx", "--node", "node1"}, "want name=http://host:port"},
		{[]string{"lbconfig", "nginx", "--from-membership", "--node", "a=127.0.0.1:1"}, "--from-membership"},
		{[]string{"balancer", "--listen", "127.0.0.1:0", "--admin", "", "--membership", "dns:gomcat.test"}, "needs --http-port"},
		{[]string{"balancer", "--listen", "127.0.0.1:0", "--admin", "", "--membership", "dns:gomcat.test", "--http-port", "8091", "--backend", "a=http://127.0.0.1:1"}, "exclude each other"},
		{[]string{"balancer", "--listen", "127.0.0.1:0", "--admin", "", "--membership", "ldap", "--http-port", "8091"}, "membership"},
	} {
		code, _, errs := lbRun(t, ctx, tc.args...)
		if code == 0 || !strings.Contains(errs, tc.want) {
			t.Errorf("%v: %d %q, want an error with %q", tc.args, code, errs, tc.want)
		}
	}
}

// TestLBConfigFromMembership hears two members' heartbeats (loopback, TTL
// 0, a random port) and writes both.
// lbMember heartbeats as a node called name whose connector is httpURL,
// on 228.0.0.4:port bound to 127.0.0.1 with TTL 0, until the test ends.
// Members are told apart by receiver address: each gets its own port.
func lbMember(t *testing.T, port int, name, httpURL string) *mcast.Service {
	t.Helper()
	lbReceiverPort++
	cfg := mcast.DefaultLocalConfig()
	cfg.Port = port
	cfg.Local = mcast.LocalMember{Name: name, Host: "127.0.0.1", Port: lbReceiverPort, HTTPURL: httpURL}
	svc, err := mcast.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Stop(context.Background()) })
	return svc
}

var lbReceiverPort = 4000 // the tests using it are not parallel

func TestLBConfigFromMembership(t *testing.T) {
	port := lbMcastPort()
	lbMember(t, port, "node1", "http://127.0.0.1:18091")
	lbMember(t, port, "node2", "http://127.0.0.1:18092")
	code, out, errs := lbRun(t, context.Background(), "lbconfig", "nginx", "--from-membership", "--wait", "1s",
		"--mcast-port", strconv.Itoa(port), "--mcast-bind", "127.0.0.1")
	if code != 0 {
		t.Fatalf("lbconfig --from-membership: %d %s", code, errs)
	}
	for _, want := range []string{"server 127.0.0.1:18091", "server 127.0.0.1:18092", `"~^[^.]*\.node1$"`, `"~^[^.]*\.node2$"`} {
		if !strings.Contains(out, want) {
			t.Errorf("nginx config lacks %q:\n%s", want, out)
		}
	}
	// Nobody on another port: a clear error, not an empty config.
	code, _, errs = lbRun(t, context.Background(), "lbconfig", "nginx", "--from-membership", "--wait", "300ms",
		"--mcast-port", strconv.Itoa(port+1), "--mcast-bind", "127.0.0.1")
	if code == 0 || !strings.Contains(errs, "no Gomcat node heard") {
		t.Errorf("empty membership: %d %q", code, errs)
	}
}

var lbListenRE = regexp.MustCompile(`"listen":"([^"]+)"[^\n]*"message":"balancer started"`)

// lbStartBalancer runs `gomcat balancer args…` until the test ends and
// returns its listen address and log.
func lbStartBalancer(t *testing.T, args ...string) (string, *syncBuf) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var out, errb syncBuf
	done := make(chan error, 1)
	go func() {
		done <- App(&out, &errb).RunContext(ctx, append([]string{"gomcat", "balancer", "--log-format", "json"}, args...))
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("balancer exited with %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Errorf("balancer did not stop after its context ended")
		}
		if t.Failed() {
			t.Logf("balancer log:\n%s", errb.String())
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		if m := lbListenRE.FindStringSubmatch(errb.String()); m != nil {
			return m[1], &errb
		}
		select {
		case err := <-done:
			t.Fatalf("balancer exited: %v\n%s", err, errb.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("balancer did not start:\n%s", errb.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// lbGet returns status, X-Node and body of GET url.
func lbGet(t *testing.T, c *http.Client, url string) (int, string, string) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("X-Node"), string(b)
}

// TestBalancerStaticBackends: two fake nodes behind `gomcat balancer
// --backend`; a client sticks to one; it dies; the client moves to the
// other and sticks there; the admin address answers.
func TestBalancerStaticBackends(t *testing.T) {
	store := balancertest.NewStore()
	srvs := map[string]*httptest.Server{}
	var args []string
	for _, name := range []string{"node1", "node2"} {
		s := httptest.NewServer(balancertest.Node(name, store))
		t.Cleanup(s.Close)
		srvs[name] = s
		args = append(args, "--backend", name+"="+s.URL)
	}
	admin := net.JoinHostPort("127.0.0.1", strconv.Itoa(freeTCPPort(t)))
	addr, log := lbStartBalancer(t, append(args, "--listen", "127.0.0.1:0", "--admin", admin,
		"--health-path", "/healthz", "--health-interval", "100ms")...)
	front := "http://" + addr + "/app"

	probe := &http.Client{Timeout: 5 * time.Second}
	seen := map[string]bool{}
	testkit.WaitWithin(t, "both nodes in service", 20*time.Second, func() bool {
		if code, node, _ := lbGet(t, probe, front); code == 200 {
			seen[node] = true
		}
		return len(seen) == 2
	})
	if code, _, body := lbGet(t, probe, "http://"+admin+"/readyz"); code != 200 {
		t.Errorf("/readyz: %d %q", code, body)
	}

	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 5 * time.Second}
	var first string
	for i := 1; i <= 20; i++ {
		code, node, body := lbGet(t, c, front)
		if first == "" {
			first = node
		}
		if _, _, n, _ := balancertest.Parse(body); code != 200 || node != first || n != i {
			t.Fatalf("request %d: %d from %s (%q), want %s count %d", i, code, node, body, first, i)
		}
	}
	other := map[string]string{"node1": "node2", "node2": "node1"}[first]
	srvs[first].CloseClientConnections()
	srvs[first].Close()
	for i := 21; i <= 30; i++ {
		code, node, body := lbGet(t, c, front)
		if _, _, n, _ := balancertest.Parse(body); code != 200 || node != other || n != i {
			t.Fatalf("after %s died, request %d: %d from %s (%q)", first, i, code, node, body)
		}
	}
	testkit.WaitWithin(t, "the failover logged", 20*time.Second, func() bool { return strings.Contains(log.String(), "failover: route "+first) })
}

func TestBalancerFlagErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"balancer", "--backend", "node1"}, "want name=http://host:port"},
		{[]string{"balancer", "--backend", "node1=http://127.0.0.1:1", "--mcast-port", "45564"}, "exclude each other"},
		{[]string{"balancer", "--backend", "node1=http://127.0.0.1:1", "--listen", "nohostport"}, "listen address"},
		{[]string{"balancer", "--home", t.TempDir()}, "has no conf/server.xml"},
		{[]string{"balancer", "--log-level", "loud"}, "--log-level"},
		{[]string{"balancer", "extra"}, "no arguments"},
	} {
		code, _, errs := lbRun(t, context.Background(), tc.args...)
		if code == 0 || !strings.Contains(errs, tc.want) {
			t.Errorf("%v: %d %q, want an error with %q", tc.args, code, errs, tc.want)
		}
	}
}

// TestBalancerDiscoversFromHome: `gomcat balancer --home` listens to the
// group of the home's server.xml; two members heartbeat there with fake
// nodes' URLs; a client sticks to one; that member says goodbye (drained)
// and the client moves to the other.
func TestBalancerDiscoversFromHome(t *testing.T) {
	port := lbMcastPort()
	home := lbInitHome(t, "observer", 18099, port)
	store := balancertest.NewStore()
	svcs := map[string]*mcast.Service{}
	for _, name := range []string{"node1", "node2"} {
		s := httptest.NewServer(balancertest.Node(name, store))
		t.Cleanup(s.Close)
		svcs[name] = lbMember(t, port, name, s.URL)
	}
	addr, log := lbStartBalancer(t, "--home", home, "--listen", "127.0.0.1:0", "--admin", "")
	if !strings.Contains(log.String(), fmt.Sprintf(`"group":"228.0.0.4:%d"`, port)) {
		t.Errorf("balancer does not say it listens on the home's group:\n%s", log.String())
	}
	front := "http://" + addr + "/app"
	probe := &http.Client{Timeout: 5 * time.Second}
	seen := map[string]bool{}
	testkit.WaitWithin(t, "both members in service", 20*time.Second, func() bool {
		if code, node, _ := lbGet(t, probe, front); code == 200 {
			seen[node] = true
		}
		return len(seen) == 2
	})
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 5 * time.Second}
	_, first, _ := lbGet(t, c, front)
	for i := 2; i <= 10; i++ {
		if code, node, body := lbGet(t, c, front); code != 200 || node != first {
			t.Fatalf("request %d: %d from %s (%q), want %s", i, code, node, body, first)
		}
	}
	other := map[string]string{"node1": "node2", "node2": "node1"}[first]
	if err := svcs[first].Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	testkit.WaitWithin(t, "the goodbye logged", 20*time.Second, func() bool { return strings.Contains(log.String(), "node draining") })
	for i := 11; i <= 15; i++ {
		if code, node, body := lbGet(t, c, front); code != 200 || node != other {
			t.Fatalf("after %s left, request %d: %d from %s (%q), want %s", first, i, code, node, body, other)
		}
	}
}
