//go:build e2e

package e2e

import (
	"bufio"
	"crypto/rand"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gomcat/gomcat/mcast"
)

// Attacks on the front end (issue 11), each against real gomcat processes
// in namespaces: a backend that desynchronises its keep-alive connection,
// slow request bodies, and forged heartbeats.

// startBalancerStatic runs `gomcat balancer` in ns with static backends.
func startBalancerStatic(t *testing.T, ns *NS, health string, backends ...string) (front, admin string, lb *Proc) {
	t.Helper()
	listen := net.JoinHostPort(ns.Addr.String(), strconv.Itoa(balFrontPort))
	adm := net.JoinHostPort(ns.Addr.String(), strconv.Itoa(balFrontPort+1))
	args := []string{"balancer", "--listen", listen, "--admin", adm, "--health-path", health, "--log-format", "json"}
	for _, b := range backends {
		args = append(args, "--backend", b)
	}
	lb = StartGomcat(t, ns, "balancer", nil, args...)
	lb.WaitLog(t, `"message":"balancer started"`, 30*time.Second)
	return "http://" + listen, "http://" + adm, lb
}

// desyncBackend serves, inside ns, /u/<user> with that user's cookie and
// body; its answers to /after/<user> carry more bytes after the response
// (a second response with the user's secret cookie), and to /clte/<user>
// both Content-Length and Transfer-Encoding, with the secret inside.
func desyncBackend(t *testing.T, ns *NS) string {
	t.Helper()
	ln, err := ns.Listen("tcp", net.JoinHostPort(ns.Addr.String(), "8080"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				br := bufio.NewReader(c)
				for {
					req, err := http.ReadRequest(br)
					if err != nil {
						return
					}
					_, _ = io.Copy(io.Discard, req.Body)
					parts := strings.Split(strings.Trim(req.URL.Path, "/"), "/")
					user := parts[len(parts)-1]
					own := fmt.Sprintf("HTTP/1.1 200 OK\r\nSet-Cookie: JSESSIONID=%s.a\r\nContent-Length: %d\r\n\r\nuser=%s", user, 5+len(user), user)
					secret := fmt.Sprintf("HTTP/1.1 200 OK\r\nSet-Cookie: JSESSIONID=SECRET-%s.a\r\nContent-Length: %d\r\n\r\nsecret=%s", user, 7+len(user), user)
					var out string
					switch parts[0] {
					case "after":
						out = own + secret
					case "clte":
						out = fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Length: %d\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n%s", 5+len(secret), secret)
					default:
						out = own
					}
					if _, err := io.WriteString(c, out); err != nil {
						return
					}
				}
			}()
		}
	}()
	return "http://" + ln.Addr().String()
}

