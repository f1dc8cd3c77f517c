package cli

import (
	"errors"
	"fmt"

	ucli "github.com/urfave/cli/v2"

	"github.com/gomcat/gomcat/conf"
	"github.com/gomcat/gomcat/runtime/node"
)

func configtestCommand() *ucli.Command {
	return &ucli.Command{
		Name:  "configtest",
		Usage: "check conf/server.xml and the context descriptors; print the effective configuration",
		Flags: append([]ucli.Flag{homeFlag(), membershipFlag()}, overrideFlags()...),
		Action: func(c *ucli.Context) error {
			dir, err := home(c)
			if err != nil {
				return err
			}
			s, warns, err := loadServer(c, dir)
			if s != nil && s.Engine() != nil {
				// What start would refuse beyond the file itself (the
				// subsystems' own checks, apps, docBase, keys), reported
				// with the file's problems rather than hidden by them.
				err = merge(err, errors.Join(node.CheckClusterKeys(s), node.Check(s, dir)))
			}
			ps := problems(err)
			printWarnings(c.App.ErrWriter, warns)
			if len(ps) > 0 {
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

// merge joins the node's problems to the file's. When the file has
// problems, a node problem about a whole element (a subsystem's Validate)
// is left out: it nearly always restates one of the file's (the file's
// range check names the attribute, the subsystem the element). The
// start-time checks of one attribute (app, docBase) are always kept.
func merge(file, node error) error {
	if file == nil {
		return node
	}
	errs := []error{file}
	for _, e := range leaves(node) {
		if ce, ok := e.(*conf.Error); ok && ce.Attr != "" {
			errs = append(errs, e)
		}
	}
	return errors.Join(errs...)
}

// leaves flattens joined errors.
func leaves(err error) []error {
	if err == nil {
		return nil
	}
	if _, isConf := err.(*conf.Error); !isConf {
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			var out []error
			for _, e := range j.Unwrap() {
				out = append(out, leaves(e)...)
			}
			return out
		}
	}
	return []error{err}
}
