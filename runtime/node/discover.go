package node

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/gomcat/gomcat/conf"
	"github.com/gomcat/gomcat/discovery"
	"github.com/gomcat/gomcat/discovery/dns"
	"github.com/gomcat/gomcat/discovery/kubernetes"
	"github.com/gomcat/gomcat/mcast"
)

// MembershipProvider builds the discovery.Provider a cloud membership
// names (conf.CheckMembershipProvider's forms): "dns:NAME" or
// "dns:NAME@IP:PORT" (A/AAAA of NAME, SRV when NAME starts with "_";
// @IP:PORT asks only that DNS server), "dns" (the name from
// DNS_MEMBERSHIP_SERVICE_NAME, as Tomcat's DNSMembershipProvider), or
// "kubernetes" (Tomcat's KUBERNETES_* variables and the pod's service
// account). readTimeout bounds a provider's answer, connectTimeout the
// Kubernetes API's connect (0: the provider's defaults). getenv is
// os.Getenv outside tests. gomcat members --membership uses it too.
func MembershipProvider(spec string, getenv func(string) string, connectTimeout, readTimeout time.Duration) (discovery.Provider, error) {
	kind, arg, _ := strings.Cut(spec, ":")
	switch kind {
	case "dns":
		cfg := dns.DefaultConfig()
		name, server, hasServer := strings.Cut(arg, "@")
		if name == "" {
			name = dns.NameFromEnv(getenv)
		}
		cfg.Name = name
		if hasServer {
			ap, err := netip.ParseAddrPort(server)
			if err != nil {
				return nil, fmt.Errorf("membership %s: DNS server %q: want IP:PORT", spec, server)
			}
			cfg.Server = ap
		}
		if readTimeout > 0 {
			cfg.Timeout = readTimeout
		}
		p, err := dns.New(cfg)
		if err != nil {
			return nil, fmt.Errorf("membership %s: %w", spec, err)
		}
		return p, nil
	case "kubernetes":
		if arg != "" {
			return nil, fmt.Errorf("membership %s: kubernetes takes no argument (KUBERNETES_NAMESPACE and KUBERNETES_LABELS say which pods)", spec)
		}
		cfg, err := kubernetes.FromEnv(getenv)
		if err != nil {
			return nil, fmt.Errorf("membership kubernetes: %w", err)
		}
		if connectTimeout > 0 {
			cfg.ConnectTimeout = connectTimeout
		}
		if readTimeout > 0 {
			cfg.ReadTimeout = readTimeout
		}
		p, err := kubernetes.New(cfg)
		if err != nil {
			return nil, fmt.Errorf("membership kubernetes: %w", err)
		}
		return p, nil
	default:
		return nil, fmt.Errorf("membership %q: want dns:NAME, dns:NAME@IP:PORT, dns (name from %s) or kubernetes", spec, dns.EnvName)
	}
}

// cloudConfig maps a CloudMembershipService onto a static membership whose
// members are the provider's targets, asked before every probe round
// (port 0: the local receiver port, as Tomcat assumes), and the address the
// receiver's "auto" follows (the DNS server or API host, when known).
func cloudConfig(m conf.Membership, getenv func(string) string) (mcast.StaticConfig, string, error) {
	p, err := MembershipProvider(m.MembershipProvider, getenv, m.ConnectTimeout, m.ReadTimeout)
	if err != nil {
		return mcast.StaticConfig{}, "", err
	}
	sc := mcast.DefaultStaticConfig()
	sc.ConnectTimeout = m.ConnectTimeout
	sc.ExpirationTime = m.ExpirationTime
	sc.DiscoverTimeout = m.ReadTimeout
	sc.Discover = func(ctx context.Context) ([]mcast.StaticMember, error) {
		ts, err := p.Targets(ctx)
		if err != nil {
			return nil, err
		}
		out := make([]mcast.StaticMember, len(ts))
		for i, t := range ts {
			out[i] = mcast.StaticMember{Host: t.Addr.String(), Port: t.Port}
		}
		return out, nil
	}
	return sc, providerVia(m.MembershipProvider, getenv), nil
}

// providerVia is the address a provider is reached at, whose route picks
// the receiver's "auto" address: the DNS server given after "@", the
// Kubernetes API host; "" (the default route) otherwise.
func providerVia(spec string, getenv func(string) string) string {
	if _, server, ok := strings.Cut(spec, "@"); ok {
		if ap, err := netip.ParseAddrPort(server); err == nil {
			return ap.Addr().String()
		}
	}
	if spec == "kubernetes" {
		if h := getenv("KUBERNETES_SERVICE_HOST"); h != "" {
			return h
		}
	}
	return ""
}