// TestBalancerDesyncBackend: two users behind `gomcat balancer` share a
// backend that writes bytes after its responses and answers with CL+TE to
// one of them: the other never receives a byte of the first one's answers.
func TestBalancerDesyncBackend(t *testing.T) {
	t.Parallel()
	nt := NewNet(t, 3) // 0: backend; 1: balancer; 2: clients
	backend := desyncBackend(t, nt.NS[0])
	front, _, lb := startBalancerStatic(t, nt.NS[1], "/u/health", "a="+backend)
	lb.WaitLog(t, `"node":"a".*"message":"node live"`, 20*time.Second)

	var wg sync.WaitGroup
	var leaks, served atomic.Int32
	errs := make(chan string, 8)
	deadline := time.Now().Add(15 * time.Second)
	for _, user := range []string{"alice", "bob"} {
		wg.Go(func() {
			c := nt.NS[2].HTTPClient(false)
			defer c.CloseIdleConnections()
			for i := 0; i < 150 && time.Now().Before(deadline); i++ {
				path := "/u/" + user
				if user == "alice" {
					path = []string{"/after/", "/clte/", "/u/"}[i%3] + user
				}
				resp, err := c.Get(front + path)
				if err != nil {
					continue
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				other := map[string]string{"alice": "bob", "bob": "alice"}[user]
				got := resp.Header.Get("Set-Cookie") + " " + string(body)
				if strings.Contains(got, other) || strings.Contains(got, "SECRET-"+other) {
					leaks.Add(1)
					select {
					case errs <- fmt.Sprintf("%s got %q on %s", user, got, path):
					default:
					}
				}
				if strings.HasPrefix(path, "/u/") && resp.StatusCode == 200 {
					served.Add(1)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	t.Logf("leaks=%d, clean answers=%d", leaks.Load(), served.Load())
	if served.Load() < 100 {
		t.Errorf("only %d clean answers", served.Load())
	}
	lb.WaitLog(t, `"message":"node connection closed: bytes outside a response"`, 5*time.Second)
}

// slowBodies opens n connections from ns to addr that send a POST head
// announcing 1000 bytes and then one byte, and leaves them open.
func slowBodies(t *testing.T, ns *NS, addr, path string, n int) []net.Conn {
	t.Helper()
	var conns []net.Conn
	for i := range n {
		c, err := ns.DialContext(t.Context(), "tcp", addr)
		if err != nil {
			t.Fatalf("slow body %d: %v", i, err)
		}
		t.Cleanup(func() { c.Close() })
		_, _ = io.WriteString(c, "POST "+path+" HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\nk")
		conns = append(conns, c)
	}
	return conns
}

// TestSlowBodiesDoNotBlockGets: 300 connections trickle POST bodies to one
// node (more than its 200 maxThreads), directly and through the balancer;
// GETs to that node are still served, and the slow ones get 408.
func TestSlowBodiesDoNotBlockGets(t *testing.T) {
	t.Parallel()
	nt := NewNet(t, 3) // 0: node1; 1: balancer; 2: clients
	n1 := StartNode(t, nt.NS[0], NodeOptions{Route: "node1"})
	n1.WaitStarted(t)
	nodeURL := "http://" + net.JoinHostPort(nt.NS[0].Addr.String(), strconv.Itoa(n1.HTTPPort))
	front, _, lb := startBalancerStatic(t, nt.NS[1], "/node", "node1="+nodeURL)
	lb.WaitLog(t, `"node":"node1".*"message":"node live"`, 20*time.Second)
	client := nt.NS[2]

	for _, tc := range []struct{ name, base string }{{"direct", nodeURL}, {"balancer", front}} {
		addr := strings.TrimPrefix(tc.base, "http://")
		slow := slowBodies(t, client, addr, "/set", 300)
		c := client.HTTPClient(true)
		c.Timeout = 5 * time.Second
		for i := range 20 {
			code, body := Get(t, c, tc.base+"/node")
			if code != 200 || body != "node1" {
				t.Fatalf("%s: GET %d while 300 bodies trickle: %d %q", tc.name, i, code, body)
			}
		}
		c.CloseIdleConnections()
		// the minimum upload rate ends them: 408 within the 5 s grace and a little more
		got408 := 0
		for _, sc := range slow {
			_ = sc.SetReadDeadline(time.Now().Add(15 * time.Second))
			resp, err := http.ReadResponse(bufio.NewReader(sc), nil)
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusRequestTimeout {
					got408++
				}
			}
			sc.Close()
		}
		t.Logf("%s: 20 GETs served while 300 bodies trickled; %d of them answered 408", tc.name, got408)
		if got408 < 290 {
			t.Errorf("%s: %d slow bodies answered 408, want ~300", tc.name, got408)
		}
	}
	lb.WaitLog(t, `"message":"client body too slow: answered 408"`, time.Second)
	n1.WaitLog(t, `request body too slow: answered 408`, time.Second)
}

// forgeHeartbeats sends, from ns, heartbeats of a fake member named name
// that advertises httpURL, every 300 ms until stop is closed.
func forgeHeartbeats(t *testing.T, ns *NS, domain, name, httpURL string, receiverPort int, stop <-chan struct{}) {
	t.Helper()
	pc, err := ns.ListenPacket("udp4", net.JoinHostPort(ns.Addr.String(), "0"))
	if err != nil {
		t.Fatal(err)
	}
	group := &net.UDPAddr{IP: net.IPv4(228, 0, 0, 4), Port: 45564}
	var id [16]byte
	_, _ = rand.Read(id[:])
	started := time.Now()
	payload, err := mcast.EncodePayload(nil, mcast.Payload{Protocol: mcast.ProtocolVersion, Name: name, HTTPURL: httpURL, StartedAt: started.UnixMilli()})
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		defer pc.Close()
		tk := time.NewTicker(300 * time.Millisecond)
		defer tk.Stop()
		for {
			hb := mcast.Heartbeat{Alive: time.Since(started).Milliseconds(), Port: receiverPort, SecurePort: -1, UDPPort: -1,
				Host: net.IP(ns.Addr.AsSlice()), Domain: []byte(domain), UniqueID: id, Payload: payload}
			if b, err := hb.AppendTo(nil); err == nil {
				_, _ = pc.WriteTo(b, group)
			}
			select {
			case <-stop:
				return
			case <-tk.C:
			}
		}
	}()
}

// TestBalancerForgedHeartbeats: with clear heartbeats (no key), an
// attacker announces a member named like a real node, a new one at a URL
// that answers, and one at a URL that does not. Users with sessions keep
// reaching their own node (the attacker sees none of their cookies), and
// the unanswering one is never routed to.
func TestBalancerForgedHeartbeats(t *testing.T) {
	t.Parallel()
	nt := NewNet(t, 5) // 0, 1: nodes; 2: balancer; 3: clients; 4: attacker
	// Clear heartbeats need the explicit opt-in off loopback, for the
	// nodes and for the balancer's observer (a sealed cluster drops forged
	// clear heartbeats before the balancer sees them).
	insecure := []string{"GOMCAT_INSECURE_CLUSTER=true"}
	nodes := balStartNodesEnv(t, insecure, nt.NS[0], nt.NS[1])
	lbNS, client, evil := nt.NS[2], nt.NS[3], nt.NS[4]
	listen := net.JoinHostPort(lbNS.Addr.String(), strconv.Itoa(balFrontPort))
	admin := net.JoinHostPort(lbNS.Addr.String(), strconv.Itoa(balFrontPort+1))
	lb := StartGomcat(t, lbNS, "balancer", insecure, "balancer", "--listen", listen, "--admin", admin,
		"--home", nodes["node1"].Home, "--mcast-bind", lbNS.Addr.String(),
		"--health-path", "/node", "--log-format", "json")
	line := lb.WaitLog(t, `"message":"discovering nodes by their heartbeats"`, 30*time.Second)
	domain := ""
	if m := regexp.MustCompile(`"domain":"([^"]*)"`).FindStringSubmatch(line); m != nil {
		domain = m[1]
	}
	lb.WaitLog(t, `"message":"balancer started"`, 30*time.Second)
	balWaitLive(t, client, "http://"+admin, 2)
	front := "http://" + listen

	// The attacker: an HTTP server that records the cookies it is sent,
	// and a receiver port that accepts (so membership probes find it).
	var stolen atomic.Int32
	hl, err := evil.Listen("tcp", net.JoinHostPort(evil.Addr.String(), "8080"))
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c, err := r.Cookie("JSESSIONID"); err == nil && (strings.HasSuffix(c.Value, ".node1") || strings.HasSuffix(c.Value, ".node2")) {
			stolen.Add(1)
		}
		_, _ = io.WriteString(w, "node1")
	})}
	go srv.Serve(hl)
	t.Cleanup(func() { srv.Close() })
	rl, err := evil.Listen("tcp", net.JoinHostPort(evil.Addr.String(), "4000"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rl.Close() })
	go func() {
		for {
			c, err := rl.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	evilURL := "http://" + hl.Addr().String()
	ghostURL := "http://" + net.JoinHostPort(evil.Addr.String(), "9") // nothing listens

	// Users with sessions on both nodes.
	type user struct {
		c     *http.Client
		route string
		value string
	}
	var users []user
	for i := range 6 {
		c := client.HTTPClient(true)
		t.Cleanup(c.CloseIdleConnections)
		v := "v" + strconv.Itoa(i)
		code, body := Get(t, c, front+"/set?k=a&v="+v)
		if code != 200 {
			t.Fatalf("/set: %d %q", code, body)
		}
		users = append(users, user{c: c, route: balRoute(t, strings.TrimPrefix(body, "ok ")), value: v})
	}

	stop := make(chan struct{})
	defer close(stop)
	// Each fake has its own receiver address: members at one host:port
	// with different ids are incarnations of one member to the table, and
	// only one of them would ever be listed.
	forgeHeartbeats(t, evil, domain, "node1", evilURL, 4001, stop)
	forgeHeartbeats(t, evil, domain, "evil", evilURL, 4000, stop)
	forgeHeartbeats(t, evil, domain, "ghost", ghostURL, 4002, stop)
	lb.WaitLog(t, `"node":"ghost".*"message":"node added: unverified`, 15*time.Second)

	// For 4 s (a dozen forged heartbeats each), every user keeps its session on its node.
	end := time.Now().Add(4 * time.Second)
	for n := 0; time.Now().Before(end); n++ {
		u := users[n%len(users)]
		code, body := Get(t, u.c, front+"/get?k=a")
		if code != 200 || !strings.Contains(body, u.value) {
			t.Fatalf("user on %s: /get: %d %q, want %q", u.route, code, body, u.value)
		}
	}
	if n := stolen.Load(); n != 0 {
		t.Fatalf("%d requests with real users' session cookies reached the attacker", n)
	}
	if lb.CountLog(`"node":"ghost".*"message":"node live"`) != 0 {
		t.Fatal("the unanswering ghost went live")
	}
	t.Logf("balancer status after the forgeries:\n%s", func() string { _, b := Get(t, client.HTTPClient(false), "http://"+admin+"/status"); return b }())
}
