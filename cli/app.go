package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	ucli "github.com/urfave/cli/v2"

	// The stock example app ("example"), used by gomcat init's ROOT.xml.
	_ "github.com/gomcat/gomcat/runtime/host/exampleapp"
)

// App builds the gomcat command line. Output goes to stdout and stderr.
func App(stdout, stderr io.Writer) *ucli.App {
	return &ucli.App{
		Name:      "gomcat",
		Usage:     "Tomcat's cluster stack for Go web applications",
		Version:   version(),
		Writer:    stdout,
		ErrWriter: stderr,
		// Errors are printed and mapped to exit codes by Run, never by
		// urfave's os.Exit.
		ExitErrHandler: func(*ucli.Context, error) {},
		HideVersion:    true, // our own --version prints what `gomcat version` does
		Flags:          []ucli.Flag{&ucli.BoolFlag{Name: "version", Usage: "print the version (as gomcat version does)"}},
		Action: func(c *ucli.Context) error {
			if c.Bool("version") {
				printVersion(c.App.Writer)
				return nil
			}
			return ucli.ShowAppHelp(c)
		},
		EnableBashCompletion: true,
		Commands:             commands(),
	}
}

// commands lists the commands in help order.
func commands() []*ucli.Command {
	return []*ucli.Command{
		initCommand(),
		configtestCommand(),
		runCommand(),
		keygenCommand(),
		startCommand(),
		stopCommand(),
		membersCommand(),
		bundleCommand(),
		deployCommand(),
		balancerCommand(),
		lbconfigCommand(),
		demoCommand(),
		benchCommand(),
		sessionsCommand(),
		versionCommand(),
	}
}

// exitError carries an exit code without a message of its own.
type exitError struct {
	code int
	err  error // printed unless nil
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// Run runs the command line args (args[0] is the program name) with ctx
// and returns the exit code. Errors are printed to stderr.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	app := App(stdout, stderr)
	err := app.RunContext(ctx, interspersed(app, args))
	if err == nil {
		return 0
	}
	code := 1
	var ee *exitError
	if errors.As(err, &ee) {
		code = ee.code
		err = ee.err
	}
	if err != nil {
		msg := strings.TrimSpace(err.Error())
		fmt.Fprintf(stderr, "gomcat: %s\n", strings.ReplaceAll(msg, "\n", "; "))
	}
	return code
}

// Main is the gomcat program: Run with os.Stdout, os.Stderr and a context
// cancelled by the first SIGINT or SIGTERM. A second signal exits at once
// with code 130.
func Main(args []string) int {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-sigs:
			cancel()
		case <-done:
			return
		}
		select {
		case s := <-sigs:
			fmt.Fprintf(os.Stderr, "gomcat: second %v: exiting now\n", s)
			os.Exit(130)
		case <-done:
		}
	}()
	return Run(context.WithValue(ctx, ownsProcessKey{}, true), args, os.Stdout, os.Stderr)
}

// ownsProcessKey marks the context of Main: the command is the process,
// which exits when it returns (node.Config.OwnsProcess). Run alone (tests,
// embedding programs) does not set it.
type ownsProcessKey struct{}

func ownsProcess(ctx context.Context) bool {
	v, _ := ctx.Value(ownsProcessKey{}).(bool)
	return v
}
