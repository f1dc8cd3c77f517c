package bench

import (
	"bytes"
	"context"
	"embed"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"text/template"
	"time"
)

const secAJP = "small GET /get?k=x with a session cookie through Apache httpd (closed loop, a session per worker)"

// AJPConfig configures AJP: small GETs through httpd + mod_jk to a node's
// AJP connector against httpd + mod_proxy_http to its HTTP connector.
type AJPConfig struct {
	// ModJK, ProxyHTTP and ProxyAJP are front-end URLs (httpd with mod_jk
	// to the AJP connector, mod_proxy_http to the HTTP connector,
	// mod_proxy_ajp to the AJP connector) in front of the same node.
	// None: self-contained (a node and one httpd with the three on
	// 127.0.0.1).
	ModJK, ProxyHTTP, ProxyAJP string
	// Duration per target, split into rounds of Round. Default: 10 s.
	Duration time.Duration
	// Round is the length of one interleaved round. Default: 2 s.
	Round time.Duration
	// Warmup per target before measuring. Default: 1 s.
	Warmup time.Duration
	// Concurrency is the number of workers, each with its own session.
	// Default: 16.
	Concurrency int
	// Progress receives one line per step. Default: io.Discard.
	Progress io.Writer
	// Exe, InitHome and StartTimeout: as in ReplicationConfig.
	Exe          string
	InitHome     InitFunc
	StartTimeout time.Duration
	// HTTPDBin is the httpd binary of the self-contained mode. Default:
	// "apache2" from PATH (then /usr/sbin/apache2).
	HTTPDBin string
	// ModulesDir holds httpd's modules (mod_jk.so). Default:
	// /usr/lib/apache2/modules (Debian).
	ModulesDir string
}

// DefaultAJPConfig returns the defaults above.
func DefaultAJPConfig() AJPConfig {
	return AJPConfig{Duration: 10 * time.Second, Round: 2 * time.Second, Warmup: time.Second, Concurrency: 16,
		Progress: io.Discard, StartTimeout: 90 * time.Second, HTTPDBin: "apache2", ModulesDir: "/usr/lib/apache2/modules"}
}

// Validate checks every field and returns the problems wrapped in ErrConfig.
func (c AJPConfig) Validate() error {
	for name, u := range map[string]string{"modjk": c.ModJK, "proxy-http": c.ProxyHTTP, "proxy-ajp": c.ProxyAJP} {
		if err := checkURL(name, u); err != nil {
			return err
		}
	}
	if c.Duration <= 0 || c.Round <= 0 || c.Warmup < 0 || c.Concurrency < 1 || c.StartTimeout <= 0 {
		return fmt.Errorf("%w: duration %v, round %v, warmup %v, concurrency %d, start timeout %v", ErrConfig,
			c.Duration, c.Round, c.Warmup, c.Concurrency, c.StartTimeout)
	}
	return nil
}

