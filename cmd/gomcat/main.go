// Command gomcat runs Gomcat nodes: init, configtest, start, stop, members,
// bundle, deploy, demo, version. The command line lives in package cli (./cli) so that your own
// main can register apps and run it (see examples/embed).
package main

import (
	"os"

	"github.com/gomcat/gomcat/cli"
)

func main() { os.Exit(cli.Main(os.Args)) }
