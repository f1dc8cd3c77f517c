package cli

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"syscall"
	"time"

	ucli "github.com/urfave/cli/v2"
)

func stopCommand() *ucli.Command {
	return &ucli.Command{
		Name:  "stop",
		Usage: "ask a running node to stop: send the shutdown command to its shutdown port on 127.0.0.1",
		Flags: []ucli.Flag{
			homeFlag(),
			&ucli.IntFlag{Name: "shutdown-port", Usage: "override the port from server.xml"},
			&ucli.DurationFlag{Name: "timeout", Value: 10 * time.Second, Usage: "connect and send timeout"},
		},
		Action: func(c *ucli.Context) error {
			dir, err := home(c)
			if err != nil {
				return err
			}
			s, warns, err := loadServer(c, dir)
			if err != nil {
				return configError(c, warns, err)
			}
			if s.Port == -1 {
				return errors.New("the shutdown port is disabled (Server port=\"-1\"); stop the node with SIGTERM")
			}
			addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Port))
			conn, err := net.DialTimeout("tcp", addr, c.Duration("timeout"))
			if err != nil {
				if errors.Is(err, syscall.ECONNREFUSED) {
					return fmt.Errorf("nothing listens on the shutdown port %s: is the node of %s running?", addr, dir)
				}
				return fmt.Errorf("shutdown port %s: %w", addr, err)
			}
			defer conn.Close()
			_ = conn.SetWriteDeadline(time.Now().Add(c.Duration("timeout")))
			if _, err := conn.Write([]byte(s.Shutdown + "\n")); err != nil {
				return fmt.Errorf("shutdown port %s: %w", addr, err)
			}
			fmt.Fprintf(c.App.Writer, "shutdown command sent to %s\n", addr)
			return nil
		},
	}
}
