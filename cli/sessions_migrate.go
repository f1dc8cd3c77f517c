package cli

import (
	"context"
	"fmt"
	"time"

	ucli "github.com/urfave/cli/v2"

	"github.com/gomcat/gomcat/runtime/node"
)

// migrateCommand is `gomcat sessions migrate`: the bridge moving a
// DeltaManager cluster's live sessions into Redis (node.Bridge).
func migrateCommand() *ucli.Command {
	return &ucli.Command{
		Name:  "migrate",
		Usage: "move a DeltaManager cluster's live sessions into Redis, and keep them in step until stopped",
		Description: "Joins the cluster of --home's server.xml as a member without a connector (balancers never\n" +
			"route to it), receives the sessions of every context whose <Context> there holds\n" +
			"<Manager className=\"gomcat.RedisManager\" …/> by state transfer, writes them into Redis under\n" +
			"the same ids, then copies every change the members replicate (and deletes what they\n" +
			"invalidate) until SIGINT/SIGTERM, or exits after the first copy with --once. Give it a\n" +
			"jvmRoute and receiver port of its own (--jvm-route, --receiver-port). Meanwhile switch the\n" +
			"nodes to RedisManager one at a time: no user is logged out.",
		Flags: append([]ucli.Flag{
			homeFlag(),
			&ucli.BoolFlag{Name: "once", Usage: "exit after the first copy"},
			&ucli.DurationFlag{Name: "interval", Value: node.DefaultBridgeInterval, Usage: "how often changed sessions are copied"},
		}, append(overrideFlags(), logFlags()...)...),
		Action: func(c *ucli.Context) error {
			dir, err := home(c)
			if err != nil {
				return err
			}
			s, warns, err := loadServer(c, dir)
			if err != nil {
				return configError(c, warns, err)
			}
			log, err := newLogger(c, c.App.ErrWriter)
			if err != nil {
				return err
			}
			logWarnings(log, warns)
			b, err := node.NewBridge(node.BridgeConfig{Server: s, Home: dir, Interval: c.Duration("interval"), Logger: log})
			if err != nil {
				return err
			}
			if err := b.Start(c.Context); err != nil {
				return err
			}
			if !c.Bool("once") {
				_ = b.Run(c.Context)
			}
			for _, st := range b.Stats() {
				fmt.Fprintf(c.App.Writer, "%s: %d sessions held, %d copies into Redis, %d deleted, %d failed\n",
					st.Context, st.Held, st.Copied, st.Deleted, st.Failed)
			}
			ctx, cancel := context.WithTimeout(context.WithoutCancel(c.Context), 30*time.Second)
			defer cancel()
			return b.Stop(ctx)
		},
	}
}
