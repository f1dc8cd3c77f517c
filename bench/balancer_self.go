package bench

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"github.com/gomcat/gomcat/balancer"
)

// selfContainedBalancer launches node1 and node2, "gomcat balancer" with
// both as static backends and, when haproxy is installed, HAProxy from
// balancer.Generate's config, all on 127.0.0.1; then measures them with
// node1 as the direct target. A front end that does not come up is left
// out with a note.
func selfContainedBalancer(ctx context.Context, cfg BalancerConfig, rep *Report) error {
	rc := DefaultReplicationConfig()
	rc.Exe, rc.InitHome, rc.Progress, rc.StartTimeout = cfg.Exe, cfg.InitHome, cfg.Progress, cfg.StartTimeout
	cl, err := newCluster(rc)
	if err != nil {
		return err
	}
	defer cl.close()
	n1, err := cl.start(ctx, "node1", false)
	if err != nil {
		return err
	}
	n2, err := cl.start(ctx, "node2", false)
	if err != nil {
		return err
	}
	if err := cl.ready(ctx, n1, n2); err != nil {
		return err
	}
	cfg.Direct = n1.url

	port, err := freeTCPPort()
	if err != nil {
		return err
	}
	listen := "127.0.0.1:" + strconv.Itoa(port)
	fmt.Fprintf(cfg.Progress, "bench: starting gomcat balancer on %s\n", listen)
	lb, err := launchCmd("balancer", "http://"+listen, cl.exe, "balancer", "--listen", listen, "--admin", "",
		"--backend", "node1="+n1.url, "--backend", "node2="+n2.url)
	if err == nil {
		cl.add(lb)
		err = waitHTTP(ctx, lb, 15*time.Second)
	}
	if err != nil {
		rep.Note("gomcat balancer left out: %v", err)
	} else {
		cfg.Balancer = lb.url
	}

	if ha, err := cl.startHAProxy(ctx, cfg.HAProxyBin, []balancer.NodeInfo{{Name: "node1", HTTPURL: n1.url}, {Name: "node2", HTTPURL: n2.url}}); err != nil {
		rep.Note("HAProxy left out: %v", err)
	} else {
		cfg.HAProxy = ha.url
	}
	return measureFrontEnds(ctx, cfg, rep)
}

// startHAProxy writes a config from balancer.Generate and runs haproxy in
// the foreground (-db) on a free loopback port.
func (cl *cluster) startHAProxy(ctx context.Context, bin string, nodes []balancer.NodeInfo) (*node, error) {
	if bin == "" {
		bin = "haproxy"
	}
	path, err := exec.LookPath(bin)
	if err != nil {
		return nil, fmt.Errorf("%s not found: %w", bin, err)
	}
	port, err := freeTCPPort()
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(cl.root, "haproxy")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("haproxy dir: %w", err)
	}
	listen := "127.0.0.1:" + strconv.Itoa(port)
	conf, err := balancer.Generate("haproxy", nodes, balancer.GenOptions{Listen: listen, TmpDir: dir,
		PidFile: filepath.Join(dir, "haproxy.pid"), ErrorLog: filepath.Join(dir, "error.log"), HealthPath: "/count"})
	if err != nil {
		return nil, fmt.Errorf("haproxy config: %w", err)
	}
	file := filepath.Join(dir, "haproxy.cfg")
	if err := os.WriteFile(file, conf, 0o600); err != nil {
		return nil, fmt.Errorf("haproxy config: %w", err)
	}
	if out, err := exec.CommandContext(ctx, path, "-c", "-f", file).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("haproxy -c -f %s: %w: %s", file, err, short(string(out)))
	}
	fmt.Fprintf(cl.cfg.Progress, "bench: starting haproxy on %s\n", listen)
	ha, err := launchCmd("haproxy", "http://"+listen, path, "-db", "-f", file)
	if err != nil {
		return nil, err
	}
	cl.add(ha)
	if err := waitHTTP(ctx, ha, 15*time.Second); err != nil {
		return nil, err
	}
	return ha, nil
}

// add registers a child for close.
func (cl *cluster) add(n *node) {
	cl.mu.Lock()
	cl.nodes = append(cl.nodes, n)
	cl.mu.Unlock()
}

// waitHTTP polls GET n.url/count until it answers 200, the process exits
// or timeout passes.
func waitHTTP(ctx context.Context, n *node, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	c := NewClient(1)
	defer c.CloseIdleConnections()
	a := newAgent(c)
	var last error
	for {
		code, _, err := a.get(ctx, joinURL(n.url, "/count"))
		if err == nil && code == http.StatusOK {
			return nil
		}
		last = err
		if err == nil {
			last = fmt.Errorf("status %d", code)
		}
		t := time.NewTimer(20 * time.Millisecond)
		select {
		case <-n.exited:
			t.Stop()
			return fmt.Errorf("%s exited (%v): %v", n.name, n.exitErr, n.log.tail(4))
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%s not answering %s/count within %v: %v", n.name, n.url, timeout, last)
		case <-t.C:
		}
	}
}
