package mcast

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/gomcat/gomcat/internal/seal"
)

// Config configures a Service or an Observer. Pass it by value; New copies it.
type Config struct {
	// Address is the IPv4 multicast group. Default: "228.0.0.4".
	Address string
	// Port is the group's UDP port. Default: 45564.
	Port int
	// Bind is the IP of the interface to multicast on; "" picks the interface
	// of the route to the group (Gomcat's init always writes 127.0.0.1).
	Bind string
	// TTL is the multicast TTL; -1 keeps the OS default (1), 0 keeps
	// heartbeats on this host. Default: -1.
	TTL int
	// Frequency is the heartbeat interval; expiry is also checked this often.
	// Default: 500ms.
	Frequency time.Duration
	// DropTime: a member silent for longer is Disappeared. Default: 3000ms.
	DropTime time.Duration
	// Domain is the cluster name; heartbeats of other domains are ignored
	// and counted. Default: "".
	Domain string
	// AnyDomain (Observer only) accepts every domain. Default: false.
	AnyDomain bool
	// LocalLoopbackDisabled turns IP_MULTICAST_LOOP off (then nodes on the same
	// host cannot see each other). Default: false.
	LocalLoopbackDisabled bool
	// RecoveryCounter is the number of consecutive socket errors that trigger
	// recovery (close, wait RecoverySleep, reopen). Default: 10.
	RecoveryCounter int
	// RecoveryDisabled (Tomcat's recoveryEnabled="false"): after
	// RecoveryCounter consecutive socket errors the service logs an error,
	// closes the socket and stops multicasting instead of reopening it; it
	// keeps expiring the members it no longer hears, and the peers drop
	// this node after their DropTime. Stop still works. Default: false
	// (recovery enabled).
	RecoveryDisabled bool
	// RecoverySleep is the wait between recovery attempts. Default: 5s.
	RecoverySleep time.Duration
	// Key seals every datagram (AES-GCM, 16/24/32 bytes); nil sends clear
	// heartbeats. Members with another key (or none) are invisible. Default: nil.
	Key []byte
	// Keys, when set, is used instead of Key: a reloadable ring of cluster
	// keys (the first seals, all open; see internal/seal). Default: nil.
	Keys *seal.Ring
	// Local describes this node (Service only; an Observer ignores it).
	Local LocalMember
	// EstablishWait is how long Start waits after the first heartbeat so the
	// membership can form (logged like Tomcat). Default: 2s (4 × Frequency).
	EstablishWait time.Duration
	// JoinTimeout bounds Start's fast join (Service only): the first
	// heartbeat solicits (FlagSolicit) and every member answers at once,
	// its answer saying how many members it knows; Joined is closed once
	// this node heard that many, once JoinQuiet passes with no answer (it
	// is alone), or after JoinTimeout. 0: no solicit, Joined is closed at
	// Start. Default: 2s (4 × Frequency, the establish wait it replaces).
	JoinTimeout time.Duration
	// JoinQuiet is how long a joining node with no answer at all waits
	// before it concludes it is alone; the solicit is sent again halfway,
	// so one lost datagram costs nothing. A node that wrongly concludes it
	// is alone skips the state transfer, so this errs long: 200 ms was too
	// short for members answering from a loaded host (the e2e suite under
	// -race on 2 cores saw it). Default: 1s (2 × Frequency).
	JoinQuiet time.Duration
	// EventBuffer is the capacity of the Events channel; when it is full the
	// oldest event is dropped and counted. Default: 256.
	EventBuffer int
	// Logger receives debug/info/warn lines. Default: zerolog.Nop().
	Logger zerolog.Logger
	// Now is the clock (LastHeard, expiry, alive). Default: time.Now.
	Now func() time.Time
	// MaxMembers bounds the Gomcat members kept and, separately, the
	// foreign ones: heartbeats of new members beyond it are ignored,
	// counted (Stats.Capped) and logged once per burst. Default: 256.
	MaxMembers int
	// TakeoverProbeTimeout bounds the TCP connect that decides a name
	// takeover: a heartbeat claiming a live member's name from another
	// receiver address (a newer start time) replaces that member only once
	// a connect to the old member's receiver fails; while it answers the
	// claimant is ignored (Stats.TakeoversRefused) and asked again after
	// DropTime. Default: 1000ms (Tomcat's TcpFailureDetector
	// connectTimeout).
	TakeoverProbeTimeout time.Duration

	listen func(Config) (packetConn, error)                                              // tests swap the socket
	probe  func(ctx context.Context, host string, port int, timeout time.Duration) error // tests swap the takeover probe
}

// LocalMember is what a Service advertises about its node.
type LocalMember struct {
	// Name is the jvmRoute ([A-Za-z0-9._-], at most 128 bytes). Required.
	Name string
	// Host is the advertised receiver IP literal (see AdvertiseAddress). Required.
	Host string
	// Port is the receiver's TCP port. Required.
	Port int
	// HTTPURL is the connector address balancers use, e.g. "http://198.18.0.2:8091".
	HTTPURL string
}

// DefaultConfig returns Tomcat's McastService defaults.
func DefaultConfig() Config {
	return Config{
		Address:         "228.0.0.4",
		Port:            45564,
		TTL:             -1,
		Frequency:       500 * time.Millisecond,
		DropTime:        3000 * time.Millisecond,
		RecoveryCounter: 10,
		RecoverySleep:   5 * time.Second,
		EstablishWait:   2 * time.Second,
		JoinTimeout:     2 * time.Second,
		JoinQuiet:       time.Second,
		EventBuffer:     256,
		Logger:          zerolog.Nop(),
		Now:             time.Now,

		MaxMembers:           256,
		TakeoverProbeTimeout: time.Second,
	}
}

