package cli

import (
	"fmt"

	ucli "github.com/urfave/cli/v2"

	"github.com/gomcat/gomcat/runtime/node"
)

func configtestCommand() *ucli.Command {
	return &ucli.Command{
		Name:  "configtest",
		Usage: "check conf/server.xml and the context descriptors; print the effective configuration",
		Flags: append([]ucli.Flag{homeFlag()}, overrideFlags()...),
		Action: func(c *ucli.Context) error {
			dir, err := home(c)
			if err != nil {
				return err
			}
			s, warns, err := loadServer(c, dir)
			if err == nil {
				err = node.CheckClusterKeys(s)
			}
			printWarnings(c.App.ErrWriter, warns)
			if err != nil {
				ps := problems(err)
				for _, p := range ps {
					fmt.Fprintln(c.App.ErrWriter, p)
				}
				return &exitError{code: 1, err: fmt.Errorf("configuration has %d problem(s)", len(ps))}
			}
			s.Describe(c.App.Writer)
			fmt.Fprintln(c.App.Writer, "Configuration OK")
			return nil
		},
	}
}
