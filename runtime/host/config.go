package host

import (
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"time"

	"github.com/rs/zerolog"

	"github.com/gomcat/gomcat/runtime/session"
)

// ManagerFactory builds the session manager of one context. The node passes
// one that returns a replicated manager for distributable contexts once
// clustering is active; the default returns a session.LocalManager.
type ManagerFactory func(spec ContextSpec) (session.Manager, error)

// BundleLimits bound what a bundle may hold. Zero fields take the defaults.
type BundleLimits struct {
	MaxArchiveBytes int64 // archive size. Default: 512 MiB.
	MaxEntries      int   // zip entries. Default: 10000.
	MaxEntryBytes   int64 // one file, uncompressed. Default: 256 MiB.
	MaxTotalBytes   int64 // all files, uncompressed. Default: 1 GiB.
}

// DefaultBundleLimits returns the default limits.
func DefaultBundleLimits() BundleLimits {
	return BundleLimits{MaxArchiveBytes: 512 << 20, MaxEntries: 10000, MaxEntryBytes: 256 << 20, MaxTotalBytes: 1 << 30}
}

func (l BundleLimits) orDefault() BundleLimits {
	d := DefaultBundleLimits()
	if l.MaxArchiveBytes <= 0 {
		l.MaxArchiveBytes = d.MaxArchiveBytes
	}
	if l.MaxEntries <= 0 {
		l.MaxEntries = d.MaxEntries
	}
	if l.MaxEntryBytes <= 0 {
		l.MaxEntryBytes = d.MaxEntryBytes
	}
	if l.MaxTotalBytes <= 0 {
		l.MaxTotalBytes = d.MaxTotalBytes
	}
	return l
}

// ValveConfig selects the cluster valves of distributable contexts
// (Tomcat's ReplicationValve and JvmRouteBinderValve, Contract C).
type ValveConfig struct {
	// Replication installs the ReplicationValve. Default: false (no cluster).
	Replication bool
	// Filter is a regular expression on the request path (full, with the
	// context path); matching requests are not replicated. Default: "".
	Filter string
	// Sync buffers each response until the session change has been
	// replicated (Tomcat replicationMode/channelSendOptions synchronous).
	// Default: false (async: the response streams, then replication).
	Sync bool
	// SyncBufferBytes bounds the buffered response in sync mode; past it (or
	// on Flush) the change is replicated and the response streams.
	// Default: 1 MiB.
	SyncBufferBytes int
	// JvmRouteBinder installs the JvmRouteBinderValve. Default: false.
	JvmRouteBinder bool
}

// Config configures a Host (Tomcat <Host>). Pass by value.
type Config struct {
	// Name is the virtual host name. Default: "localhost".
	Name string
	// Aliases are further names this host answers to.
	Aliases []string
	// AppBase is the directory scanned for bundles (*.gar); "" = none.
	AppBase string
	// DeployOnStartup deploys every bundle in AppBase at Start. Default: true
	// (set by DefaultConfig).
	DeployOnStartup bool
	// AutoDeploy polls AppBase every ScanInterval while running: new or
	// changed bundles are (re)deployed once their size and mtime are stable
	// over two polls; removed bundles are undeployed. Default: true.
	AutoDeploy bool
	// ScanInterval is the AppBase poll period. Default: 3s.
	ScanInterval time.Duration
	// WorkDir holds unpacked bundles and the apps' scratch dirs (required).
	WorkDir string
	// JvmRoute is this node's name (Engine jvmRoute); "" = none.
	JvmRoute string
	// Contexts are deployed at Start in order (from context descriptors).
	Contexts []ContextSpec
	// SessionTimeout is the default idle timeout of sessions. Default: 30m.
	SessionTimeout time.Duration
	// Managers builds each context's session manager. Default: LocalManager.
	Managers ManagerFactory
	// Valves configures the cluster valves of distributable contexts.
	Valves ValveConfig
	// Limits bound bundles. Default: DefaultBundleLimits.
	Limits BundleLimits
	// DrainTimeout bounds how long undeploy/redeploy wait for in-flight
	// requests of the old version before stopping it. Default: 30s.
	DrainTimeout time.Duration
	// Logger receives lifecycle lines. Default: zerolog.Nop().
	Logger zerolog.Logger
}

