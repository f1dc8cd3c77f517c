package cli

import (
	"context"
	"fmt"
	"net"
	"os"
	"strconv"

	ucli "github.com/urfave/cli/v2"

	"github.com/gomcat/gomcat/conf"
	"github.com/gomcat/gomcat/runtime/node"
)

// demoPort is the walkthrough's first node's HTTP port.
const demoPort = 8091

func demoCommand() *ucli.Command {
	return &ucli.Command{
		Name:  "demo",
		Usage: "run a throw-away node with the example app on 127.0.0.1 (Ctrl-C stops it and removes its home)",
		Flags: append([]ucli.Flag{
			&ucli.IntFlag{Name: "http-port", Value: demoPort, Usage: "HTTP port; a free one is used if it is taken"},
		}, logFlags()...),
		Action: func(c *ucli.Context) error {
			log, err := newLogger(c, c.App.ErrWriter)
			if err != nil {
				return err
			}
			dir, err := os.MkdirTemp("", "gomcat-demo-")
			if err != nil {
				return err
			}
			defer os.RemoveAll(dir)
			p := conf.DefaultTemplateParams()
			p.ShutdownPort = -1 // Ctrl-C stops the demo
			p.HTTPPort = freePort(c.Int("http-port"))
			if err := initHome(dir, p, true); err != nil {
				return err
			}
			s, warns, err := conf.Load(dir)
			if err == nil {
				loopback := "127.0.0.1"
				warns = append(warns, s.Apply(conf.Overrides{Source: "demo", HTTPAddress: &loopback})...)
				err = s.Validate()
			}
			if err != nil {
				return configError(c, warns, err)
			}
			logWarnings(log, warns)
			cfg := node.DefaultConfig()
			cfg.Server, cfg.Home, cfg.Logger = s, dir, log
			n, err := node.New(cfg)
			if err != nil {
				return err
			}
			if err := n.Start(c.Context); err != nil {
				return err
			}
			u := n.URLs()[0]
			if p.HTTPPort != c.Int("http-port") {
				fmt.Fprintf(c.App.Writer, "port %d is taken; using %d\n", c.Int("http-port"), p.HTTPPort)
			}
			fmt.Fprintf(c.App.Writer, `
Gomcat demo: one node (jvmRoute %s) with the example app, home %s
  open      %s/
  try       curl -c /tmp/jar -b /tmp/jar '%s/set?k=color&v=blue'
            curl -b /tmp/jar '%s/get?k=color'
            curl -c /tmp/jar -b /tmp/jar '%s/cart/add?item=apple'
  stop      Ctrl-C (the home is removed)
`, p.JvmRoute, dir, u, u, u, u)
			<-c.Context.Done()
			return n.Stop(context.WithoutCancel(c.Context))
		},
	}
}

// freePort returns want if it can be bound on 127.0.0.1, else a free port.
func freePort(want int) int {
	if ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(want))); err == nil {
		ln.Close()
		return want
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return want
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
