package cli

import (
	"errors"
	"fmt"
	"slices"
	"time"

	ucli "github.com/urfave/cli/v2"

	"github.com/gomcat/gomcat/runtime/host"
)

func bundleCommand() *ucli.Command {
	return &ucli.Command{
		Name:  "bundle",
		Usage: "create and inspect application bundles (.gar)",
		Subcommands: []*ucli.Command{
			{
				Name:      "create",
				Usage:     "pack DIR (static files) with a META-INF/app.xml manifest into a bundle",
				ArgsUsage: "DIR",
				Flags: []ucli.Flag{
					&ucli.StringFlag{Name: "output", Aliases: []string{"o"}, Required: true, Usage: "bundle file to write (name.gar)"},
					&ucli.StringFlag{Name: "path", Required: true, Usage: "context path: / or /shop"},
					&ucli.StringFlag{Name: "app", Usage: "registered Go app serving the context (omit: static files only)"},
					&ucli.BoolFlag{Name: "distributable", Value: true, Usage: "replicate the context's sessions in a cluster"},
					&ucli.IntFlag{Name: "session-timeout", Usage: "session idle timeout in minutes (0: the host default; -1: never)"},
					&ucli.StringFlag{Name: "version", Usage: "free-text version shown by inspect and in logs"},
				},
				Action: func(c *ucli.Context) error {
					if c.NArg() != 1 {
						return errors.New("bundle create: want exactly one DIR argument")
					}
					m := host.Manifest{Path: c.String("path"), App: c.String("app"), Distributable: c.Bool("distributable"), Version: c.String("version")}
					switch n := c.Int("session-timeout"); {
					case n < 0:
						m.SessionTimeout = -1
					case n > 0:
						m.SessionTimeout = time.Duration(n) * time.Minute
					}
					out := c.String("output")
					if err := host.WriteBundleFile(out, c.Args().First(), m); err != nil {
						return err
					}
					b, err := host.OpenBundle(out, host.BundleLimits{})
					if err != nil {
						return fmt.Errorf("the bundle written does not check: %w", err)
					}
					defer b.Close()
					fmt.Fprintf(c.App.Writer, "wrote %s: %d files, %d bytes, sha256 %s\n", out, b.Files, b.Size, b.SHA256)
					return nil
				},
			},
			{
				Name:      "inspect",
				Usage:     "check a bundle and show its manifest and SHA-256",
				ArgsUsage: "FILE",
				Action: func(c *ucli.Context) error {
					if c.NArg() != 1 {
						return errors.New("bundle inspect: want exactly one FILE argument")
					}
					b, err := host.OpenBundle(c.Args().First(), host.BundleLimits{})
					if err != nil {
						return err
					}
					defer b.Close()
					w := c.App.Writer
					m := b.Manifest
					app := m.App
					switch {
					case app == "":
						app = "(none: static files only)"
					case !slices.Contains(host.Apps(), app):
						app += " (NOT registered in this binary)"
					}
					timeout := "host default"
					if m.SessionTimeout < 0 {
						timeout = "never"
					} else if m.SessionTimeout > 0 {
						timeout = m.SessionTimeout.String()
					}
					fmt.Fprintf(w, "bundle:          %s\nsha256:          %s\nsize:            %d bytes\nfiles:           %d (%d bytes unpacked)\n", b.File, b.SHA256, b.Size, b.Files, b.Bytes)
					fmt.Fprintf(w, "context path:    %s\napp:             %s\ndistributable:   %t\nsession timeout: %s\nversion:         %s\n", m.Path, app, m.Distributable, timeout, m.Version)
					for _, x := range b.Warnings {
						fmt.Fprintf(w, "warning:         %s\n", x)
					}
					fmt.Fprintln(w, "checks:          ok (entries safe, within limits, manifest valid)")
					return nil
				},
			},
		},
	}
}
