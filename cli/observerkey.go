package cli

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"

	"github.com/rs/zerolog"
	ucli "github.com/urfave/cli/v2"

	"github.com/gomcat/gomcat/mcast"
)

// observerKeyCheck applies the nodes' rule to the balancer's observer: a
// multicast bind off loopback needs the cluster key, unless the operator
// opts out (--insecure-cluster, or insecure="true" in --home's Cluster),
// which is logged as a warning. Without the key a forged heartbeat sends
// real users to an attacker's address.
func observerKeyCheck(c *ucli.Context, mc mcast.Config, log zerolog.Logger) error {
	ip := net.ParseIP(mc.Bind)
	if len(mc.Key) > 0 || mc.Keys != nil || mc.Bind == "localhost" || ip != nil && ip.IsLoopback() {
		return nil
	}
	insecure := c.Bool("insecure-cluster")
	if !insecure && c.String("home") != "" {
		if dir, err := home(c); err == nil {
			if s, _, err := loadServer(c, dir); err == nil && s.Cluster() != nil {
				insecure = s.Cluster().Insecure
			}
		}
	}
	bind := mc.Bind
	if bind == "" {
		bind = "the default interface"
	}
	if !insecure {
		return &exitError{code: 1, err: fmt.Errorf("the balancer's membership observer is bound to %s (not loopback) and has no cluster key: "+
			"anyone on that network could announce a node and receive your users' requests and cookies.\n"+
			"  give it the cluster's key: --cluster-key-file FILE (from gomcat keygen; or --cluster-key HEX, GOMCAT_CLUSTER_KEY, --home with a keyFile),\n"+
			"  or, on a network you trust, opt out with --insecure-cluster", bind)}
	}
	log.Warn().Str("bind", bind).Msg("the balancer trusts unsealed heartbeats off loopback by explicit opt-in (insecure): " +
		"anyone on that network can announce a node; make a key with gomcat keygen")
	return nil
}

// observerKeyFile is the key file the observer was given (--cluster-key-file,
// GOMCAT_CLUSTER_KEY_FILE, or --home's keyFile), resolved as ObserverConfig
// resolves it; "" without one.
func observerKeyFile(c *ucli.Context) string {
	if c.String("cluster-key-file") != "" {
		return c.String("cluster-key-file")
	}
	if v := strings.TrimSpace(os.Getenv("GOMCAT_CLUSTER_KEY_FILE")); v != "" && c.String("home") == "" {
		return v
	}
	if c.String("home") == "" {
		return ""
	}
	dir, err := home(c)
	if err != nil {
		return ""
	}
	s, _, err := loadServer(c, dir)
	if err != nil || s.Cluster() == nil || s.Cluster().KeyFile == "" {
		return ""
	}
	if p := s.Cluster().KeyFile; filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(s.Home, s.Cluster().KeyFile)
}
