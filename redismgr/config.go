package redismgr

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"

	"github.com/gomcat/gomcat/runtime/session"
)

// FlushMode says when a session's changes are written (Spring Session's
// FlushMode).
type FlushMode string

// WriteMode says what a write contains.
type WriteMode string

const (
	// FlushOnRequestEnd writes the changes of a request once, when it ends
	// (one round trip). Default.
	FlushOnRequestEnd FlushMode = "onRequestEnd"
	// FlushImmediate also writes each attribute change as it happens (and a
	// new session as soon as it is created).
	FlushImmediate FlushMode = "immediate"

	// WriteChanged writes only the changed attributes. Default.
	WriteChanged WriteMode = "changedAttributes"
	// WriteWhole rewrites the whole session on every write (last writer
	// wins for the whole session, not per attribute).
	WriteWhole WriteMode = "whole"
)

// Config configures a Manager. Exactly one of Address, Sentinel or Cluster
// names the server(s).
type Config struct {
	// Name identifies the manager in logs ("localhost#/app").
	Name string
	// Route is the jvmRoute appended to new ids ("" for none).
	Route string

	// Address is a redis:// or rediss:// URL (user, password and database
	// may be in it; the fields below override them when set).
	Address string
	// Sentinel lists host:port of Redis Sentinels; MasterName is required
	// with it. The manager follows failovers.
	Sentinel   []string
	MasterName string
	// Cluster lists host:port seeds of a Redis Cluster.
	Cluster []string

	// KeyPrefix starts every key: <prefix>:sessions:<id>. Default "gomcat".
	KeyPrefix string
	// Database is the logical database (not with Cluster). -1: the URL's.
	Database int
	// TLS dials with TLS (rediss:// implies it).
	TLS bool
	// RootCAs verifies the server's certificate; it implies TLS. Default:
	// nil (the system's roots).
	RootCAs *x509.CertPool
	// Username and Password authenticate (ACL user; Password alone: AUTH).
	Username, Password string

	FlushMode FlushMode
	WriteMode WriteMode

	// MaxInactive is the idle timeout of new sessions. Default 30 min.
	MaxInactive time.Duration
	// MaxSessionSize caps a session's attribute bytes. <= 0: unlimited.
	MaxSessionSize int
	// TouchFraction: a read refreshes the TTL and lastAccessedTime only
	// when the last refresh is older than TouchFraction × MaxInactive, so
	// reads stay cheap (Tomcat's ACCESSED message is rate-limited the same
	// way). The key's TTL is MaxInactive × (1+TouchFraction): a session
	// lives at least MaxInactive after its last request. Default 0.1;
	// range (0, 1].
	TouchFraction float64
	// Sticky trusts the near-cache within the touch window (0 round trips
	// for a read): entries are dropped by the invalidations every writer
	// publishes and by keyspace notifications. Use it only when the
	// balancer is sticky; otherwise (default) every request validates the
	// cached copy's version in one round trip.
	Sticky bool
	// Timeout bounds every Redis operation; a request whose session cannot
	// be read or written in time fails with ErrUnavailable (503).
	// Default 1 s.
	Timeout time.Duration
	// NoConfigure stops the manager from enabling the keyspace
	// notifications it needs (notify-keyspace-events Kgxe) with CONFIG SET
	// at Start. Without permission it logs a warning; expiry events then
	// reach listeners only when the server is configured so. Default false.
	NoConfigure bool

	// Listeners fire for every session of the manager. Destroyed also
	// fires for expiry and deletion events from other nodes, for sessions
	// in this node's near-cache.
	Listeners session.Listeners
	// Logger; default zerolog.Nop().
	Logger zerolog.Logger
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// Defaults.
const (
	DefaultKeyPrefix     = "gomcat"
	DefaultTouchFraction = 0.1
	DefaultTimeout       = time.Second
)

// DefaultConfig returns the defaults with address (a redis:// URL).
func DefaultConfig(name, address string) Config {
	return Config{
		Name:          name,
		Address:       address,
		KeyPrefix:     DefaultKeyPrefix,
		Database:      -1,
		FlushMode:     FlushOnRequestEnd,
		WriteMode:     WriteChanged,
		MaxInactive:   session.DefaultMaxInactive,
		TouchFraction: DefaultTouchFraction,
		Timeout:       DefaultTimeout,
		Logger:        zerolog.Nop(),
		Now:           time.Now,
	}
}

// Validate checks c; it returns every problem joined.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf("redismgr: "+format, a...)) }
	n := 0
	for _, set := range []bool{c.Address != "", len(c.Sentinel) > 0, len(c.Cluster) > 0} {
		if set {
			n++
		}
	}
	if n != 1 {
		bad("exactly one of address, sentinel and cluster must be set (%d are)", n)
	}
	if c.Address != "" {
		if _, err := redis.ParseURL(c.Address); err != nil {
			bad("address: %v", err)
		}
	}
	if len(c.Sentinel) > 0 && c.MasterName == "" {
		bad("sentinel needs a master name")
	}
	for _, a := range append(append([]string(nil), c.Sentinel...), c.Cluster...) {
		if _, _, err := net.SplitHostPort(a); err != nil {
			bad("server %q: %v", a, err)
		}
	}
	if len(c.Cluster) > 0 && c.Database > 0 {
		bad("a Redis Cluster has only database 0")
	}
	if c.Database < -1 {
		bad("database %d is negative", c.Database)
	}
	if c.KeyPrefix != "" && strings.ContainsAny(c.KeyPrefix, "*?[] \t\r\n") {
		bad("key prefix %q: no glob characters or spaces", c.KeyPrefix)
	}
	if c.Route != "" && !session.ValidRoute(c.Route) {
		bad("route %q: only [A-Za-z0-9_-] allowed", c.Route)
	}
	switch c.FlushMode {
	case "", FlushOnRequestEnd, FlushImmediate:
	default:
		bad("flushMode %q: onRequestEnd or immediate", c.FlushMode)
	}
	switch c.WriteMode {
	case "", WriteChanged, WriteWhole:
	default:
		bad("writeMode %q: changedAttributes or whole", c.WriteMode)
	}
	if c.TouchFraction < 0 || c.TouchFraction > 1 {
		bad("touchFraction %v: must be in (0, 1]", c.TouchFraction)
	}
	if c.Timeout < 0 {
		bad("timeout %v is negative", c.Timeout)
	}
	return errors.Join(errs...)
}

