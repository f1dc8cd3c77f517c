package bench

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

const (
	secSessionsSet = "/set (a 100-byte value written, a session per worker)"
	secSessionsGet = "/get (read only, a session per worker)"
	secSessionsMem = "Redis memory per session"
)

// Sessions runs "gomcat bench sessions": the same /set and /get loads
// against a standalone node, a DeltaManager pair (writes on node1,
// replicated to node2), and two nodes sharing a redis-server through
// RedisManager, once sticky (every request of a session on node r1, the
// near-cache trusted) and once non-sticky (a session's requests alternate
// between r1 and r2, each validated), all launched from this binary on
// 127.0.0.1 and measured in interleaved rounds. It also reports the Redis
// commands per request (INFO commandstats: the scripts and commands the
// managers sent) and what a session costs in Redis (MEMORY USAGE of its
// hash, and used_memory over cfg.Sessions sessions).
func Sessions(ctx context.Context, cfg SessionsConfig) (*Report, error) {
	if cfg.Progress == nil {
		cfg.Progress = DefaultSessionsConfig().Progress
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	rep := &Report{Title: "gomcat bench sessions: standalone, DeltaManager, RedisManager sticky and non-sticky (127.0.0.1)", Machine: ThisMachine()}
	rc := DefaultReplicationConfig()
	rc.Exe, rc.InitHome, rc.Progress, rc.StartTimeout = cfg.Exe, cfg.InitHome, cfg.Progress, cfg.StartTimeout
	cl, err := newCluster(rc)
	if err != nil {
		return rep, err
	}
	defer cl.close()
	rd, err := cl.startRedis(ctx, cfg.RedisServer)
	if err != nil {
		return rep, err
	}
	solo, err := cl.start(ctx, "solo", true)
	if err != nil {
		return rep, err
	}
	d1, err := cl.start(ctx, "node1", false)
	if err != nil {
		return rep, err
	}
	if err := cl.ready(ctx, solo, d1); err != nil {
		return rep, err
	}
	d2, err := cl.start(ctx, "node2", false)
	if err != nil {
		return rep, err
	}
	// r1 and r2: no <Cluster>; /s keeps its sessions in Redis sticky, /n
	// non-sticky (separate key prefixes).
	prep := func(home string) error { return redisContexts(home, "redis://"+rd.addr) }
	r1, err := cl.startPrep(ctx, "r1", true, "", cl.domain, prep)
	if err != nil {
		return rep, err
	}
	r2, err := cl.startPrep(ctx, "r2", true, "", cl.domain, prep)
	if err != nil {
		return rep, err
	}
	if err := cl.ready(ctx, d2, r1, r2); err != nil {
		return rep, err
	}
	rep.Note("redis-server %s on %s (no persistence); r1, r2: RedisManager, /s sticky=\"true\", /n sticky=\"false\"", rd.version, rd.addr)

	c := NewClient(2*cfg.Concurrency + 2)
	defer c.CloseIdleConnections()
	seed := rand.Uint64()
	kinds := []struct {
		name  string
		bases []string
		redis bool
	}{
		{"standalone", []string{solo.url}, false},
		{"DeltaManager", []string{d1.url}, false},
		{"Redis sticky", []string{r1.url + "/s"}, true},
		{"Redis non-sticky", []string{r1.url + "/n", r2.url + "/n"}, true},
	}
	for _, op := range []struct {
		section string
		set     bool
	}{{secSessionsSet, true}, {secSessionsGet, false}} {
		var ts []target
		for i, k := range kinds {
			ts = append(ts, target{name: k.name, newOp: sessionOps(c, k.bases, op.set, cfg.Size, seed+uint64(i))})
		}
		fmt.Fprintf(cfg.Progress, "bench: %s, %d workers, %v per target\n", op.section, cfg.Concurrency, cfg.Duration)
		// Redis commands per request: measured alone, after the rounds.
		res, err := interleave(ctx, ts, cfg.Concurrency, cfg.Duration, cfg.Round, cfg.Warmup, cfg.Progress)
		if err != nil {
			return rep, err
		}
		for i, k := range kinds {
			rep.Add(op.section, Row{Metric: k.name, Value: throughputValue(res[i])})
			if res[i].FirstErr != nil {
				rep.Note("%s %s: first error: %v", k.name, op.section, res[i].FirstErr)
			}
		}
		for i, k := range kinds {
			if !k.redis {
				continue
			}
			before, err := rd.commands(ctx)
			if err != nil {
				return rep, err
			}
			one, err := Run(ctx, Load{Concurrency: 1, Duration: cfg.Round}, ts[i].newOp)
			if err != nil {
				return rep, err
			}
			after, err := rd.commands(ctx)
			if err != nil {
				return rep, err
			}
			if one.Requests > 0 {
				// The worker's first /set (before the clock) is one more request.
				per := float64(after-before) / float64(one.Requests+1)
				rep.Add(op.section, Row{Metric: k.name + ": Redis commands per request", Value: fmt.Sprintf("%.2f", per)})
			}
		}
	}
	return rep, redisMemory(ctx, rep, c, rd, r1.url+"/s", cfg.Sessions, cfg.Size)
}

// redisContexts adds the contexts /s (sticky) and /n (non-sticky) with a
// RedisManager at url to a home.
func redisContexts(home, url string) error {
	dir := filepath.Join(home, "conf", "Catalina", "localhost")
	for name, sticky := range map[string]bool{"s": true, "n": false} {
		xml := fmt.Sprintf(`<Context docBase="ROOT" app="example" sessionTimeout="30">`+
			`<Manager className="gomcat.RedisManager" address="%s" keyPrefix="bench-%s" sticky="%t"/></Context>`+"\n", url, name, sticky)
		if err := os.WriteFile(filepath.Join(dir, name+".xml"), []byte(xml), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// sessionOps returns workers that each own a session (made by a first
// /set on bases[0] before the clock starts) and then, request by request
// through bases in turn, write k=<size bytes> (set) or read it back (get).
func sessionOps(c *http.Client, bases []string, set bool, size int, seed uint64) func(int) (Op, error) {
	return func(i int) (Op, error) {
		r := rand.New(rand.NewPCG(seed, uint64(i)))
		a := newAgent(c)
		v := randomValue(r, size)
		sets := make([][]byte, len(bases))
		off := 0
		for j, b := range bases {
			sets[j], off = setURL(b, "k", v)
		}
		if err := a.expect(context.Background(), string(sets[0]), "ok "); err != nil {
			return nil, fmt.Errorf("first /set: %w", err)
		}
		want := string(v)
		var seq uint64
		return func(ctx context.Context) error {
			seq++
			j := int(seq % uint64(len(bases)))
			if set {
				stamp(sets[j][off:], seq)
				return a.expect(ctx, string(sets[j]), "ok ")
			}
			u := joinURL(bases[j], "/get?k=k")
			code, body, err := a.get(ctx, u)
			if err != nil {
				return err
			}
			if code != http.StatusOK || string(bytes.TrimSpace(body)) != want {
				return fmt.Errorf("GET %s: %d %q, want 200 %q", u, code, short(string(body)), want)
			}
			return nil
		}, nil
	}
}

// redisMemory fills n sessions of one size-byte value through base and
// reports MEMORY USAGE of one session's hash and used_memory per session.
func redisMemory(ctx context.Context, rep *Report, c *http.Client, rd *redisServer, base string, n, size int) error {
	used := func() (int64, error) {
		info, err := rd.do(ctx, "INFO", "memory")
		if err != nil {
			return 0, err
		}
		return infoInt(info, "used_memory")
	}
	before, err := used()
	if err != nil {
		return err
	}
	r := rand.New(rand.NewPCG(1, 2))
	u, off := setURL(base, "k", randomValue(r, size))
	var id string
	for i := range n {
		a := newAgent(c)
		stamp(u[off:], uint64(i))
		code, body, err := a.get(ctx, string(u))
		if err != nil || code != http.StatusOK || !bytes.HasPrefix(body, []byte("ok ")) {
			return fmt.Errorf("fill %s: %d %q %v", base, code, short(string(body)), err)
		}
		id = string(bytes.TrimSpace(body[3:]))
	}
	after, err := used()
	if err != nil {
		return err
	}
	one, err := rd.do(ctx, "MEMORY", "USAGE", "bench-s:sessions:"+id)
	if err != nil {
		return err
	}
	rep.Add(secSessionsMem, Row{Metric: fmt.Sprintf("MEMORY USAGE of one session hash (%d-byte value)", size), Value: one + " B"})
	rep.Add(secSessionsMem, Row{Metric: fmt.Sprintf("used_memory per session over %d sessions", n), Value: fmt.Sprintf("%d B", (after-before)/int64(n))})
	return nil
}

// redisServer is a redis-server child on a free loopback port.
type redisServer struct {
	addr, version string
}

// startRedis launches bin (default redis-server from PATH) without
// persistence and waits until it answers.
func (cl *cluster) startRedis(ctx context.Context, bin string) (*redisServer, error) {
	if bin == "" {
		bin = "redis-server"
	}
	path, err := exec.LookPath(bin)
	if err != nil {
		return nil, fmt.Errorf("%s not found (apt-get install redis-server): %w", bin, err)
	}
	port, err := freeTCPPort()
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(cl.root, "redis")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	rd := &redisServer{addr: "127.0.0.1:" + strconv.Itoa(port)}
	fmt.Fprintf(cl.cfg.Progress, "bench: starting redis-server on %s\n", rd.addr)
	n, err := launchCmd("redis", "", path, "--bind", "127.0.0.1", "--port", strconv.Itoa(port), "--dir", dir,
		"--save", "", "--appendonly", "no", "--protected-mode", "no")
	if err != nil {
		return nil, err
	}
	cl.add(n)
	deadline := time.Now().Add(15 * time.Second)
	for {
		info, err := rd.do(ctx, "INFO", "server")
		if err == nil {
			rd.version, _ = infoField(info, "redis_version")
			return rd, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("redis-server on %s not answering: %w (%v)", rd.addr, err, n.log.tail(4))
		}
		select {
		case <-n.exited:
			return nil, fmt.Errorf("redis-server exited (%v): %v", n.exitErr, n.log.tail(4))
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// commands returns the calls of what the managers send at top level
// (scripts, DEL, RENAMENX) according to INFO commandstats.
func (rd *redisServer) commands(ctx context.Context) (int64, error) {
	info, err := rd.do(ctx, "INFO", "commandstats")
	if err != nil {
		return 0, err
	}
	var n int64
	for _, c := range []string{"evalsha", "eval", "del", "renamenx"} {
		v, ok := infoField(info, "cmdstat_"+c)
		if !ok {
			continue
		}
		calls, _, _ := strings.Cut(strings.TrimPrefix(v, "calls="), ",")
		k, err := strconv.ParseInt(calls, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("commandstats %s: %q", c, v)
		}
		n += k
	}
	return n, nil
}

// do sends one command (RESP array) on a fresh connection and returns a
// simple, integer or bulk reply as text.
func (rd *redisServer) do(ctx context.Context, args ...string) (string, error) {
	d := net.Dialer{Timeout: time.Second}
	conn, err := d.DialContext(ctx, "tcp", rd.addr)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := conn.Write([]byte(b.String())); err != nil {
		return "", err
	}
	return readReply(bufio.NewReader(conn))
}

// readReply reads one RESP reply: a simple string or an integer as text,
// a bulk string (at most maxBody bytes), an error reply as an error.
func readReply(br *bufio.Reader) (string, error) {
	line, err := br.ReadString('\n')
	if err != nil {
		return "", err
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", errors.New("redis: empty reply")
	}
	switch line[0] {
	case '+', ':':
		return line[1:], nil
	case '-':
		return "", fmt.Errorf("redis: %s", line[1:])
	case '$':
		n, err := strconv.Atoi(line[1:])
		if err != nil || n < 0 || n > maxBody {
			return "", fmt.Errorf("redis: bulk length %q", short(line))
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(br, buf); err != nil {
			return "", err
		}
		return string(buf[:n]), nil
	}
	return "", fmt.Errorf("redis: unexpected reply %q", short(line))
}

// infoField returns the value of name in an INFO reply.
func infoField(info, name string) (string, bool) {
	for _, l := range strings.Split(info, "\n") {
		if k, v, ok := strings.Cut(strings.TrimSpace(l), ":"); ok && k == name {
			return v, true
		}
	}
	return "", false
}

func infoInt(info, name string) (int64, error) {
	v, ok := infoField(info, name)
	if !ok {
		return 0, fmt.Errorf("redis INFO: no %s", name)
	}
	return strconv.ParseInt(v, 10, 64)
}
