package cli

import (
	ucli "github.com/urfave/cli/v2"

	"github.com/gomcat/gomcat/bench"
)

func benchAJPCommand() *ucli.Command {
	d := bench.DefaultAJPConfig()
	return &ucli.Command{
		Name:  "ajp",
		Usage: "small GETs through Apache httpd: mod_jk → the AJP connector vs mod_proxy_http → the HTTP connector (and mod_proxy_ajp), interleaved",
		Description: "With URLs: measures those (front ends in front of the same node). Without: launches a node from this binary\n" +
			"with an AJP connector beside its HTTP one and one httpd (apache2 + libapache2-mod-jk) with three listeners,\n" +
			"all on 127.0.0.1, every front end keeping its backend connections open.",
		Flags: []ucli.Flag{
			&ucli.StringFlag{Name: "modjk", Usage: "URL of httpd + mod_jk in front of the node's AJP connector"},
			&ucli.StringFlag{Name: "proxy-http", Usage: "URL of httpd + mod_proxy_http in front of the node's HTTP connector"},
			&ucli.StringFlag{Name: "proxy-ajp", Usage: "URL of httpd + mod_proxy_ajp in front of the node's AJP connector"},
			&ucli.DurationFlag{Name: "duration", Value: d.Duration, Usage: "measure per target"},
			&ucli.DurationFlag{Name: "round", Value: d.Round, Usage: "length of one interleaved round"},
			&ucli.DurationFlag{Name: "warmup", Value: d.Warmup, Usage: "warmup per target, not measured"},
			&ucli.IntFlag{Name: "concurrency", Value: d.Concurrency, Usage: "workers, each with its own session"},
			&ucli.StringFlag{Name: "httpd-bin", Value: d.HTTPDBin, Usage: "httpd binary of the self-contained mode"},
		},
		Action: func(c *ucli.Context) error {
			cfg := bench.DefaultAJPConfig()
			cfg.ModJK, cfg.ProxyHTTP, cfg.ProxyAJP = c.String("modjk"), c.String("proxy-http"), c.String("proxy-ajp")
			cfg.Duration, cfg.Round, cfg.Warmup = c.Duration("duration"), c.Duration("round"), c.Duration("warmup")
			cfg.Concurrency, cfg.HTTPDBin = c.Int("concurrency"), c.String("httpd-bin")
			cfg.InitHome = benchInitHome
			cfg.Progress = c.App.ErrWriter
			rep, err := bench.AJP(c.Context, cfg)
			return printBenchReport(c, rep, err)
		},
	}
}
