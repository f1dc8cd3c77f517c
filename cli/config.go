package cli

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	ucli "github.com/urfave/cli/v2"

	"github.com/gomcat/gomcat/conf"
)

func homeFlag() ucli.Flag {
	return &ucli.StringFlag{Name: "home", Usage: "node home directory (holds conf/server.xml)", EnvVars: []string{"GOMCAT_HOME"}}
}

// overrideFlags are the flags that override server.xml (start, configtest,
// stop) or fill the template (init).
func overrideFlags() []ucli.Flag {
	return []ucli.Flag{
		&ucli.StringFlag{Name: "jvm-route", Usage: "Engine jvmRoute: this node's name, ending its session ids"},
		&ucli.IntFlag{Name: "http-port", Usage: "HTTP Connector port"},
		&ucli.StringFlag{Name: "http-address", Usage: "HTTP Connector listen address (default: all interfaces)"},
		&ucli.IntFlag{Name: "shutdown-port", Usage: "shutdown port on 127.0.0.1 (-1 disables)"},
		&ucli.IntFlag{Name: "receiver-port", Usage: "cluster Receiver port (first tried)"},
		&ucli.StringFlag{Name: "advertise", Usage: "IP (or IP:PORT) told to members for the Receiver, and its IP to balancers for the HTTP Connector, when not the listen address (NAT, containers, several NICs)"},
		&ucli.StringFlag{Name: "mcast-address", Usage: "multicast group of the cluster membership"},
		&ucli.IntFlag{Name: "mcast-port", Usage: "multicast port of the cluster membership"},
		&ucli.StringFlag{Name: "mcast-bind", Usage: "address of the interface multicast uses"},
		&ucli.IntFlag{Name: "mcast-ttl", Usage: "multicast TTL (0 keeps heartbeats on this host)"},
		&ucli.StringFlag{Name: "domain", Usage: "membership domain: members of other domains are ignored"},
		&ucli.StringFlag{Name: "cluster-key", Usage: "hex AES key (32, 48 or 64 hex digits) sealing all cluster traffic"},
		&ucli.StringFlag{Name: "cluster-key-file", Usage: "cluster key file (gomcat keygen; the first key seals, all open; reloaded on change)"},
		&ucli.BoolFlag{Name: "insecure-cluster", Usage: "let the cluster run off loopback without a key (trusted networks only; warns at every start)"},
		&ucli.BoolFlag{Name: "farm-watch", Usage: "push bundles dropped in the farm watch directory to every member"},
		adminFlag(),
	}
}

// flagOverrides collects the override flags that were given.
func flagOverrides(c *ucli.Context) (conf.Overrides, error) {
	o := conf.Overrides{Source: "command line"}
	str := func(name string) *string {
		if !c.IsSet(name) {
			return nil
		}
		v := c.String(name)
		return &v
	}
	num := func(name string) *int {
		if !c.IsSet(name) {
			return nil
		}
		v := c.Int(name)
		return &v
	}
	o.JvmRoute, o.HTTPPort, o.HTTPAddress = str("jvm-route"), num("http-port"), str("http-address")
	o.ShutdownPort, o.ReceiverPort = num("shutdown-port"), num("receiver-port")
	o.McastAddress, o.McastPort, o.McastBind, o.McastTTL = str("mcast-address"), num("mcast-port"), str("mcast-bind"), num("mcast-ttl")
	o.Domain = str("domain")
	// members' own --membership lists a provider; it is no override there.
	if c.Command.Name != "members" {
		if o.Membership = str("membership"); o.Membership != nil {
			if err := conf.CheckMembershipProvider(*o.Membership); err != nil {
				return o, fmt.Errorf("--membership: %w", err)
			}
		}
	}
	if o.Advertise = str("advertise"); o.Advertise != nil {
		if err := conf.CheckAdvertise(*o.Advertise); err != nil {
			return o, fmt.Errorf("--advertise: %w", err)
		}
	}
	// The balancer's own --admin is its admin address, not the node's.
	if c.IsSet("admin") && c.Command.Name != "balancer" {
		v := c.String("admin")
		if _, _, err := conf.ParseAdmin(v); err != nil {
			return o, fmt.Errorf("--admin: %w", err)
		}
		o.Admin = &v
	}
	o.ClusterKeyFile = str("cluster-key-file")
	if c.IsSet("insecure-cluster") {
		v := c.Bool("insecure-cluster")
		o.InsecureCluster = &v
	}
	if c.IsSet("farm-watch") {
		v := c.Bool("farm-watch")
		o.FarmWatch = &v
	}
	if c.IsSet("cluster-key") {
		k, err := conf.ParseKey(c.String("cluster-key"))
		if err != nil {
			return o, fmt.Errorf("--cluster-key: %w", err)
		}
		o.ClusterKey = k
	}
	return o, nil
}

// home returns the absolute home from --home / GOMCAT_HOME.
func home(c *ucli.Context) (string, error) {
	h := c.String("home")
	if h == "" {
		return "", errors.New("no node home: pass --home DIR or set GOMCAT_HOME")
	}
	return filepath.Abs(h)
}

// loadServer reads the home's configuration and applies, in order, the
// GOMCAT_* environment and the command-line flags, then validates.
// Problems are returned joined; warnings separately.
func loadServer(c *ucli.Context, dir string) (*conf.Server, []conf.Warning, error) {
	s, warns, loadErr := conf.Load(dir)
	if s == nil {
		if errors.Is(loadErr, fs.ErrNotExist) {
			return nil, warns, fmt.Errorf("%s has no conf/server.xml (create a home with: gomcat init --home %s)", dir, dir)
		}
		return nil, warns, loadErr
	}
	// A file with problems is still applied and validated, so that one
	// run reports them all.
	env, err := conf.OverridesFromEnv(os.Getenv)
	if err != nil {
		return s, warns, errors.Join(loadErr, err)
	}
	warns = append(warns, s.Apply(env)...)
	fo, err := flagOverrides(c)
	if err != nil {
		return s, warns, errors.Join(loadErr, err)
	}
	warns = append(warns, s.Apply(fo)...)
	return s, warns, errors.Join(loadErr, s.Validate())
}

// problems flattens joined errors into one line each.
func problems(err error) []string {
	var out []string
	var walk func(error)
	walk = func(e error) {
		if e == nil {
			return
		}
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			if _, isConf := e.(*conf.Error); !isConf {
				for _, x := range j.Unwrap() {
					walk(x)
				}
				return
			}
		}
		for _, l := range strings.Split(strings.TrimSpace(e.Error()), "\n") {
			if l != "" {
				out = append(out, l)
			}
		}
	}
	walk(err)
	return out
}

func printWarnings(w io.Writer, warns []conf.Warning) {
	for _, x := range warns {
		fmt.Fprintf(w, "warning: %s\n", x.String())
	}
}