// DefaultLocalConfig is DefaultConfig for one host and tests: bound to
// 127.0.0.1, TTL 0, heartbeat 50ms, drop 300ms, no establish wait.
func DefaultLocalConfig() Config {
	c := DefaultConfig()
	c.Bind = "127.0.0.1"
	c.TTL = 0
	c.Frequency = 50 * time.Millisecond
	c.DropTime = 300 * time.Millisecond
	c.RecoverySleep = 200 * time.Millisecond
	c.EstablishWait = 0
	return c
}

// Validate checks the fields shared by Service and Observer; NewService also
// checks Local.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, a ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrConfig}, a...)...))
	}
	if ip := net.ParseIP(c.Address); ip == nil || ip.To4() == nil || !ip.IsMulticast() {
		bad("Address %q is not an IPv4 multicast group", c.Address)
	}
	if c.Port < 1 || c.Port > 65535 {
		bad("Port %d out of range", c.Port)
	}
	if c.Bind != "" && net.ParseIP(c.Bind) == nil {
		bad("Bind %q is not an IP address", c.Bind)
	}
	if c.TTL < -1 || c.TTL > 255 {
		bad("TTL %d out of range -1..255", c.TTL)
	}
	if c.Frequency <= 0 {
		bad("Frequency %v must be > 0", c.Frequency)
	}
	if c.DropTime <= c.Frequency {
		bad("DropTime %v must exceed Frequency %v", c.DropTime, c.Frequency)
	}
	if c.RecoveryCounter < 1 {
		bad("RecoveryCounter %d must be >= 1", c.RecoveryCounter)
	}
	if c.RecoverySleep <= 0 {
		bad("RecoverySleep %v must be > 0", c.RecoverySleep)
	}
	if n := len(c.Key); n != 0 && n != 16 && n != 24 && n != 32 {
		bad("Key is %d bytes, want 16, 24 or 32", n)
	}
	if c.EstablishWait < 0 {
		bad("EstablishWait %v must be >= 0", c.EstablishWait)
	}
	if c.JoinTimeout < 0 || c.JoinQuiet < 0 {
		bad("JoinTimeout %v and JoinQuiet %v must be >= 0", c.JoinTimeout, c.JoinQuiet)
	}
	if c.MaxMembers < 0 {
		bad("MaxMembers %d must be >= 0", c.MaxMembers)
	}
	if c.TakeoverProbeTimeout < 0 {
		bad("TakeoverProbeTimeout %v must be >= 0", c.TakeoverProbeTimeout)
	}
	if c.EventBuffer < 0 {
		bad("EventBuffer %d must be >= 0", c.EventBuffer)
	}
	if len(c.Domain) > maxField {
		bad("Domain is %d bytes, max %d", len(c.Domain), maxField)
	}
	return errors.Join(errs...)
}

func (l LocalMember) validate() error {
	var errs []error
	bad := func(format string, a ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrConfig}, a...)...))
	}
	if err := validName(l.Name); err != nil {
		bad("Local.Name: %v", err)
	}
	if net.ParseIP(l.Host) == nil {
		bad("Local.Host %q is not an IP address", l.Host)
	} else if ip := net.ParseIP(l.Host); ip.IsUnspecified() || ip.IsMulticast() {
		bad("Local.Host %q cannot be reached by peers", l.Host)
	}
	if l.Port < 1 || l.Port > 65535 {
		bad("Local.Port %d out of range", l.Port)
	}
	if err := validURL(l.HTTPURL); err != nil {
		bad("Local.HTTPURL: %v", err)
	}
	return errors.Join(errs...)
}

const (
	maxName  = 128
	maxURL   = 512
	maxField = 255 // domain, command
)

// validName accepts jvmRoute-like names: 1..128 of [A-Za-z0-9._-].
func validName(s string) error {
	if s == "" || len(s) > maxName {
		return fmt.Errorf("name must be 1..%d bytes, got %d", maxName, len(s))
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("._-", r)) {
			return fmt.Errorf("name %q has %q; want [A-Za-z0-9._-]", s, r)
		}
	}
	return nil
}

// validURL accepts "" or up to 512 printable ASCII bytes.
func validURL(s string) error {
	if len(s) > maxURL {
		return fmt.Errorf("url is %d bytes, max %d", len(s), maxURL)
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return fmt.Errorf("url has byte 0x%02x", s[i])
		}
	}
	return nil
}

func (c Config) withDefaults() Config {
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.EventBuffer == 0 {
		c.EventBuffer = 256
	}
	if c.listen == nil {
		c.listen = listenGroup
	}
	if c.MaxMembers == 0 {
		c.MaxMembers = 256
	}
	if c.TakeoverProbeTimeout == 0 {
		c.TakeoverProbeTimeout = time.Second
	}
	if c.probe == nil {
		c.probe = Probe
	}
	if c.JoinQuiet == 0 || c.JoinQuiet > c.JoinTimeout {
		c.JoinQuiet = min(time.Second, c.JoinTimeout)
	}
	return c
}

// ring returns Keys, or a ring of Key, or nil without a key.
func (c Config) ring() (*seal.Ring, error) {
	switch {
	case c.Keys != nil:
		return c.Keys, nil
	case len(c.Key) > 0:
		return seal.NewRing(c.Key)
	}
	return nil, nil
}