func (c Config) withDefaults() Config {
	if c.KeyPrefix == "" {
		c.KeyPrefix = DefaultKeyPrefix
	}
	if c.FlushMode == "" {
		c.FlushMode = FlushOnRequestEnd
	}
	if c.WriteMode == "" {
		c.WriteMode = WriteChanged
	}
	if c.MaxInactive == 0 {
		c.MaxInactive = session.DefaultMaxInactive
	}
	if c.TouchFraction == 0 {
		c.TouchFraction = DefaultTouchFraction
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// client builds the go-redis client c names. Retries are go-redis's, with
// back-off, bounded by Timeout.
func (c Config) client() (redis.UniversalClient, int, error) {
	o := &redis.UniversalOptions{
		Username:        c.Username,
		Password:        c.Password,
		DialTimeout:     c.Timeout,
		ReadTimeout:     c.Timeout,
		WriteTimeout:    c.Timeout,
		PoolTimeout:     c.Timeout,
		MaxRetries:      1,
		MinRetryBackoff: 8 * time.Millisecond,
		MaxRetryBackoff: 512 * time.Millisecond,
		DisableIdentity: true,
	}
	db := 0
	switch {
	case c.Address != "":
		u, err := redis.ParseURL(c.Address)
		if err != nil {
			return nil, 0, fmt.Errorf("redismgr: address: %w", err)
		}
		o.Addrs = []string{u.Addr}
		db = u.DB
		if o.Username == "" {
			o.Username = u.Username
		}
		if o.Password == "" {
			o.Password = u.Password
		}
		o.TLSConfig = u.TLSConfig
	case len(c.Sentinel) > 0:
		o.Addrs, o.MasterName = c.Sentinel, c.MasterName
	default:
		o.Addrs, o.IsClusterMode = c.Cluster, true
	}
	if c.Database >= 0 {
		db = c.Database
	}
	o.DB = db
	if (c.TLS || c.RootCAs != nil) && o.TLSConfig == nil {
		o.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	if c.RootCAs != nil {
		o.TLSConfig.RootCAs = c.RootCAs
	}
	return redis.NewUniversalClient(o), db, nil
}