// DefaultConfig returns a Config with the defaults filled in.
func DefaultConfig() Config {
	return Config{
		Name:            "localhost",
		DeployOnStartup: true,
		AutoDeploy:      true,
		ScanInterval:    3 * time.Second,
		SessionTimeout:  30 * time.Minute,
		Limits:          DefaultBundleLimits(),
		DrainTimeout:    30 * time.Second,
		Logger:          zerolog.Nop(),
		Valves:          ValveConfig{SyncBufferBytes: 1 << 20},
	}
}

func (c *Config) fill() {
	d := DefaultConfig()
	if c.Name == "" {
		c.Name = d.Name
	}
	if c.ScanInterval <= 0 {
		c.ScanInterval = d.ScanInterval
	}
	if c.SessionTimeout == 0 {
		c.SessionTimeout = d.SessionTimeout
	}
	if c.DrainTimeout <= 0 {
		c.DrainTimeout = d.DrainTimeout
	}
	if c.Valves.SyncBufferBytes <= 0 {
		c.Valves.SyncBufferBytes = d.Valves.SyncBufferBytes
	}
	c.Limits = c.Limits.orDefault()
}

// Validate checks the Config.
func (c Config) Validate() error {
	var errs []error
	if c.WorkDir == "" {
		errs = append(errs, errors.New("host: WorkDir is required"))
	}
	if c.JvmRoute != "" && !session.ValidRoute(c.JvmRoute) {
		errs = append(errs, fmt.Errorf("host: jvmRoute %q: letters, digits, _ and - only", c.JvmRoute))
	}
	if c.Valves.Filter != "" {
		if _, err := regexp.Compile(c.Valves.Filter); err != nil {
			errs = append(errs, fmt.Errorf("host: replication filter: %w", err))
		}
	}
	if c.AppBase != "" && !filepath.IsAbs(c.AppBase) {
		errs = append(errs, fmt.Errorf("host: appBase %q must be absolute", c.AppBase))
	}
	seen := map[string]bool{}
	for _, s := range c.Contexts {
		if err := s.Validate(); err != nil {
			errs = append(errs, err)
		}
		if seen[s.Path] {
			errs = append(errs, fmt.Errorf("host: context path %q declared twice", s.Path))
		}
		seen[s.Path] = true
	}
	return errors.Join(errs...)
}

// ContextSpec describes one context (Tomcat <Context>).
type ContextSpec struct {
	// Path is the context path: "/" (ROOT) or "/shop".
	Path string
	// App is the registered app name; "" serves DocBase statically.
	App string
	// DocBase is the directory of static files ("" = none). A relative
	// DocBase is resolved by the caller (the node: against appBase).
	DocBase string
	// Distributable marks the context's sessions as replicable.
	Distributable bool
	// SessionTimeout: 0 = the host's default, negative = never expire.
	SessionTimeout time.Duration
	// MaxActiveSessions caps live sessions; <= 0 = unlimited.
	MaxActiveSessions int
	// Params are init parameters passed to the app.
	Params map[string]string
	// Source is where the context was declared (descriptor or bundle file);
	// it only shapes log lines.
	Source string
	// Bundle is the bundle file this context was unpacked from, if any.
	Bundle string
	// Version is the bundle's manifest version, if any.
	Version string
}

// Validate checks the spec on its own.
func (s ContextSpec) Validate() error {
	if why := ValidContextPath(s.Path); why != "" {
		return fmt.Errorf("host: context path %q: %s", s.Path, why)
	}
	if s.App == "" && s.DocBase == "" {
		return fmt.Errorf("host: context %q has neither an app nor a docBase", s.Path)
	}
	return nil
}

// timeout resolves the spec's session timeout against the host default;
// negative means never expire.
func (s ContextSpec) timeout(def time.Duration) time.Duration {
	switch {
	case s.SessionTimeout == 0:
		return def
	case s.SessionTimeout < 0:
		return -1
	}
	return s.SessionTimeout
}
