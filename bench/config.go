package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"time"
)

// HomeParams describe a node home the self-contained bench creates. All
// addresses are on loopback: the HTTP connector and the receiver on
// 127.0.0.1, multicast bound to 127.0.0.1 with TTL 0.
type HomeParams struct {
	JvmRoute     string
	HTTPPort     int
	ReceiverPort int
	McastAddress string
	McastPort    int
	Domain       string // a random membership domain per bench run
	// Standalone: no <Cluster> (sessions stay local), the baseline.
	Standalone bool
	// ClusterKey (hex) seals the node's cluster traffic; "" leaves it clear
	// (loopback needs no key).
	ClusterKey string
	// AdminPort is the admin listener's port on 127.0.0.1 (metrics,
	// status); 0: no admin listener.
	AdminPort int
}

// InitFunc creates a node home in dir (like "gomcat init --home dir") with
// the shutdown port disabled, multicast bound to 127.0.0.1 and TTL 0.
type InitFunc func(ctx context.Context, dir string, p HomeParams) error

// ReplicationConfig configures Replication. With Target and Peer it
// measures running nodes; without, it launches its own (self-contained).
type ReplicationConfig struct {
	// Target is the URL of the node that takes the writes; Peer the node
	// that must see them. Both or neither. Default: "" (self-contained).
	Target, Peer string
	// Baseline is the URL of a node without a Cluster running the same
	// app: its /set throughput is the reference for the replication
	// overhead. Default: "" (no ratio with URLs; self-contained mode
	// starts its own).
	Baseline string
	// Duration of the /set throughput measure per node, split into
	// interleaved rounds of Round. Default: 10 s.
	Duration time.Duration
	// Round is the length of one interleaved round. Default: 2 s.
	Round time.Duration
	// Warmup is run once per node before measuring. Default: 1 s.
	Warmup time.Duration
	// Concurrency is the number of workers (each a user with its own
	// session) of the throughput measure. Default: 16.
	Concurrency int
	// Samples of the replication latency. Default: 1000.
	Samples int
	// Poll is the pause between two reads of the peer while waiting for
	// a write to show. Default: 100 µs.
	Poll time.Duration
	// VisibleTimeout gives up on one latency sample. Default: 5 s.
	VisibleTimeout time.Duration
	// Sessions filled into node1 before the state transfer (self-contained
	// only). Default: 100000.
	Sessions int
	// FillConcurrency is the number of workers of the fill. Default: 64.
	FillConcurrency int
	// Size of each value written, bytes. Default: 1024.
	Size int
	// SkipTransfer skips the fill, the state transfer and the memory
	// figures (self-contained only). Default: false.
	SkipTransfer bool
	// Sealed also launches a pair with a cluster key (node1s + node2s, own
	// domain) and measures it in the same interleaved rounds and with the
	// same latency samples as the clear pair: the cost of sealing
	// (self-contained only). Default: false.
	Sealed bool
	// Exe is the gomcat binary the self-contained bench runs. Default:
	// the running executable.
	Exe string
	// SendOptions, when not 0, is the clustered nodes' channelSendOptions
	// (6: sync, the response waits until every member applied the
	// change), written over the home's "8" (self-contained only).
	// Default: 0 (the home's async 8).
	SendOptions int
	// BaselineExe is another gomcat binary (e.g. one built from main)
	// whose own node1 + node2 are measured in the same interleaved /set
	// rounds (self-contained only). Default: "" (none).
	BaselineExe string
	// InitHome creates node homes. Default: runs "Exe init" (which can't
	// make a standalone home: the baseline is then skipped).
	InitHome InitFunc
	// StartTimeout bounds a node's start, state transfer included.
	// Default: 90 s.
	StartTimeout time.Duration
	// Progress receives one line per step. Default: io.Discard.
	Progress io.Writer
}

// DefaultReplicationConfig returns the defaults above.
func DefaultReplicationConfig() ReplicationConfig {
	return ReplicationConfig{
		Duration:        10 * time.Second,
		Round:           2 * time.Second,
		Warmup:          time.Second,
		Concurrency:     16,
		Samples:         1000,
		Poll:            100 * time.Microsecond,
		VisibleTimeout:  5 * time.Second,
		Sessions:        100_000,
		FillConcurrency: 64,
		Size:            1024,
		StartTimeout:    90 * time.Second,
		Progress:        io.Discard,
	}
}

// Validate checks every field and returns the problems wrapped in
// ErrConfig.
func (c ReplicationConfig) Validate() error {
	if (c.Target == "") != (c.Peer == "") {
		return fmt.Errorf("%w: --target and --peer go together", ErrConfig)
	}
	for name, u := range map[string]string{"target": c.Target, "peer": c.Peer, "baseline": c.Baseline} {
		if err := checkURL(name, u); err != nil {
			return err
		}
	}
	if c.Baseline != "" && c.Target == "" {
		return fmt.Errorf("%w: --baseline needs --target and --peer", ErrConfig)
	}
	switch {
	case c.Duration <= 0 || c.Round <= 0 || c.Warmup < 0:
		return fmt.Errorf("%w: duration %v, round %v, warmup %v: want positive (warmup may be 0)", ErrConfig, c.Duration, c.Round, c.Warmup)
	case c.Concurrency < 1 || c.FillConcurrency < 1:
		return fmt.Errorf("%w: concurrency %d, fill concurrency %d: want at least 1", ErrConfig, c.Concurrency, c.FillConcurrency)
	case c.Samples < 1:
		return fmt.Errorf("%w: samples %d: want at least 1", ErrConfig, c.Samples)
	case c.Poll < 0 || c.VisibleTimeout <= 0 || c.StartTimeout <= 0:
		return fmt.Errorf("%w: poll %v, visible timeout %v, start timeout %v", ErrConfig, c.Poll, c.VisibleTimeout, c.StartTimeout)
	case c.Sessions < 1 && !c.SkipTransfer:
		return fmt.Errorf("%w: sessions %d: want at least 1", ErrConfig, c.Sessions)
	case c.Size < 1 || c.Size > 1<<20:
		return fmt.Errorf("%w: size %d: want 1 .. 1048576 bytes (it travels in the query string)", ErrConfig, c.Size)
	case c.SendOptions < 0 || c.SendOptions > 0xffff:
		return fmt.Errorf("%w: send options %d: want 0 .. 65535", ErrConfig, c.SendOptions)
	}
	return nil
}

