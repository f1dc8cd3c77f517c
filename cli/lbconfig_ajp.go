package cli

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	ucli "github.com/urfave/cli/v2"

	"github.com/gomcat/gomcat/balancer"
	"github.com/gomcat/gomcat/conf"
)

// ajpLBFlags are the lbconfig flags of the AJP front ends (mod_jk, and
// httpd --ajp for mod_proxy_ajp).
var ajpLBFlags = []ucli.Flag{
	&ucli.BoolFlag{Name: "ajp", Usage: "httpd: balance over AJP/1.3 (mod_proxy_ajp, ajp:// members) instead of HTTP"},
	&ucli.StringFlag{Name: "workers-file", Usage: "modjk: where workers.properties goes (default: beside -o, else in --tmp-dir)"},
	&ucli.StringFlag{Name: "ajp-secret-file", Usage: "AJP secret for the --node name=ajp://host:port nodes, read from `FILE`"},
}

// runLBConfigAJP writes the mod_jk (workers.properties + httpd.conf) or
// mod_proxy_ajp front end. Nodes come from --home (the first AJP
// Connector: address, port, secret, packetSize) or --node name=ajp://host:port.
func runLBConfigAJP(c *ucli.Context, kind string) error {
	if kind != "modjk" && kind != "httpd" {
		return fmt.Errorf("--ajp is for lbconfig httpd (mod_proxy_ajp); lbconfig modjk is mod_jk")
	}
	if c.Bool("from-membership") {
		return errors.New("heartbeats do not carry the AJP connector: pass --home DIR or --node name=ajp://host:port")
	}
	secret := ""
	if f := c.String("ajp-secret-file"); f != "" {
		b, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		secret = strings.TrimSpace(string(b))
	}
	var nodes []balancer.AJPNode
	for _, h := range c.StringSlice("home") {
		n, err := homeAJPNode(h)
		if err != nil {
			return err
		}
		nodes = append(nodes, n)
	}
	for _, s := range c.StringSlice("node") {
		name, addr, ok := strings.Cut(s, "=")
		if !ok || !strings.HasPrefix(addr, "ajp://") {
			return fmt.Errorf("--node %q: want name=ajp://host:port for an AJP front end", s)
		}
		nodes = append(nodes, balancer.AJPNode{Name: name, Addr: strings.TrimPrefix(addr, "ajp://"), Secret: secret})
	}
	if len(nodes) == 0 {
		return errors.New("no nodes: pass --home DIR (repeatable) or --node name=ajp://host:port")
	}
	opts, err := lbGenOptions(c)
	if err != nil {
		return err
	}
	file, names := c.String("output"), ""
	for _, n := range nodes {
		names += " " + n.Name + "=ajp://" + n.Addr
	}
	if kind == "httpd" {
		out, err := balancer.GenerateHTTPDAJP(nodes, opts)
		if err != nil {
			return err
		}
		return writeLBFile(c, file, out, "httpd --ajp"+names)
	}
	opts.WorkersFile = c.String("workers-file")
	if opts.WorkersFile == "" && file != "" {
		opts.WorkersFile = filepath.Join(filepath.Dir(file), "workers.properties")
	}
	if opts.WorkersFile != "" {
		if opts.WorkersFile, err = filepath.Abs(opts.WorkersFile); err != nil {
			return err
		}
	}
	httpdConf, workers, err := balancer.GenerateModJK(nodes, opts)
	if err != nil {
		return err
	}
	if opts.WorkersFile == "" { // both to stdout
		fmt.Fprintln(c.App.Writer, "# ---- workers.properties ----")
		c.App.Writer.Write(workers)
		fmt.Fprintln(c.App.Writer, "# ---- httpd.conf ----")
	} else if err := writeLBFile(c, opts.WorkersFile, workers, "modjk workers"+names); err != nil {
		return err
	}
	return writeLBFile(c, file, httpdConf, "modjk httpd.conf"+names)
}

// writeLBFile writes data to path (0600: it may hold the AJP secret), or
// to stdout when path is "".
func writeLBFile(c *ucli.Context, path string, data []byte, what string) error {
	if path == "" {
		_, err := c.App.Writer.Write(data)
		return err
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		return err
	}
	fmt.Fprintf(c.App.ErrWriter, "wrote %s (%s)\n", path, what)
	return nil
}

// homeAJPNode reads a node's jvmRoute and first AJP connector from its home.
func homeAJPNode(dir string) (balancer.AJPNode, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return balancer.AJPNode{}, err
	}
	s, _, err := conf.Load(dir)
	if err == nil {
		err = s.Validate()
	}
	if err != nil {
		return balancer.AJPNode{}, fmt.Errorf("%s: %s (gomcat configtest --home %s shows every problem)", dir, strings.Join(problems(err), "; "), dir)
	}
	e, svc := s.Engine(), s.Service()
	if e == nil || e.JvmRoute == "" {
		return balancer.AJPNode{}, fmt.Errorf("%s: the Engine has no jvmRoute, so mod_jk has no worker name to route to", dir)
	}
	if svc == nil || len(svc.AJPConnectors) == 0 {
		return balancer.AJPNode{}, fmt.Errorf(`%s: no AJP connector (add <Connector protocol="AJP/1.3" port="8009" secret="…"/> to conf/server.xml)`, dir)
	}
	ac := svc.AJPConnectors[0]
	if ac.Port == 0 {
		return balancer.AJPNode{}, fmt.Errorf("%s: the AJP Connector's port is 0 (picked at start): write a port, or pass --node %s=ajp://HOST:PORT", dir, e.JvmRoute)
	}
	host := ac.Address
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
		if s.Connector() != nil {
			host = reachableHost(s)
		}
	}
	return balancer.AJPNode{Name: e.JvmRoute, Addr: net.JoinHostPort(host, strconv.Itoa(ac.Port)), Secret: ac.Secret, PacketSize: ac.PacketSize}, nil
}
