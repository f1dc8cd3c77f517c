package cli

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/rs/zerolog"
	ucli "github.com/urfave/cli/v2"
)

func logFlags() []ucli.Flag {
	return []ucli.Flag{
		&ucli.StringFlag{Name: "log-level", Value: "info", Usage: "trace, debug, info, warn or error", EnvVars: []string{"GOMCAT_LOG_LEVEL"}},
		&ucli.StringFlag{Name: "log-format", Value: "console", Usage: "console or json", EnvVars: []string{"GOMCAT_LOG_FORMAT"}},
	}
}

// newLogger builds the node's logger on w (stderr) from the log flags.
func newLogger(c *ucli.Context, w io.Writer) (zerolog.Logger, error) {
	lvl, err := zerolog.ParseLevel(c.String("log-level"))
	if err != nil || lvl == zerolog.NoLevel {
		return zerolog.Nop(), fmt.Errorf("--log-level %q: want trace, debug, info, warn or error", c.String("log-level"))
	}
	switch c.String("log-format") {
	case "json":
	case "console":
		w = zerolog.ConsoleWriter{Out: w, TimeFormat: "2006-01-02 15:04:05.000", NoColor: !isTerminal(w)}
	default:
		return zerolog.Nop(), fmt.Errorf("--log-format %q: want console or json", c.String("log-format"))
	}
	setTimeFormat.Do(func() { zerolog.TimeFieldFormat = time.RFC3339Nano })
	return zerolog.New(w).Level(lvl).With().Timestamp().Logger(), nil
}

// setTimeFormat sets zerolog's process-wide time format once, before any
// logger of ours writes: setting it per command would race with loggers
// already running (tests run several commands at once).
var setTimeFormat sync.Once

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
