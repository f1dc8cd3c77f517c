package node

import (
	"crypto/x509"
	"fmt"
	"os"
	"strings"

	"github.com/rs/zerolog"

	"github.com/gomcat/gomcat/conf"
	"github.com/gomcat/gomcat/redismgr"
	"github.com/gomcat/gomcat/runtime/host"
	"github.com/gomcat/gomcat/runtime/session"
)

// redisManager builds the RedisManager of a context whose <Context> holds
// <Manager className="gomcat.RedisManager">.
func (n *Node) redisManager(hostName string, spec host.ContextSpec, route string, rc *conf.RedisManager) (session.Manager, error) {
	return newRedisManager(n.abs, n.log, hostName, spec, route, rc)
}

// newRedisManager builds the redismgr.Manager redisConfig describes.
func newRedisManager(abs func(string) string, log zerolog.Logger, hostName string, spec host.ContextSpec, route string, rc *conf.RedisManager) (*redismgr.Manager, error) {
	cfg, err := redisConfig(abs, log, hostName, spec, route, rc)
	if err != nil {
		return nil, err
	}
	return redismgr.New(cfg)
}

// redisConfig maps rc (and the context's session timeout) onto a
// redismgr.Config; abs resolves passwordFile against the home.
func redisConfig(abs func(string) string, log zerolog.Logger, hostName string, spec host.ContextSpec, route string, rc *conf.RedisManager) (redismgr.Config, error) {
	cfg := redismgr.DefaultConfig(managerName(hostName, spec.Path), rc.Address)
	cfg.Route = route
	cfg.Sentinel, cfg.MasterName, cfg.Cluster = rc.Sentinel, rc.MasterName, rc.Cluster
	cfg.KeyPrefix, cfg.Database, cfg.TLS, cfg.Username = rc.KeyPrefix, rc.Database, rc.TLS, rc.Username
	cfg.FlushMode, cfg.WriteMode = redismgr.FlushMode(rc.FlushMode), redismgr.WriteMode(rc.WriteMode)
	cfg.Sticky, cfg.Timeout, cfg.MaxSessionSize = rc.Sticky, rc.Timeout, rc.MaxSessionSize
	cfg.NoConfigure = !rc.ConfigureNotifications
	cfg.MaxInactive = spec.SessionTimeout
	if cfg.MaxInactive == 0 {
		cfg.MaxInactive = session.DefaultMaxInactive
	}
	if rc.PasswordFile != "" {
		b, err := os.ReadFile(abs(rc.PasswordFile))
		if err != nil {
			return cfg, fmt.Errorf("node: context %s: Manager passwordFile: %w", spec.Path, err)
		}
		cfg.Password = strings.TrimRight(string(b), "\r\n")
	}
	if rc.TLSCAFile != "" {
		b, err := os.ReadFile(abs(rc.TLSCAFile))
		if err != nil {
			return cfg, fmt.Errorf("node: context %s: Manager tlsCAFile: %w", spec.Path, err)
		}
		cfg.RootCAs = x509.NewCertPool()
		if !cfg.RootCAs.AppendCertsFromPEM(b) {
			return cfg, fmt.Errorf("node: context %s: Manager tlsCAFile %s: no PEM certificate in it", spec.Path, rc.TLSCAFile)
		}
	}
	cfg.Logger = log.With().Str("context", spec.Path).Logger()
	return cfg, nil
}

// redisConf returns the RedisManager element of the context at path, or nil.
func redisConf(ch *conf.Host, path string) *conf.RedisManager {
	if c := contextConf(ch, path); c != nil {
		return c.Manager
	}
	return nil
}

// ownManager returns the context's own <Manager className="DeltaManager"
// or "BackupManager"> at path, or nil (the cluster's template applies).
func ownManager(ch *conf.Host, path string) *conf.Manager {
	if c := contextConf(ch, path); c != nil {
		return c.ClusterManager
	}
	return nil
}

// contextConf returns the <Context> of ch at path, or nil.
func contextConf(ch *conf.Host, path string) *conf.Context {
	for _, c := range ch.Contexts {
		if c.Path == path {
			return c
		}
	}
	return nil
}
