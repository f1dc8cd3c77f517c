package cli

import (
	"fmt"

	"github.com/rs/zerolog"
	ucli "github.com/urfave/cli/v2"

	"github.com/gomcat/gomcat/conf"
	"github.com/gomcat/gomcat/runtime/node"
)

// runCommand is `gomcat run`: the node in the foreground (Tomcat's
// `catalina.sh run`, Caddy's `caddy run`).
func runCommand() *ucli.Command {
	return nodeCommand("run", "run the node in the foreground until SIGINT/SIGTERM or gomcat stop")
}

// startCommand is `gomcat start`, kept for compatibility: the same
// foreground run as `gomcat run` (a service manager such as systemd, or
// the shell's `&`, puts it in the background; see contrib/systemd).
func startCommand() *ucli.Command {
	return nodeCommand("start", "the same as run: the node in the foreground (kept for compatibility)")
}

func nodeCommand(name, usage string) *ucli.Command {
	return &ucli.Command{
		Name:  name,
		Usage: usage,
		Description: "Precedence: built-in defaults < conf/server.xml < GOMCAT_* environment < flags.\n" +
			"Refuses a home another live process runs (its logs/gomcat.pid). A second SIGINT/SIGTERM exits at once.",
		Flags: append(append([]ucli.Flag{
			homeFlag(),
			&ucli.DurationFlag{Name: "shutdown-grace", Value: node.DefaultConfig().ShutdownGrace, Usage: "how long in-flight requests may run after a stop"},
			membershipFlag(),
		}, overrideFlags()...), append(logFlags(), logFileFlag())...),
		Action: func(c *ucli.Context) error {
			dir, err := home(c)
			if err != nil {
				return err
			}
			s, warns, err := loadServer(c, dir)
			if err != nil {
				return configError(c, warns, err)
			}
			out := c.App.ErrWriter
			lf, err := openLogFile(c, s, dir)
			if err != nil {
				return err
			}
			if lf != nil {
				defer lf.Close()
				out = lf
			}
			log, err := newLogger(c, out)
			if err != nil {
				return err
			}
			if lf != nil {
				defer reopenOnHangup(lf, log)()
				fmt.Fprintf(c.App.ErrWriter, "gomcat: logging to %s\n", lf.Path())
			}
			logWarnings(log, warns)
			cfg := node.DefaultConfig()
			cfg.Server, cfg.Home, cfg.Logger = s, dir, log
			cfg.ShutdownGrace = c.Duration("shutdown-grace")
			cfg.OwnsProcess = ownsProcess(c.Context)
			n, err := node.New(cfg)
			if err != nil {
				return err
			}
			return n.Run(c.Context)
		},
	}
}

// configError prints warnings and every problem, then returns a one-line
// error.
func configError(c *ucli.Context, warns []conf.Warning, err error) error {
	printWarnings(c.App.ErrWriter, warns)
	ps := problems(err)
	if len(ps) == 1 {
		return fmt.Errorf("%s", ps[0])
	}
	for _, p := range ps {
		fmt.Fprintln(c.App.ErrWriter, p)
	}
	return fmt.Errorf("configuration has %d problems (see above; gomcat configtest shows them too)", len(ps))
}

func logWarnings(log zerolog.Logger, warns []conf.Warning) {
	for _, w := range warns {
		log.Warn().Msg(w.String())
	}
}
