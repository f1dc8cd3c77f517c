package cli

import (
	ucli "github.com/urfave/cli/v2"

	"github.com/gomcat/gomcat/bench"
)

func benchStartCommand() *ucli.Command {
	d := bench.DefaultStartConfig()
	return &ucli.Command{
		Name:  "start",
		Usage: "process start → first HTTP 200 (a lone cluster node) and → /count == N (a node joining a filled member)",
		Description: "Launches from this binary (and from --baseline-binary, in the same interleaved rounds) a member\n" +
			"filled with --sessions sessions, then per round a lone cluster node (its own domain) and a node joining\n" +
			"the member, each timed from process start by polling /count; all on 127.0.0.1.",
		Flags: []ucli.Flag{
			&ucli.StringFlag{Name: "baseline-binary", Usage: "another gomcat binary measured in the same rounds (\"before\")"},
			&ucli.IntFlag{Name: "rounds", Value: d.Rounds, Usage: "starts of each kind per binary"},
			&ucli.IntFlag{Name: "sessions", Value: d.Sessions, Usage: "sessions the joining node receives"},
			&ucli.IntFlag{Name: "size", Value: d.Size, Usage: "bytes of each session's value"},
			&ucli.IntFlag{Name: "fill-concurrency", Value: d.FillConcurrency, Usage: "workers of the fill"},
			&ucli.DurationFlag{Name: "poll", Value: d.Poll, Usage: "pause between two GETs of a starting node"},
		},
		Action: func(c *ucli.Context) error {
			cfg := bench.DefaultStartConfig()
			cfg.Baseline, cfg.Rounds, cfg.Sessions = c.String("baseline-binary"), c.Int("rounds"), c.Int("sessions")
			cfg.Size, cfg.FillConcurrency, cfg.Poll = c.Int("size"), c.Int("fill-concurrency"), c.Duration("poll")
			cfg.InitHome = benchInitHome
			cfg.Progress = c.App.ErrWriter
			rep, err := bench.Start(c.Context, cfg)
			return printBenchReport(c, rep, err)
		},
	}
}
