package cli

import (
	"bytes"
	"context"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/http/cookiejar"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gomcat/gomcat/internal/freeport"
	"github.com/gomcat/gomcat/internal/testkit"
)

// syncBuf is a bytes.Buffer safe for a running command and the test.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb syncBuf
	code := Run(context.Background(), append([]string{"gomcat"}, args...), &out, &errb)
	return code, out.String(), errb.String()
}

func freeTCPPort(t *testing.T) int {
	t.Helper()
	port, err := freeport.TCP()
	if err != nil {
		t.Fatal(err)
	}
	return port
}

// initHomeT writes a node1 home whose cluster heartbeats on a random
// multicast port (on 127.0.0.1, TTL 0), so that tests never join each
// other or a demo, with the receiver on a free port.
func initHomeT(t *testing.T, httpPort, shutdownPort int, extra ...string) string {
	t.Helper()
	home := filepath.Join(t.TempDir(), "node1")
	args := append([]string{"init", "--home", home, "--jvm-route", "node1",
		"--http-port", strconv.Itoa(httpPort), "--shutdown-port", strconv.Itoa(shutdownPort), "--receiver-port", "0",
		"--mcast-port", strconv.Itoa(randomMcastPort())}, extra...)
	code, out, errs := run(t, args...)
	if code != 0 {
		t.Fatalf("init: %d %s %s", code, out, errs)
	}
	// Quicker than Tomcat's timings: a short membership wait, a farm
	// check every second.
	file := filepath.Join(home, "conf", "server.xml")
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	b = bytes.Replace(b, []byte(`frequency="500"`), []byte(`frequency="500" establishWait="300"`), 1)
	b = bytes.Replace(b, []byte(`watchEnabled=`), []byte(`processDeployFrequency="1" watchEnabled=`), 1)
	if err := os.WriteFile(file, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return home
}

func TestInitConfigtestStartStop(t *testing.T) {
	httpPort, sdPort := freeTCPPort(t), freeTCPPort(t)
	home := initHomeT(t, httpPort, sdPort)
	for _, d := range []string{"conf/server.xml", "conf/Catalina/localhost/ROOT.xml", "webapps", "logs", "work", "temp"} {
		if _, err := os.Stat(filepath.Join(home, d)); err != nil {
			t.Fatal(err)
		}
	}
	code, out, errs := run(t, "configtest", "--home", home)
	if code != 0 || !strings.Contains(out, "jvmRoute:") || !strings.Contains(out, "node1") || !strings.Contains(out, "Configuration OK") {
		t.Fatalf("configtest: %d\n%s\n%s", code, out, errs)
	}

	var sout, serr syncBuf
	done := make(chan int, 1)
	go func() {
		done <- Run(context.Background(), []string{"gomcat", "start", "--home", home, "--log-format", "json"}, &sout, &serr)
	}()
	waitLog(t, &serr, `Server startup in [0-9]+ ms`, done)
	base := fmt.Sprintf("http://127.0.0.1:%d", httpPort)
	resp, err := http.Get(base + "/set?k=a&v=1")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !regexp.MustCompile(`^ok [0-9A-F]{32}\.node1\n$`).Match(b) {
		t.Fatalf("/set: %q", b)
	}
	code, out, errs = run(t, "stop", "--home", home)
	if code != 0 {
		t.Fatalf("stop: %d %s %s", code, out, errs)
	}
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("start exited %d: %s", code, serr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("node did not stop")
	}
	if !strings.Contains(serr.String(), `"message":"Server stopped in`) {
		t.Fatalf("no stop line in JSON log:\n%s", serr.String())
	}
	// Nothing listens any more: stop says so clearly.
	code, _, errs = run(t, "stop", "--home", home)
	if code != 1 || !strings.Contains(errs, "nothing listens on the shutdown port") {
		t.Fatalf("stop without a node: %d %q", code, errs)
	}
}

func TestStartFlagsBeatEnv(t *testing.T) {
	httpPort := freeTCPPort(t)
	home := initHomeT(t, 1, -1) // the file's port 1 must lose
	t.Setenv("GOMCAT_HTTP_PORT", "2")
	t.Setenv("GOMCAT_JVM_ROUTE", "fromenv")
	ctx, cancel := context.WithCancel(context.Background())
	var sout, serr syncBuf
	done := make(chan int, 1)
	go func() {
		done <- Run(ctx, []string{"gomcat", "start", "--home", home, "--http-port", strconv.Itoa(httpPort), "--http-address", "127.0.0.1"}, &sout, &serr)
	}()
	waitLog(t, &serr, `Server startup in`, done)
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/node", httpPort))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if strings.TrimSpace(string(b)) != "fromenv" {
		t.Fatalf("/node = %q, want the environment's jvmRoute", b)
	}
	cancel() // as SIGTERM does
	if code := <-done; code != 0 {
		t.Fatalf("exit %d: %s", code, serr.String())
	}
}