// AJP runs "gomcat bench ajp".
func AJP(ctx context.Context, cfg AJPConfig) (*Report, error) {
	d := DefaultAJPConfig()
	if cfg.Progress == nil {
		cfg.Progress = d.Progress
	}
	if cfg.HTTPDBin == "" {
		cfg.HTTPDBin = d.HTTPDBin
	}
	if cfg.ModulesDir == "" {
		cfg.ModulesDir = d.ModulesDir
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	rep := &Report{Title: "gomcat bench ajp", Machine: ThisMachine()}
	if cfg.ModJK == "" && cfg.ProxyHTTP == "" && cfg.ProxyAJP == "" {
		rep.Title += ": self-contained (one node with HTTP and AJP connectors, one httpd, on 127.0.0.1)"
		return rep, selfContainedAJP(ctx, cfg, rep)
	}
	return rep, measureAJP(ctx, cfg, rep)
}

func measureAJP(ctx context.Context, cfg AJPConfig, rep *Report) error {
	c := NewClient(cfg.Concurrency + 1)
	defer c.CloseIdleConnections()
	seed := rand.Uint64()
	var ts []target
	idx := map[string]int{}
	for _, x := range []struct{ name, url string }{
		{"mod_jk → AJP", cfg.ModJK}, {"mod_proxy_http → HTTP", cfg.ProxyHTTP}, {"mod_proxy_ajp → AJP", cfg.ProxyAJP},
	} {
		if x.url == "" {
			continue
		}
		idx[x.name] = len(ts)
		ts = append(ts, target{name: x.name, newOp: getOps(c, x.url, seed+uint64(len(ts)))})
		rep.Note("%s: %s", x.name, x.url)
	}
	fmt.Fprintf(cfg.Progress, "bench: GET /get with a session, %d workers, %v per target\n", cfg.Concurrency, cfg.Duration)
	res, err := interleave(ctx, ts, cfg.Concurrency, cfg.Duration, cfg.Round, cfg.Warmup, cfg.Progress)
	if err != nil {
		return err
	}
	for i, t := range ts {
		rep.Add(secAJP, Row{Metric: t.name, Value: throughputValue(res[i])})
		if res[i].FirstErr != nil {
			rep.Note("%s: first error: %v", t.name, res[i].FirstErr)
		}
	}
	jk, okJK := idx["mod_jk → AJP"]
	if h, ok := idx["mod_proxy_http → HTTP"]; ok && okJK && res[h].Rate() > 0 {
		ratio := res[jk].Rate() / res[h].Rate()
		rep.Add(secAJP, Row{Metric: "mod_jk / mod_proxy_http throughput", Value: fmt.Sprintf("%.0f %%", 100*ratio), Goal: "≥ 100 %", Verdict: verdict(ratio >= 1)})
		added := res[jk].Latency.Quantile(0.5) - res[h].Latency.Quantile(0.5)
		rep.Add(secAJP, Row{Metric: "mod_jk vs mod_proxy_http at p50", Value: signed(added)})
	}
	return nil
}

// ajpSecret is the self-contained bench's AJP secret (loopback only).
const ajpSecret = "gomcat-bench-ajp"

// selfContainedAJP launches node1 with an AJP connector beside its HTTP
// one, and one httpd with three loopback listeners: mod_jk and
// mod_proxy_ajp to the AJP connector, mod_proxy_http to the HTTP one, each
// keeping its backend connections open (the usual production setting).
func selfContainedAJP(ctx context.Context, cfg AJPConfig, rep *Report) error {
	httpd, err := exec.LookPath(cfg.HTTPDBin)
	if err != nil {
		if httpd, err = exec.LookPath("/usr/sbin/" + cfg.HTTPDBin); err != nil {
			return fmt.Errorf("%s not found (apt-get install apache2 libapache2-mod-jk): %w", cfg.HTTPDBin, err)
		}
	}
	if _, err := os.Stat(filepath.Join(cfg.ModulesDir, "mod_jk.so")); err != nil {
		return fmt.Errorf("mod_jk not found in %s (apt-get install libapache2-mod-jk): %w", cfg.ModulesDir, err)
	}
	ajpPort, err := freeTCPPort()
	if err != nil {
		return err
	}
	rc := DefaultReplicationConfig()
	rc.Exe, rc.Progress, rc.StartTimeout = cfg.Exe, cfg.Progress, cfg.StartTimeout
	rc.InitHome = func(ctx context.Context, dir string, p HomeParams) error {
		init := cfg.InitHome
		if init == nil {
			init = execInit(cfg.Exe)
		}
		if err := init(ctx, dir, p); err != nil {
			return err
		}
		return addAJPConnector(filepath.Join(dir, "conf", "server.xml"), ajpPort)
	}
	cl, err := newCluster(rc)
	if err != nil {
		return err
	}
	defer cl.close()
	n1, err := cl.start(ctx, "node1", true)
	if err != nil {
		return err
	}
	if err := cl.ready(ctx, n1); err != nil {
		return err
	}
	var ports [3]int
	for i := range ports {
		if ports[i], err = freeTCPPort(); err != nil {
			return err
		}
	}
	dir := filepath.Join(cl.root, "httpd")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	conf := filepath.Join(dir, "httpd.conf")
	d := ajpHTTPD{Dir: dir, ModulesDir: cfg.ModulesDir, Ports: ports, NodeURL: n1.url, AJPPort: ajpPort, Secret: ajpSecret}
	if os.Geteuid() == 0 {
		d.User, d.Group = "nobody", nobodyGroup()
	}
	for _, f := range [][2]string{{filepath.Join(dir, "workers.properties"), "workers.properties.tmpl"}, {conf, "httpd.conf.tmpl"}} {
		var b bytes.Buffer
		if err := ajpTemplates.ExecuteTemplate(&b, f[1], d); err != nil {
			return fmt.Errorf("bench: httpd config %s: %w", f[1], err)
		}
		if err := os.WriteFile(f[0], b.Bytes(), 0o600); err != nil {
			return err
		}
	}
	if out, err := exec.CommandContext(ctx, httpd, "-t", "-f", conf).CombinedOutput(); err != nil {
		return fmt.Errorf("%s -t -f %s: %w: %s", httpd, conf, err, short(string(out)))
	}
	url := func(p int) string { return "http://127.0.0.1:" + strconv.Itoa(p) }
	fmt.Fprintf(cfg.Progress, "bench: starting httpd on 127.0.0.1:%d (mod_jk), :%d (mod_proxy_http), :%d (mod_proxy_ajp)\n", ports[0], ports[1], ports[2])
	h, err := launchCmd("httpd", url(ports[0]), httpd, "-f", conf, "-DFOREGROUND")
	if err != nil {
		return err
	}
	cl.add(h)
	for _, p := range ports {
		if err := waitHTTP(ctx, &node{name: "httpd", url: url(p), exited: h.exited, log: h.log}, 15*time.Second); err != nil {
			return err
		}
	}
	cfg.ModJK, cfg.ProxyHTTP, cfg.ProxyAJP = url(ports[0]), url(ports[1]), url(ports[2])
	rep.Note("node1: HTTP %s, AJP 127.0.0.1:%d; httpd config %s", n1.url, ajpPort, conf)
	return measureAJP(ctx, cfg, rep)
}

// addAJPConnector puts an AJP connector on 127.0.0.1:port (with the bench
// secret) before the Engine of a server.xml.
func addAJPConnector(file string, port int) error {
	b, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	conn := fmt.Appendf(nil, "\n    <Connector protocol=\"AJP/1.3\" port=\"%d\" address=\"127.0.0.1\" secret=\"%s\"/>\n    <Engine ", port, ajpSecret)
	out := bytes.Replace(b, []byte("\n    <Engine "), conn, 1)
	if bytes.Equal(out, b) {
		return fmt.Errorf("%s: no <Engine> to put the AJP connector before", file)
	}
	return os.WriteFile(file, out, 0o644)
}

// The bench's httpd.conf and workers.properties are the templates in ajp/.
var (
	//go:embed ajp/*.tmpl
	ajpFiles     embed.FS
	ajpTemplates = template.Must(template.New("ajp").Funcs(template.FuncMap{
		"quote": strconv.Quote,
		"path":  func(dir, file string) string { return filepath.Join(dir, file) },
	}).ParseFS(ajpFiles, "ajp/*.tmpl"))
)

// ajpHTTPD is what the templates in ajp/ render.
type ajpHTTPD struct {
	Dir, ModulesDir string // httpd's root (pid, logs, shm, workers) and modules
	Ports           [3]int // mod_jk, mod_proxy_http, mod_proxy_ajp listeners on 127.0.0.1
	NodeURL         string // the node's HTTP connector
	AJPPort         int    // the node's AJP connector on 127.0.0.1
	Secret          string // the AJP connector's secret
	User, Group     string // httpd's workers when started as root; "" = none
}

// nobodyGroup is Debian's "nogroup", else "nobody".
func nobodyGroup() string {
	b, _ := os.ReadFile("/etc/group")
	if bytes.HasPrefix(b, []byte("nogroup:")) || bytes.Contains(b, []byte("\nnogroup:")) {
		return "nogroup"
	}
	return "nobody"
}
