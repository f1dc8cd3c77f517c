package cli

import (
	"fmt"
	"runtime"
	"runtime/debug"

	ucli "github.com/urfave/cli/v2"

	"github.com/gomcat/gomcat/runtime/host"
)

// version is the main module's version ("(devel)" in a source build) plus
// the VCS revision when the binary records one.
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	v := bi.Main.Version
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			v += " " + s.Value[:12]
		}
	}
	return v
}

func versionCommand() *ucli.Command {
	return &ucli.Command{
		Name:  "version",
		Usage: "print the version, the Go version and the registered apps",
		Action: func(c *ucli.Context) error {
			fmt.Fprintf(c.App.Writer, "gomcat %s %s %s/%s\napps: %v\n", version(), runtime.Version(), runtime.GOOS, runtime.GOARCH, host.Apps())
			return nil
		},
	}
}
