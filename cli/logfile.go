package cli

import (
	"os"
	"os/signal"
	"path/filepath"
	"sync"

	"github.com/rs/zerolog"
	ucli "github.com/urfave/cli/v2"

	"github.com/gomcat/gomcat/conf"
	"github.com/gomcat/gomcat/internal/logfile"
)

func logFileFlag() ucli.Flag {
	return &ucli.StringFlag{Name: "log-file", EnvVars: []string{"GOMCAT_LOG_FILE"},
		Usage: "write the log to `FILE` (relative to the home, e.g. logs/catalina.out) instead of stderr; reopened on SIGHUP; " +
			"\"-\" is stderr. Default: the Server's logFile attribute, else stderr"}
}

// openLogFile opens the node's log file: --log-file (GOMCAT_LOG_FILE), else
// the Server's logFile; relative to home. nil (stderr) when neither is
// set or the value is "-".
func openLogFile(c *ucli.Context, s *conf.Server, home string) (*logfile.File, error) {
	path := c.String("log-file")
	if path == "" {
		path = s.LogFile
	}
	if path == "" || path == "-" {
		return nil, nil
	}
	if !filepath.IsAbs(path) {
		path = filepath.Join(home, path)
	}
	return logfile.Open(path)
}

// reopenOnHangup reopens lf at every SIGHUP (logrotate's postrotate, or
// copytruncate-free rotation) until the returned stop is called; stop
// waits for the goroutine. Outside Unix there is no SIGHUP: it does
// nothing.
func reopenOnHangup(lf *logfile.File, log zerolog.Logger) (stop func()) {
	hup := make(chan os.Signal, 1)
	if !notifyHangup(hup) {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-hup:
				if err := lf.Reopen(); err != nil {
					log.Error().Err(err).Str("file", lf.Path()).Msg("SIGHUP: cannot reopen the log file; still writing the old one")
					continue
				}
				log.Info().Str("file", lf.Path()).Msg("log file reopened (SIGHUP)")
			case <-done:
				return
			}
		}
	})
	return func() {
		signal.Stop(hup)
		close(done)
		wg.Wait()
	}
}
