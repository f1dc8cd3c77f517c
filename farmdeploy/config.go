package farmdeploy

import (
	"errors"
	"fmt"
	"time"

	"github.com/rs/zerolog"
)

// Config configures a Deployer. Pass it by value; it cannot change after New.
type Config struct {
	// TempDir is where incoming bundles are assembled. Required.
	TempDir string
	// DeployDir receives verified bundles; it is the Host's appBase. Required.
	DeployDir string
	// WatchDir is watched for bundles to farm out when WatchEnabled.
	WatchDir string
	// WatchEnabled makes this node the one that farms bundles out. Default: false.
	WatchEnabled bool
	// Interval is how often the watch directory, stale transfers and the
	// member list are checked. Default: 1s.
	Interval time.Duration
	// MaxValidTime abandons a transfer whose last chunk is older than this;
	// negative never expires. Default: 300s (Tomcat's maxValidTime).
	MaxValidTime time.Duration
	// ChunkSize is the bundle bytes per chunk message; it must stay below
	// the transport's maximum frame size. Default: 1 MiB.
	ChunkSize int
	// MaxBundleSize refuses larger bundles. Default: 1 GiB.
	MaxBundleSize int64
	// SendTimeout bounds one push to one member. Default: 10m.
	SendTimeout time.Duration
	// Senders are the members allowed to deploy, undeploy and send
	// manifests here (the watching ones). Empty: any member; in both cases
	// a bundle installed from one member is replaced or undeployed only by
	// that member. Refusals are counted (Stats.Refused) and logged once
	// per burst. Default: empty.
	Senders []string
	// MaxTransfers bounds the incoming transfers in flight, all senders
	// together; each sender has at most one per bundle (a new one replaces
	// it). Default: 8.
	MaxTransfers int
	// DiskBudget bounds the announced sizes of the incoming transfers in
	// flight, in bytes: a FILE-START that would exceed it is refused.
	// Temporary files are created at the first chunk, not at FILE-START.
	// Default: 2 × MaxBundleSize.
	DiskBudget int64
	// Logger receives the deployer's logs. Default: zerolog.Nop().
	Logger zerolog.Logger
	// Now is the clock. Default: time.Now.
	Now func() time.Time
}

// DefaultConfig returns a Config with Tomcat's defaults and no directories.
func DefaultConfig() Config {
	return Config{
		Interval:      time.Second,
		MaxValidTime:  300 * time.Second,
		ChunkSize:     1 << 20,
		MaxBundleSize: 1 << 30,
		SendTimeout:   10 * time.Minute,
		MaxTransfers:  8,
		DiskBudget:    2 << 30,
		Logger:        zerolog.Nop(),
		Now:           time.Now,
	}
}

// Validate reports every problem of c.
func (c Config) Validate() error {
	var errs []error
	if c.TempDir == "" {
		errs = append(errs, errors.New("farmdeploy: tempDir is required"))
	}
	if c.DeployDir == "" {
		errs = append(errs, errors.New("farmdeploy: deployDir is required"))
	}
	if c.WatchEnabled && c.WatchDir == "" {
		errs = append(errs, errors.New("farmdeploy: watchDir is required when watchEnabled"))
	}
	if c.Interval <= 0 {
		errs = append(errs, fmt.Errorf("farmdeploy: interval %v must be positive", c.Interval))
	}
	if c.ChunkSize < 1024 {
		errs = append(errs, fmt.Errorf("farmdeploy: chunk size %d must be at least 1024 bytes", c.ChunkSize))
	}
	if c.MaxBundleSize <= 0 {
		errs = append(errs, fmt.Errorf("farmdeploy: max bundle size %d must be positive", c.MaxBundleSize))
	}
	if c.MaxTransfers < 1 {
		errs = append(errs, fmt.Errorf("farmdeploy: max transfers %d must be positive", c.MaxTransfers))
	}
	if c.DiskBudget < c.MaxBundleSize {
		errs = append(errs, fmt.Errorf("farmdeploy: disk budget %d below max bundle size %d", c.DiskBudget, c.MaxBundleSize))
	}
	if c.SendTimeout <= 0 {
		errs = append(errs, fmt.Errorf("farmdeploy: send timeout %v must be positive", c.SendTimeout))
	}
	return errors.Join(errs...)
}

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.Interval == 0 {
		c.Interval = d.Interval
	}
	if c.MaxValidTime == 0 {
		c.MaxValidTime = d.MaxValidTime
	}
	if c.ChunkSize == 0 {
		c.ChunkSize = d.ChunkSize
	}
	if c.MaxBundleSize == 0 {
		c.MaxBundleSize = d.MaxBundleSize
	}
	if c.SendTimeout == 0 {
		c.SendTimeout = d.SendTimeout
	}
	if c.MaxTransfers == 0 {
		c.MaxTransfers = d.MaxTransfers
	}
	if c.DiskBudget == 0 {
		c.DiskBudget = 2 * c.MaxBundleSize
	}
	if c.Now == nil {
		c.Now = d.Now
	}
	return c
}
