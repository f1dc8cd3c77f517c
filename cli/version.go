package cli

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"strings"

	ucli "github.com/urfave/cli/v2"

	"github.com/gomcat/gomcat/runtime/host"
)

// buildInfo is what `gomcat version` reports, from the binary's build
// information (runtime/debug.ReadBuildInfo).
type buildInfo struct {
	Module   string // main module path
	Version  string // module version: a tag, a pseudo-version, or "(devel)"
	Revision string // VCS revision, "" when not recorded (go run, -buildvcs=false)
	Time     string // VCS commit time (RFC 3339)
	Modified bool   // the work tree had local changes
	Go       string // Go toolchain version
}

func readBuildInfo() buildInfo {
	b := buildInfo{Module: "github.com/gomcat/gomcat", Version: "unknown", Go: runtime.Version()}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return b
	}
	return parseBuildInfo(bi)
}

// parseBuildInfo maps debug.BuildInfo (pure, for tests).
func parseBuildInfo(bi *debug.BuildInfo) buildInfo {
	b := buildInfo{Module: bi.Main.Path, Version: bi.Main.Version, Go: bi.GoVersion}
	if b.Version == "" {
		b.Version = "(devel)"
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			b.Revision = s.Value
		case "vcs.time":
			b.Time = s.Value
		case "vcs.modified":
			b.Modified = s.Value == "true"
		}
	}
	return b
}

// short is the one-line version ("v1.2.0", "(devel) 0123456789ab+dirty").
func (b buildInfo) short() string {
	v := b.Version
	if b.Revision != "" && !strings.Contains(v, shortRev(b.Revision)) {
		v += " " + shortRev(b.Revision)
		if b.Modified {
			v += "+dirty"
		}
	}
	return v
}

func shortRev(r string) string { return r[:min(len(r), 12)] }

// version is the one-line version (App.Version).
func version() string { return readBuildInfo().short() }

// printVersion writes what `gomcat version` and `gomcat --version` print.
func printVersion(w io.Writer) {
	b := readBuildInfo()
	fmt.Fprintf(w, "gomcat %s\n", b.Version)
	fmt.Fprintf(w, "module:   %s\n", b.Module)
	if b.Revision != "" {
		dirty := ""
		if b.Modified {
			dirty = " (modified)"
		}
		fmt.Fprintf(w, "revision: %s%s\n", b.Revision, dirty)
		if b.Time != "" {
			fmt.Fprintf(w, "time:     %s\n", b.Time)
		}
	} else {
		fmt.Fprintf(w, "revision: not recorded (go run, or built with -buildvcs=false)\n")
	}
	fmt.Fprintf(w, "go:       %s %s/%s\n", b.Go, runtime.GOOS, runtime.GOARCH)
	fmt.Fprintf(w, "apps:     %s\n", strings.Join(host.Apps(), " "))
}

func versionCommand() *ucli.Command {
	return &ucli.Command{
		Name:  "version",
		Usage: "print the version, VCS revision, Go version and the registered apps (also: gomcat --version)",
		Action: func(c *ucli.Context) error {
			printVersion(c.App.Writer)
			return nil
		},
	}
}