// BalancerConfig configures Balancer: the same small GETs against each
// URL given, in interleaved rounds.
type BalancerConfig struct {
	// Direct is a node's URL; Balancer a gomcat balancer's; HAProxy an
	// HAProxy's in front of the same nodes. None: self-contained (two
	// nodes, "gomcat balancer" and, when installed, HAProxy are launched
	// on 127.0.0.1).
	Direct, Balancer, HAProxy string
	// Duration per target, split into rounds of Round. Default: 10 s.
	Duration time.Duration
	// Round is the length of one interleaved round. Default: 2 s.
	Round time.Duration
	// Warmup is run once per target before measuring. Default: 1 s.
	Warmup time.Duration
	// Concurrency is the number of workers, each with its own session.
	// Default: 16.
	Concurrency int
	// Progress receives one line per step. Default: io.Discard.
	Progress io.Writer
	// Exe, InitHome and StartTimeout: as in ReplicationConfig, for the
	// self-contained mode.
	Exe          string
	InitHome     InitFunc
	StartTimeout time.Duration
	// HAProxyBin is the haproxy binary of the self-contained mode.
	// Default: "haproxy" from PATH; without one HAProxy is left out.
	HAProxyBin string
}

// DefaultBalancerConfig returns the defaults above.
func DefaultBalancerConfig() BalancerConfig {
	return BalancerConfig{Duration: 10 * time.Second, Round: 2 * time.Second, Warmup: time.Second, Concurrency: 16,
		Progress: io.Discard, StartTimeout: 90 * time.Second}
}

// Validate checks every field and returns the problems wrapped in
// ErrConfig.
func (c BalancerConfig) Validate() error {
	for name, u := range map[string]string{"direct": c.Direct, "balancer": c.Balancer, "haproxy": c.HAProxy} {
		if err := checkURL(name, u); err != nil {
			return err
		}
	}
	if c.Duration <= 0 || c.Round <= 0 || c.Warmup < 0 || c.Concurrency < 1 || c.StartTimeout <= 0 {
		return fmt.Errorf("%w: duration %v, round %v, warmup %v, concurrency %d, start timeout %v", ErrConfig,
			c.Duration, c.Round, c.Warmup, c.Concurrency, c.StartTimeout)
	}
	return nil
}

// checkURL accepts "" or an absolute http URL.
func checkURL(name, u string) error {
	if u == "" {
		return nil
	}
	p, err := url.Parse(u)
	if err != nil || p.Scheme != "http" && p.Scheme != "https" || p.Host == "" {
		return fmt.Errorf("%w: --%s %q: want an http:// URL such as http://127.0.0.1:8091", ErrConfig, name, u)
	}
	return nil
}

// SessionsConfig configures Sessions ("gomcat bench sessions").
type SessionsConfig struct {
	// Duration per target and load, split into rounds of Round.
	// Default: 10 s.
	Duration time.Duration
	// Round is the length of one interleaved round (and of the commands-
	// per-request measure). Default: 2 s.
	Round time.Duration
	// Warmup is run once per target before measuring. Default: 1 s.
	Warmup time.Duration
	// Concurrency is the number of workers, each with its own session.
	// Default: 16.
	Concurrency int
	// Size is the bytes of the value /set writes. Default: 100.
	Size int
	// Sessions filled for the memory figure. Default: 10000.
	Sessions int
	// RedisServer is the redis-server binary. Default: from PATH.
	RedisServer string
	// Progress receives one line per step. Default: io.Discard.
	Progress io.Writer
	// Exe, InitHome and StartTimeout: as in ReplicationConfig.
	Exe          string
	InitHome     InitFunc
	StartTimeout time.Duration
}

// DefaultSessionsConfig returns the defaults above.
func DefaultSessionsConfig() SessionsConfig {
	return SessionsConfig{Duration: 10 * time.Second, Round: 2 * time.Second, Warmup: time.Second, Concurrency: 16,
		Size: 100, Sessions: 10000, Progress: io.Discard, StartTimeout: 90 * time.Second}
}

// Validate reports settings Sessions cannot run with.
func (c SessionsConfig) Validate() error {
	var errs []error
	if c.Duration <= 0 || c.Round <= 0 || c.Warmup < 0 {
		errs = append(errs, fmt.Errorf("bench: duration %v, round %v, warmup %v: must be positive", c.Duration, c.Round, c.Warmup))
	}
	if c.Concurrency < 1 || c.Size < 1 || c.Sessions < 1 {
		errs = append(errs, fmt.Errorf("bench: concurrency %d, size %d, sessions %d: must be at least 1", c.Concurrency, c.Size, c.Sessions))
	}
	return errors.Join(errs...)
}