func TestInitRefusesOverwrite(t *testing.T) {
	home := initHomeT(t, 8091, 8005)
	code, _, errs := run(t, "init", "--home", home)
	if code != 1 || !strings.Contains(errs, "already exists") || !strings.Contains(errs, "--force") {
		t.Fatalf("second init: %d %q", code, errs)
	}
	if code, out, errs := run(t, "init", "--home", home, "--force", "--jvm-route", "node9"); code != 0 {
		t.Fatalf("init --force: %d %s %s", code, out, errs)
	}
	data, _ := os.ReadFile(filepath.Join(home, "conf", "server.xml"))
	if !strings.Contains(string(data), `jvmRoute="node9"`) {
		t.Fatal("--force did not rewrite server.xml")
	}
}

func TestConfigtestErrors(t *testing.T) {
	home := initHomeT(t, 8091, 8005)
	bad := `<?xml version="1.0"?>
<Server port="8005" shutdown="SHUTDOWN">
  <Service name="Catalina">
    <Connector port="99999" protocol="HTTP/1.1"/>
    <Engine name="Catalina" defaultHost="localhost" jvmRoute="bad route!">
      <Host name="localhost" appBase="webapps"/>
    </Engine>
  </Service>
</Server>
`
	file := filepath.Join(home, "conf", "server.xml")
	if err := os.WriteFile(file, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errs := run(t, "configtest", "--home", home)
	if code != 1 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(file) + `:4: element <Connector> attribute port: .+$`)
	if !re.MatchString(errs) {
		t.Fatalf("no Connector port problem in:\n%s", errs)
	}
	re = regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(file) + `:5: element <Engine> attribute jvmRoute: .+$`)
	if !re.MatchString(errs) {
		t.Fatalf("no jvmRoute problem in:\n%s", errs)
	}
	if !strings.Contains(errs, "gomcat: configuration has 2 problem(s)") {
		t.Fatalf("summary line missing:\n%s", errs)
	}
	code, _, errs = run(t, "configtest", "--home", filepath.Join(t.TempDir(), "nohome"))
	if code != 1 || !strings.Contains(errs, "gomcat init --home") {
		t.Fatalf("missing home: %d %q", code, errs)
	}
}

func TestStartPortInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	home := initHomeT(t, port, -1)
	code, _, errs := run(t, "start", "--home", home, "--http-address", "127.0.0.1")
	want := fmt.Sprintf("gomcat: Connector port %d on 127.0.0.1: address already in use\n", port)
	if code != 1 || !strings.HasSuffix(errs, want) {
		t.Fatalf("exit %d, stderr %q, want suffix %q", code, errs, want)
	}
}

