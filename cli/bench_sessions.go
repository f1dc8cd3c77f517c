package cli

import (
	ucli "github.com/urfave/cli/v2"

	"github.com/gomcat/gomcat/bench"
)

// benchSessionsCommand is `gomcat bench sessions`: the session managers
// side by side (bench.Sessions).
func benchSessionsCommand() *ucli.Command {
	d := bench.DefaultSessionsConfig()
	return &ucli.Command{
		Name:  "sessions",
		Usage: "/set and /get: standalone vs DeltaManager vs RedisManager sticky and non-sticky, Redis commands per request, memory per session in Redis",
		Description: "Launches from this binary on 127.0.0.1: a standalone node, a DeltaManager pair (writes on node1),\n" +
			"a redis-server and two nodes r1, r2 with RedisManager contexts /s (sticky: every request on r1)\n" +
			"and /n (non-sticky: a session's requests alternate r1, r2), and measures them in interleaved rounds.",
		Flags: []ucli.Flag{
			&ucli.DurationFlag{Name: "duration", Value: d.Duration, Usage: "measure per target and load"},
			&ucli.DurationFlag{Name: "round", Value: d.Round, Usage: "length of one interleaved round"},
			&ucli.DurationFlag{Name: "warmup", Value: d.Warmup, Usage: "warmup per target, not measured"},
			&ucli.IntFlag{Name: "concurrency", Value: d.Concurrency, Usage: "workers, each with its own session"},
			&ucli.IntFlag{Name: "size", Value: d.Size, Usage: "bytes of the value /set writes"},
			&ucli.IntFlag{Name: "sessions", Value: d.Sessions, Usage: "sessions filled for the Redis memory figure"},
			&ucli.StringFlag{Name: "redis-server", Usage: "redis-server binary (default: from PATH)"},
		},
		Action: func(c *ucli.Context) error {
			cfg := bench.DefaultSessionsConfig()
			cfg.Duration, cfg.Round, cfg.Warmup = c.Duration("duration"), c.Duration("round"), c.Duration("warmup")
			cfg.Concurrency, cfg.Size, cfg.Sessions = c.Int("concurrency"), c.Int("size"), c.Int("sessions")
			cfg.RedisServer = c.String("redis-server")
			cfg.InitHome = benchInitHome
			cfg.Progress = c.App.ErrWriter
			rep, err := bench.Sessions(c.Context, cfg)
			return printBenchReport(c, rep, err)
		},
	}
}
