package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	ucli "github.com/urfave/cli/v2"

	"github.com/gomcat/gomcat/conf"
	"github.com/gomcat/gomcat/mcast"
	"github.com/gomcat/gomcat/runtime/node"
)

func membersCommand() *ucli.Command {
	return &ucli.Command{
		Name:  "members",
		Usage: "listen to the cluster's heartbeats (never sending) and show its members",
		Description: "The group comes from --home's server.xml (with GOMCAT_* and the flags applied), else from what\n" +
			"gomcat init writes: 228.0.0.4:45564 on 127.0.0.1. Refreshes every second until Ctrl-C;\n" +
			"--once prints once after --wait. Foreign (Tomcat) members are listed and marked.\n" +
			"With --membership (dns:NAME, kubernetes) it lists the provider's targets instead, each\n" +
			"probed over TCP at the receiver port, every --wait (once with --once).",
		Flags: []ucli.Flag{
			homeFlag(),
			&ucli.StringFlag{Name: "mcast-address", Usage: "multicast group of the cluster membership"},
			&ucli.IntFlag{Name: "mcast-port", Usage: "multicast port of the cluster membership"},
			&ucli.StringFlag{Name: "mcast-bind", Usage: "address of the interface to listen on"},
			&ucli.StringFlag{Name: "domain", Usage: "membership domain (members of other domains are ignored)"},
			&ucli.StringFlag{Name: "cluster-key", Usage: "hex cluster key, when the cluster is sealed"},
			&ucli.BoolFlag{Name: "once", Usage: "print the members once (after --wait) and exit"},
			&ucli.DurationFlag{Name: "wait", Value: 3 * time.Second, Usage: "with --once: how long to listen first"},
			&ucli.StringFlag{Name: "membership", Usage: "instead of heartbeats, list what a provider returns and probe it: `dns:NAME`, dns:NAME@IP:PORT (that DNS server), dns ($DNS_MEMBERSHIP_SERVICE_NAME) or kubernetes"},
			&ucli.IntFlag{Name: "port", Usage: "with --membership: receiver port of targets without one (default: --home's receiver port, else 4000)"},
			&ucli.DurationFlag{Name: "connect-timeout", Value: time.Second, Usage: "with --membership: TCP probe timeout per target"},
		},
		Action: func(c *ucli.Context) error {
			if c.IsSet("membership") {
				return runMembersDiscovered(c)
			}
			cfg, err := observerConfig(c)
			if err != nil {
				return err
			}
			obs, err := mcast.NewObserver(cfg)
			if err != nil {
				return err
			}
			if err := obs.Start(c.Context); err != nil {
				return fmt.Errorf("cannot listen on %s (bind %q): %w", net.JoinHostPort(cfg.Address, strconv.Itoa(cfg.Port)), cfg.Bind, err)
			}
			defer obs.Stop(context.WithoutCancel(c.Context))
			w := c.App.Writer
			if c.Bool("once") {
				if !sleepCtx(c.Context, c.Duration("wait")) {
					return nil
				}
				printMembers(w, cfg, obs, time.Now())
				return nil
			}
			clear := isTerminal(w)
			t := time.NewTicker(time.Second)
			defer t.Stop()
			for {
				if clear {
					io.WriteString(w, "\033[H\033[2J")
				}
				printMembers(w, cfg, obs, time.Now())
				select {
				case <-c.Context.Done():
					return nil
				case <-t.C:
				}
				if !clear {
					fmt.Fprintln(w)
				}
			}
		},
	}
}