func TestBundleCreateInspect(t *testing.T) {
	src := t.TempDir()
	if err := os.WriteFile(filepath.Join(src, "index.html"), []byte("hi"), 0o644); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "shop.gar")
	code, out, errs := run(t, "bundle", "create", "-o", file, "--path", "/shop", "--app", "example", "--session-timeout", "45", src)
	if code != 0 || !strings.Contains(out, "sha256") {
		t.Fatalf("create: %d %s %s", code, out, errs)
	}
	code, out, errs = run(t, "bundle", "inspect", file)
	for _, want := range []string{"context path:    /shop", "app:             example\n", "session timeout: 45m0s", "checks:          ok"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Fatalf("inspect: %d missing %q in\n%s%s", code, want, out, errs)
		}
	}
	if err := os.WriteFile(file, []byte("junk"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errs = run(t, "bundle", "inspect", file)
	if code != 1 || !strings.Contains(errs, "not a zip archive") {
		t.Fatalf("inspect junk: %d %q", code, errs)
	}
}

func TestVersion(t *testing.T) {
	code, out, _ := run(t, "version")
	if code != 0 || !strings.Contains(out, "example") {
		t.Fatalf("%d %q", code, out)
	}
}

func waitLog(t *testing.T, b *syncBuf, pattern string, done chan int) {
	t.Helper()
	re := regexp.MustCompile(pattern)
	deadline := time.Now().Add(20 * time.Second)
	for !re.MatchString(b.String()) {
		select {
		case code := <-done:
			t.Fatalf("exited %d before %q:\n%s", code, pattern, b.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %q within 20s:\n%s", pattern, b.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestDemoTwoNodes(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	taken := ln.Addr().(*net.TCPAddr).Port
	ctx, cancel := context.WithCancel(context.Background())
	var sout, serr syncBuf
	done := make(chan int, 1)
	go func() {
		done <- Run(ctx, []string{"gomcat", "demo", "--http-port", strconv.Itoa(taken), "--log-format", "json"}, &sout, &serr)
	}()
	defer func() {
		if t.Failed() {
			t.Log("DEBUG stderr:", serr.String())
		}
	}()
	waitLog(t, &sout, `Stop: Ctrl-C`, done)
	out := sout.String()
	if !strings.Contains(out, fmt.Sprintf("node1: HTTP port %d is taken; using", taken)) {
		t.Fatalf("no fallback notice:\n%s", out)
	}
	if !strings.Contains(out, "The nodes see each other (node1's members: [node2])") {
		t.Fatalf("the nodes did not see each other:\n%s", out)
	}
	url1 := regexp.MustCompile(`node1 +(http://\S+)`).FindStringSubmatch(out)[1]
	url2 := regexp.MustCompile(`node2 +(http://\S+)`).FindStringSubmatch(out)[1]
	dir := regexp.MustCompile(`homes under (\S+)`).FindStringSubmatch(out)[1]
	// The walkthrough the demo prints: set through node1, read through node2.
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	body := func(u string) string {
		resp, err := hc.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return strings.TrimSpace(string(b))
	}
	if b := body(url1 + "/set?k=color&v=blue"); !strings.HasSuffix(b, ".node1") {
		t.Fatalf("set on node1: %q", b)
	}
	// Replication is asynchronous (channelSendOptions 8): poll.
	testkit.WaitFor(t, "condition", func() bool { return body(url2+"/get?k=color") == "blue" })
	// Through the balancer: the session sticks to the node that made it.
	lbURL := regexp.MustCompile(`balancer +(http://\S+)`).FindStringSubmatch(out)[1]
	lbJar, _ := cookiejar.New(nil)
	hc = &http.Client{Jar: lbJar, Timeout: 10 * time.Second}
	b := body(lbURL + "/set?k=color&v=red")
	route := b[strings.LastIndex(b, ".")+1:]
	if !strings.HasPrefix(b, "ok ") || (route != "node1" && route != "node2") {
		t.Fatalf("set through the balancer: %q", b)
	}
	for range 10 {
		if got := body(lbURL + "/node"); got != route {
			t.Fatalf("balancer sent a request of a %s session to %q", route, got)
		}
	}
	// The printed farm deploy and stop lines, as printed (minus the
	// program name: this test runs the commands in-process).
	for _, what := range []string{"bundle create", "deploy", "stop"} {
		m := regexp.MustCompile(`(?m)^  \S.* (` + what + ` [^#\n]*?)\s*(#.*)?$`).FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("no %q line printed:\n%s", what, out)
		}
		if code, o, e := run(t, strings.Fields(m[1])...); code != 0 {
			t.Fatalf("printed %q: exit %d\n%s%s", m[1], code, o, e)
		}
	}
	if got := body(url1 + "/shop/"); !strings.Contains(got, "Farmed to every node") {
		t.Fatalf("/shop/ on node1 after the printed deploy: %q", got)
	}
	waitLog(t, &sout, `node2 stopped \(shutdown command\)`, done)
	if _, err := hc.Get(url2 + "/node"); err == nil {
		t.Fatal("node2 still serves after the printed stop returned")
	}
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("demo exited %d: %s", code, serr.String())
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("demo homes %s left behind: %v", dir, err)
	}
}

func randomMcastPort() int { return 20000 + mrand.IntN(40000) }

// configtest reports, in one run and each at its file and line, the file's
// problems and what start would refuse beyond them: a value a subsystem
// caps (sendAllSessionsSize above deltamgr's limit, once), an app this
// binary does not register, a static context whose docBase is missing.
func TestConfigtestReportsEveryProblem(t *testing.T) {
	home := initHomeT(t, 8091, 8005)
	file := filepath.Join(home, "conf", "server.xml")
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	x := strings.Replace(string(b), `<Server port="8005"`, `<Server port="abc"`, 1)
	x = strings.Replace(x, `className="org.apache.catalina.ha.session.DeltaManager"`,
		`className="org.apache.catalina.ha.session.DeltaManager" sendAllSessionsSize="2000000"`, 1)
	if x == string(b) {
		t.Fatal("template changed: nothing replaced")
	}
	if err := os.WriteFile(file, []byte(x), 0o644); err != nil {
		t.Fatal(err)
	}
	descs := filepath.Join(home, "conf", "Catalina", "localhost")
	root := filepath.Join(descs, "ROOT.xml")
	b, err = os.ReadFile(root)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(root, []byte(strings.Replace(string(b), `app="example"`, `app="nosuch"`, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	static := filepath.Join(descs, "static.xml")
	if err := os.WriteFile(static, []byte(`<Context docBase="missing" distributable="true"/>`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	code, out, errs := run(t, "configtest", "--home", home)
	if code != 1 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	for _, want := range []string{
		`^` + regexp.QuoteMeta(file) + `:\d+: element <Server> attribute port: "abc" is not a whole number$`,
		`^` + regexp.QuoteMeta(file) + `:\d+: element <Manager> attribute sendAllSessionsSize: 2000000 is not allowed .+$`,
		`^` + regexp.QuoteMeta(root) + `:\d+: element <Context> attribute app: .*unknown app "nosuch".*$`,
		`^` + regexp.QuoteMeta(static) + `:1: element <Context> attribute docBase: .*missing, which does not exist.*$`,
	} {
		if !regexp.MustCompile(`(?m)` + want).MatchString(errs) {
			t.Errorf("no line matching %s in:\n%s", want, errs)
		}
	}
	if n := strings.Count(errs, "2000000"); n != 1 {
		t.Errorf("sendAllSessionsSize reported %d times, want once:\n%s", n, errs)
	}
	if !strings.Contains(errs, "gomcat: configuration has 4 problem(s)") {
		t.Errorf("summary line missing or wrong:\n%s", errs)
	}
}
