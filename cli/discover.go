package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sort"
	"strconv"
	"sync"
	"text/tabwriter"
	"time"

	ucli "github.com/urfave/cli/v2"

	"github.com/gomcat/gomcat/discovery"
	"github.com/gomcat/gomcat/mcast"
	"github.com/gomcat/gomcat/runtime/node"
)

// membershipProvider builds the discovery.Provider a --membership value
// names (see node.MembershipProvider). getenv is os.Getenv outside tests.
func membershipProvider(spec string, getenv func(string) string) (discovery.Provider, error) {
	p, err := node.MembershipProvider(spec, getenv, 0, 0)
	if err != nil {
		return nil, fmt.Errorf("--%w", err)
	}
	return p, nil
}

// probedTarget is one provider target and what answered there.
type probedTarget struct {
	addr string // IP:PORT probed
	err  error  // nil: something accepts TCP connections there
}

// probeTargets asks p for its targets and TCP-probes each (a target
// without a port gets port), in parallel, each within timeout. The result
// is sorted by address, duplicates removed.
func probeTargets(ctx context.Context, p discovery.Provider, port int, timeout time.Duration) ([]probedTarget, error) {
	ts, err := p.Targets(ctx)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var out []probedTarget
	for _, t := range ts {
		if t.Port == 0 {
			t.Port = port
		}
		a := t.String()
		if !seen[a] {
			seen[a] = true
			out = append(out, probedTarget{addr: a})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].addr < out[j].addr })
	var wg sync.WaitGroup
	for i := range out {
		wg.Go(func() {
			host, ps, _ := net.SplitHostPort(out[i].addr)
			n, _ := strconv.Atoi(ps)
			out[i].err = mcast.Probe(ctx, host, n, timeout)
		})
	}
	wg.Wait()
	return out, nil
}

// printTargets writes one table of a provider's targets and their probes.
func printTargets(w io.Writer, p discovery.Provider, ts []probedTarget, err error, now time.Time) {
	answering := 0
	for _, t := range ts {
		if t.err == nil {
			answering++
		}
	}
	fmt.Fprintf(w, "%s  membership %s  targets %d  answering %d\n", now.Format("15:04:05"), p, len(ts), answering)
	if err != nil {
		fmt.Fprintf(w, "no answer: %v\n", err)
		return
	}
	if len(ts) == 0 {
		fmt.Fprintln(w, "no targets")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TARGET\tTCP")
	for _, t := range ts {
		state := "answers"
		if t.err != nil {
			cause := t.err
			if u := errors.Unwrap(cause); u != nil {
				cause = u // mcast's "probe ADDR:" prefix repeats the row's address
			}
			state = "no answer: " + cause.Error()
		}
		fmt.Fprintf(tw, "%s\t%s\n", t.addr, state)
	}
	tw.Flush()
	fmt.Fprintln(w, "note: a target becomes a member only once its node proves it is of this cluster (the nodes' own membership decides)")
}

// runMembersDiscovered is `gomcat members --membership SPEC`: the
// provider's targets, probed, once or every --wait until Ctrl-C.
func runMembersDiscovered(c *ucli.Context) error {
	p, err := membershipProvider(c.String("membership"), os.Getenv)
	if err != nil {
		return err
	}
	port := 4000
	if c.IsSet("port") {
		port = c.Int("port")
	} else if c.String("home") != "" {
		dir, err := home(c)
		if err != nil {
			return err
		}
		s, warns, err := loadServer(c, dir)
		if err != nil {
			return configError(c, warns, err)
		}
		if cl := s.Cluster(); cl != nil && cl.Receiver.Port != 0 {
			port = cl.Receiver.Port
		}
	}
	if port < 1 || port > 65535 {
		return fmt.Errorf("--port %d: want 1-65535", port)
	}
	w := c.App.Writer
	for {
		ts, err := probeTargets(c.Context, p, port, c.Duration("connect-timeout"))
		if c.Context.Err() != nil {
			return nil
		}
		printTargets(w, p, ts, err, time.Now())
		if c.Bool("once") {
			if err != nil {
				return &exitError{code: 1, err: fmt.Errorf("members: %s: %w", p, err)}
			}
			return nil
		}
		if !sleepCtx(c.Context, c.Duration("wait")) {
			return nil
		}
		fmt.Fprintln(w)
	}
}
