package dns

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/gomcat/gomcat/discovery"
)

// EnvName is Tomcat's environment variable naming the service to resolve.
const EnvName = "DNS_MEMBERSHIP_SERVICE_NAME"

// MaxTargets bounds how many targets one refresh returns.
const MaxTargets = 1024

// Config says which name to resolve and where.
type Config struct {
	// Name is the DNS name: A/AAAA records, or SRV records when it starts
	// with "_" (_service._proto.domain). Required.
	Name string
	// Server, when set, is the only DNS server asked (e.g. 127.0.0.1:53);
	// zero uses the system resolver.
	Server netip.AddrPort
	// Timeout bounds one refresh's lookups. Default: 2 s (Tomcat's
	// connectTimeout 1000 ms + readTimeout 1000 ms).
	Timeout time.Duration
}

// DefaultConfig has the default timeout and no name.
func DefaultConfig() Config { return Config{Timeout: 2 * time.Second} }

// Validate reports every problem of c.
func (c Config) Validate() error {
	var errs []error
	if err := checkName(c.Name); err != nil {
		errs = append(errs, err)
	}
	if c.Server.IsValid() && c.Server.Port() == 0 {
		errs = append(errs, fmt.Errorf("dns: server %s: port 0", c.Server))
	}
	if c.Timeout <= 0 {
		errs = append(errs, fmt.Errorf("dns: timeout %s: want > 0", c.Timeout))
	}
	return errors.Join(errs...)
}

// checkName accepts a DNS name of letters, digits, '-', '_' and dots, at
// most 253 bytes, labels of 1–63 bytes (a trailing dot is allowed).
func checkName(name string) error {
	n := strings.TrimSuffix(name, ".")
	if n == "" {
		return fmt.Errorf("dns: no name (set %s or the membership's dns name)", EnvName)
	}
	if len(n) > 253 {
		return fmt.Errorf("dns: name %.20q…: longer than 253 bytes", name)
	}
	for _, label := range strings.Split(n, ".") {
		if label == "" || len(label) > 63 {
			return fmt.Errorf("dns: name %q: empty or over-long label", name)
		}
		for _, r := range label {
			ok := r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
			if !ok {
				return fmt.Errorf("dns: name %q: character %q", name, r)
			}
		}
	}
	return nil
}

// Provider resolves Config.Name on every call of Targets.
type Provider struct {
	cfg Config
	srv bool
	res *net.Resolver
}

// New returns a Provider for cfg (Timeout 0 takes the default).
func New(cfg Config) (*Provider, error) {
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultConfig().Timeout
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	p := &Provider{cfg: cfg, srv: strings.HasPrefix(cfg.Name, "_"), res: net.DefaultResolver}
	if cfg.Server.IsValid() {
		server := cfg.Server.String()
		p.res = &net.Resolver{
			PreferGo: true,
			Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
				var d net.Dialer
				return d.DialContext(ctx, network, server)
			},
		}
	}
	return p, nil
}

// String is "dns:NAME", or "dns:NAME@SERVER" with a configured server.
func (p *Provider) String() string {
	if p.cfg.Server.IsValid() {
		return "dns:" + p.cfg.Name + "@" + p.cfg.Server.String()
	}
	return "dns:" + p.cfg.Name
}

// Targets resolves the name now. A name with no records is an error
// ("no such host"), so the membership keeps its previous list: a DNS outage
// never empties a cluster by itself.
func (p *Provider) Targets(ctx context.Context) ([]discovery.Target, error) {
	ctx, cancel := context.WithTimeout(ctx, p.cfg.Timeout)
	defer cancel()
	if p.srv {
		return p.lookupSRV(ctx)
	}
	addrs, err := p.res.LookupNetIP(ctx, "ip", p.cfg.Name)
	if err != nil {
		return nil, fmt.Errorf("dns: lookup %s: %w", p.cfg.Name, p.named(err))
	}
	return appendAddrs(nil, addrs, 0), nil
}

func (p *Provider) lookupSRV(ctx context.Context) ([]discovery.Target, error) {
	_, srvs, err := p.res.LookupSRV(ctx, "", "", p.cfg.Name)
	if err != nil && len(srvs) == 0 {
		return nil, fmt.Errorf("dns: lookup SRV %s: %w", p.cfg.Name, p.named(err))
	}
	var out []discovery.Target
	var errs []error
	for _, s := range srvs {
		if len(out) >= MaxTargets {
			break
		}
		if s.Port == 0 || s.Target == "." {
			continue // "service not available here" (RFC 2782)
		}
		addrs, err := p.res.LookupNetIP(ctx, "ip", s.Target)
		if err != nil {
			errs = append(errs, fmt.Errorf("dns: lookup %s (SRV target of %s): %w", strings.TrimSuffix(s.Target, "."), p.cfg.Name, p.named(err)))
			continue
		}
		out = appendAddrs(out, addrs, int(s.Port))
	}
	if len(out) == 0 && len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

// named makes a resolver error name the server really asked: the standard
// resolver reports the one in /etc/resolv.conf even when Dial went to
// Config.Server.
func (p *Provider) named(err error) error {
	var de *net.DNSError
	if !p.cfg.Server.IsValid() || !errors.As(err, &de) {
		return err
	}
	c := *de
	c.Server = p.cfg.Server.String()
	return &c
}

func appendAddrs(out []discovery.Target, addrs []netip.Addr, port int) []discovery.Target {
	for _, a := range addrs {
		if len(out) >= MaxTargets {
			break
		}
		out = append(out, discovery.Target{Addr: a.Unmap().WithZone(""), Port: port})
	}
	return out
}

// NameFromEnv is the name Tomcat's DNS provider resolves when none is
// configured: DNS_MEMBERSHIP_SERVICE_NAME (getenv is os.Getenv outside
// tests).
func NameFromEnv(getenv func(string) string) string { return getenv(EnvName) }