// observerConfig is the group to listen to: the home's (or init's
// default) membership, then the flags.
func observerConfig(c *ucli.Context) (mcast.Config, error) {
	var s *conf.Server
	if c.String("home") != "" {
		dir, err := home(c)
		if err != nil {
			return mcast.Config{}, err
		}
		srv, warns, err := loadServer(c, dir)
		if err != nil {
			return mcast.Config{}, configError(c, warns, err)
		}
		s = srv
	} else {
		b, err := conf.Template(conf.DefaultTemplateParams())
		if err != nil {
			return mcast.Config{}, err
		}
		srv, _, err := conf.Parse("gomcat init defaults", b)
		if err != nil {
			return mcast.Config{}, err
		}
		env, err := conf.OverridesFromEnv(os.Getenv)
		if err != nil {
			return mcast.Config{}, err
		}
		srv.Apply(env)
		fo, err := flagOverrides(c)
		if err != nil {
			return mcast.Config{}, err
		}
		srv.Apply(fo)
		s = srv
	}
	cfg, err := node.ObserverConfig(s)
	switch {
	case errors.Is(err, node.ErrNoCluster):
		return cfg, fmt.Errorf("%s has no <Cluster>: there is no membership to show", s.Home)
	case errors.Is(err, node.ErrStaticMembership):
		return cfg, errors.New("the cluster uses a static member list (StaticMembershipService): there are no heartbeats to listen to")
	case err != nil:
		return cfg, err
	}
	// A running node publishes the group it really uses (its start may
	// have had other overrides than this shell); explicit flags still win.
	if ri, err := node.ReadRunInfo(s.Home); s.Home != "" && err == nil && ri.Membership != nil {
		m := ri.Membership
		cfg.Address, cfg.Port, cfg.Bind, cfg.Domain = m.Address, m.Port, m.Bind, m.Domain
	}
	if c.IsSet("mcast-address") {
		cfg.Address = c.String("mcast-address")
	}
	if c.IsSet("mcast-port") {
		cfg.Port = c.Int("mcast-port")
	}
	if c.IsSet("mcast-bind") {
		cfg.Bind = c.String("mcast-bind")
	}
	if c.IsSet("domain") {
		cfg.Domain = c.String("domain")
	}
	return cfg, nil
}

// printMembers writes one table of the observer's members.
func printMembers(w io.Writer, cfg mcast.Config, obs *mcast.Observer, now time.Time) {
	ms := obs.Members()
	domain := cfg.Domain
	if domain == "" {
		domain = "(none)"
	}
	sealed := "no"
	if len(cfg.Key) > 0 || cfg.Keys != nil {
		sealed = "yes"
	}
	fmt.Fprintf(w, "%s  group %s  bind %s  domain %s  sealed %s  members %d\n",
		now.Format("15:04:05"), net.JoinHostPort(cfg.Address, strconv.Itoa(cfg.Port)), orDash(cfg.Bind), domain, sealed, len(ms))
	if len(ms) == 0 {
		fmt.Fprintln(w, "no members heard")
	} else {
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tRECEIVER\tHTTP\tALIVE\tLAST HEARD\tNOTE")
		for _, m := range ms {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", memberName(m), m.Addr(), orDash(m.HTTPURL),
				fmtAge(m.Alive+now.Sub(m.LastHeard)), fmtAge(now.Sub(m.LastHeard))+" ago", memberNote(m, cfg, now))
		}
		tw.Flush()
	}
	st := obs.Stats()
	var notes []string
	if st.Rejected > 0 {
		notes = append(notes, fmt.Sprintf("%d heartbeats rejected (unsealed, other key or replayed: check --cluster-key)", st.Rejected))
	}
	if st.OtherDomain > 0 {
		notes = append(notes, fmt.Sprintf("%d heartbeats of other domains ignored (check --domain)", st.OtherDomain))
	}
	for _, n := range notes {
		fmt.Fprintln(w, "note: "+n)
	}
}

func memberName(m mcast.Member) string {
	if m.Foreign {
		return "(tomcat)"
	}
	return m.Name
}

// memberNote marks foreign members and members whose heartbeats are late
// (silent for more than two heartbeat intervals: they may be dying).
func memberNote(m mcast.Member, cfg mcast.Config, now time.Time) string {
	var n []string
	if m.Foreign {
		n = append(n, "foreign (no Gomcat payload)")
	}
	if now.Sub(m.LastHeard) > 2*cfg.Frequency {
		n = append(n, "suspect (heartbeats late)")
	}
	if len(n) == 0 {
		return ""
	}
	return strings.Join(n, ", ")
}

func fmtAge(d time.Duration) string {
	switch {
	case d < 0:
		return "0s"
	case d < time.Minute:
		return d.Round(100 * time.Millisecond).String()
	default:
		return d.Round(time.Second).String()
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// sleepCtx waits d or until ctx ends (false).
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
