package node

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"github.com/gomcat/gomcat/conf"
	"github.com/gomcat/gomcat/internal/seal"
)

// ErrNoClusterKey is returned (wrapped, with what is exposed and how to
// make a key) for a cluster bound off loopback without a key.
var ErrNoClusterKey = errors.New("node: the cluster is reachable beyond this host and has no cluster key")

// keyReloadInterval is how often a key file is checked for changes (SIGHUP
// checks at once).
const keyReloadInterval = 2 * time.Second

// CheckClusterKey reports a cluster whose membership or receiver is bound
// to anything but loopback when it has no key (key, keyFile, or their
// GOMCAT_*/flag overrides) and no explicit insecure opt-in. The error says
// what is exposed and how to make a key. nil without a cluster.
func CheckClusterKey(s *conf.Server) error {
	cl := s.Cluster()
	if cl == nil || cl.Key != nil || cl.KeyFile != "" || cl.Insecure {
		return nil
	}
	exposed := clusterExposure(cl)
	if len(exposed) == 0 {
		return nil
	}
	return fmt.Errorf("%w (%s): anyone on that network could join it, read and forge sessions and deploy bundles.\n"+
		"  make a key file: gomcat keygen %s (mode 0600), copy it to every node, then\n"+
		"  set <Cluster keyFile=\"conf/cluster.key\"> (or key=\"HEX\", GOMCAT_CLUSTER_KEY, --cluster-key, --cluster-key-file);\n"+
		"  or, on a network you trust, opt out with <Cluster insecure=\"true\"> or --insecure-cluster",
		ErrNoClusterKey, strings.Join(exposed, "; "), filepath.Join(orDot(s.Home), "conf", "cluster.key"))
}

func orDot(s string) string {
	if s == "" {
		return "."
	}
	return s
}

// clusterExposure lists what of cl is bound beyond loopback.
func clusterExposure(cl *conf.Cluster) []string {
	var out []string
	bind := membershipBind(cl)
	if cl.Membership.ClassName == conf.StaticMembershipService {
		for _, m := range cl.Membership.Members {
			if !loopbackHost(m.Host) {
				out = append(out, "static member "+m.Host)
			}
		}
	} else if !loopbackHost(bind) {
		out = append(out, "membership bound to "+orWhat(bind, "the default interface"))
	}
	a := cl.Receiver.Address
	ip := net.ParseIP(a)
	switch {
	case a == "auto":
		if cl.Membership.ClassName == conf.StaticMembershipService || !loopbackHost(bind) {
			out = append(out, "receiver address auto (the membership's interface)")
		}
	case a == "" || ip != nil && ip.IsUnspecified():
		out = append(out, "receiver on every interface")
	case !loopbackHost(a):
		out = append(out, "receiver bound to "+a)
	}
	return out
}

func orWhat(s, what string) string {
	if s == "" {
		return what
	}
	return s
}

// loopbackHost reports a loopback IP or "localhost".
func loopbackHost(h string) bool {
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// clusterKeys returns the ring of cl's key or key file (resolved by abs),
// nil without a key.
func clusterKeys(cl *conf.Cluster, abs func(string) string) (*seal.Ring, error) {
	switch {
	case cl.KeyFile != "":
		keys, err := seal.LoadKeyFile(abs(cl.KeyFile))
		if err != nil {
			return nil, fmt.Errorf("node: Cluster keyFile: %w", err)
		}
		return seal.NewRing(keys...)
	case cl.Key != nil:
		return seal.NewRing(cl.Key)
	}
	return nil, nil
}

// keyWatcher reloads a key file into a ring when the file changes (checked
// every keyReloadInterval) or on SIGHUP. A file that cannot be used is
// logged and the ring keeps its keys.
type keyWatcher struct {
	path string
	ring *seal.Ring
	log  zerolog.Logger
	sum  [32]byte // of the file's bytes last loaded
}

func newKeyWatcher(path string, ring *seal.Ring, log zerolog.Logger) *keyWatcher {
	w := &keyWatcher{path: path, ring: ring, log: log.With().Str("component", "keys").Logger()}
	if b, err := os.ReadFile(path); err == nil {
		w.sum = sha256.Sum256(b)
	}
	return w
}

// run reloads until ctx ends; the clusterPart's Stop cancels it.
func (w *keyWatcher) run(ctx context.Context) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	t := time.NewTicker(keyReloadInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			w.reload(true)
		case <-t.C:
			w.reload(false)
		}
	}
}

// reload loads the file if it changed (or always, when forced).
func (w *keyWatcher) reload(forced bool) {
	b, err := os.ReadFile(w.path)
	if err != nil {
		w.log.Error().Err(err).Msg("cannot read the cluster key file; keeping the keys in use")
		return
	}
	sum := sha256.Sum256(b)
	if sum == w.sum && !forced {
		return
	}
	keys, err := seal.LoadKeyFile(w.path)
	if err == nil {
		err = w.ring.Set(keys...)
	}
	if err != nil {
		w.sum = sum // log a bad file once, not every interval
		w.log.Error().Err(err).Msg("cluster key file not reloaded; keeping the keys in use")
		return
	}
	changed := !bytes.Equal(sum[:], w.sum[:])
	w.sum = sum
	ids := make([]string, 0, len(keys))
	for _, id := range w.ring.IDs() {
		ids = append(ids, id.String())
	}
	w.log.Info().Str("seals_with", ids[0]).Strs("key_ids", ids).Bool("changed", changed).
		Msg("cluster keys reloaded")
}

// CheckClusterKeys is CheckClusterKey, then loads the key file (if any), as
// a start would: what `gomcat configtest` reports.
func CheckClusterKeys(s *conf.Server) error {
	if err := CheckClusterKey(s); err != nil {
		return err
	}
	cl := s.Cluster()
	if cl == nil {
		return nil
	}
	_, err := clusterKeys(cl, func(p string) string {
		if filepath.IsAbs(p) || s.Home == "" {
			return p
		}
		return filepath.Join(s.Home, p)
	})
	return err
}

// WatchKeyFile reloads the key file at path into ring when it changes or on
// SIGHUP, until ctx ends (what a node does with its keyFile; for the
// balancer's observer). It blocks: run it on a goroutine the caller stops
// by cancelling ctx.
func WatchKeyFile(ctx context.Context, path string, ring *seal.Ring, log zerolog.Logger) {
	newKeyWatcher(path, ring, log).run(ctx)
}
