package dns_test

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gomcat/gomcat/discovery"
	"github.com/gomcat/gomcat/discovery/dns"
	"github.com/gomcat/gomcat/discovery/dns/dnstest"
	"github.com/gomcat/gomcat/internal/freeport"
	"github.com/gomcat/gomcat/internal/testkit"
)

func addr(s string) netip.Addr { return netip.MustParseAddr(s) }

// startServer runs dnsmasq on a free loopback port.
func startServer(t *testing.T, srv ...dnstest.SRV) *dnstest.Server {
	t.Helper()
	port, err := freeport.TCP()
	if err != nil {
		t.Fatal(err)
	}
	return dnstest.Start(t, dnstest.Options{Port: port, SRV: srv})
}

func provider(t *testing.T, s *dnstest.Server, name string) *dns.Provider {
	t.Helper()
	p, err := dns.New(dns.Config{Name: name, Server: s.Addr, Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func targets(t *testing.T, p *dns.Provider) ([]string, error) {
	t.Helper()
	ts, err := p.Targets(context.Background())
	out := make([]string, 0, len(ts))
	for _, x := range ts {
		out = append(out, x.String())
	}
	slices.Sort(out)
	return out, err
}

// waitTargets waits until the provider answers want (records changed at
// runtime are served once dnsmasq has reread its hosts directory).
func waitTargets(t *testing.T, p *dns.Provider, want ...string) {
	t.Helper()
	slices.Sort(want)
	var got []string
	var err error
	testkit.WaitFor(t, "targets "+strings.Join(want, ","), func() bool {
		got, err = targets(t, p)
		if len(want) == 0 {
			return err != nil
		}
		return err == nil && slices.Equal(got, want)
	})
}

func TestHeadlessServiceAAndAAAA(t *testing.T) {
	s := startServer(t)
	s.Set(t, "nodes.gomcat.test", addr("198.18.0.1"), addr("198.18.0.2"), addr("fd00::3"))
	p := provider(t, s, "nodes.gomcat.test")
	waitTargets(t, p, "198.18.0.1", "198.18.0.2", "fd00::3")
	if got := p.String(); got != "dns:nodes.gomcat.test@"+s.Addr.String() {
		t.Errorf("String = %q", got)
	}
	// A trailing dot names the same, fully qualified.
	waitTargets(t, provider(t, s, "nodes.gomcat.test."), "198.18.0.1", "198.18.0.2", "fd00::3")
}

func TestRecordsFollowedAtRuntime(t *testing.T) {
	s := startServer(t)
	s.Set(t, "nodes.gomcat.test", addr("198.18.0.1"), addr("198.18.0.2"))
	p := provider(t, s, "nodes.gomcat.test")
	waitTargets(t, p, "198.18.0.1", "198.18.0.2")

	s.Set(t, "nodes.gomcat.test", addr("198.18.0.1"), addr("198.18.0.2"), addr("198.18.0.4"))
	waitTargets(t, p, "198.18.0.1", "198.18.0.2", "198.18.0.4")

	s.Set(t, "nodes.gomcat.test", addr("198.18.0.4"))
	waitTargets(t, p, "198.18.0.4")

	// Every record gone: an error (no such host), never an empty list, so
	// the membership keeps what it has rather than dropping the cluster.
	s.Set(t, "nodes.gomcat.test")
	waitTargets(t, p)
	_, err := p.Targets(context.Background())
	var de *net.DNSError
	if !errors.As(err, &de) || !de.IsNotFound || !strings.Contains(err.Error(), "dns: lookup nodes.gomcat.test") {
		t.Fatalf("err = %v, want a not-found lookup error naming the name", err)
	}
}

func TestSRVCarriesPorts(t *testing.T) {
	s := startServer(t,
		dnstest.SRV{Name: "_gomcat._tcp.gomcat.test", Target: "a.gomcat.test", Port: 4001},
		dnstest.SRV{Name: "_gomcat._tcp.gomcat.test", Target: "b.gomcat.test", Port: 4002},
		dnstest.SRV{Name: "_gomcat._tcp.gomcat.test", Target: "gone.gomcat.test", Port: 4003},
	)
	s.Set(t, "a.gomcat.test", addr("198.18.0.1"))
	s.Set(t, "b.gomcat.test", addr("198.18.0.2"), addr("fd00::2"))
	p := provider(t, s, "_gomcat._tcp.gomcat.test")
	// gone.gomcat.test has no address: skipped, the others still count.
	waitTargets(t, p, "198.18.0.1:4001", "198.18.0.2:4002", "[fd00::2]:4002")
}

func TestSRVAllTargetsUnresolvable(t *testing.T) {
	s := startServer(t, dnstest.SRV{Name: "_gomcat._tcp.gomcat.test", Target: "gone.gomcat.test", Port: 4001})
	p := provider(t, s, "_gomcat._tcp.gomcat.test")
	_, err := p.Targets(context.Background())
	if err == nil || !strings.Contains(err.Error(), "gone.gomcat.test (SRV target of _gomcat._tcp.gomcat.test)") {
		t.Fatalf("err = %v, want the unresolvable SRV target named", err)
	}
}

func TestUnknownName(t *testing.T) {
	s := startServer(t)
	_, err := provider(t, s, "nobody.gomcat.test").Targets(context.Background())
	var de *net.DNSError
	if !errors.As(err, &de) || !de.IsNotFound {
		t.Fatalf("err = %v, want not found", err)
	}
}

func TestServerDownIsBoundedError(t *testing.T) {
	// A port nothing answers on: the lookup fails within the timeout.
	port, err := freeport.TCP()
	if err != nil {
		t.Fatal(err)
	}
	p, err := dns.New(dns.Config{Name: "nodes.gomcat.test", Server: netip.AddrPortFrom(addr("127.0.0.1"), uint16(port)), Timeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ts, err := p.Targets(context.Background())
	if err == nil || len(ts) != 0 {
		t.Fatalf("Targets = %v, %v; want an error", ts, err)
	}
}

func TestProviderContract(t *testing.T) {
	var _ discovery.Provider = (*dns.Provider)(nil)
}

func TestConfigValidate(t *testing.T) {
	long := strings.Repeat("a", 64)
	for _, tc := range []struct {
		cfg  dns.Config
		want string // "" = valid
	}{
		{dns.Config{Name: "gomcat.default.svc.cluster.local", Timeout: time.Second}, ""},
		{dns.Config{Name: "_gomcat._tcp.example.internal.", Timeout: time.Second}, ""},
		{dns.Config{Name: "", Timeout: time.Second}, "no name (set DNS_MEMBERSHIP_SERVICE_NAME"},
		{dns.Config{Name: "a..b", Timeout: time.Second}, "empty or over-long label"},
		{dns.Config{Name: long + ".test", Timeout: time.Second}, "empty or over-long label"},
		{dns.Config{Name: "bad name.test", Timeout: time.Second}, "character ' '"},
		{dns.Config{Name: "a.test", Timeout: 0}, "timeout 0s"},
		{dns.Config{Name: "a.test", Timeout: time.Second, Server: netip.AddrPortFrom(addr("127.0.0.1"), 0)}, "port 0"},
	} {
		err := tc.cfg.Validate()
		if tc.want == "" {
			if err != nil {
				t.Errorf("%+v: %v", tc.cfg, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: err = %v, want %q", tc.cfg, err, tc.want)
		}
	}
	if _, err := dns.New(dns.Config{Name: "a b"}); err == nil {
		t.Error("New accepted an invalid name")
	}
}

func TestNameFromEnv(t *testing.T) {
	env := map[string]string{"DNS_MEMBERSHIP_SERVICE_NAME": "gomcat.prod.svc"}
	if got := dns.NameFromEnv(func(k string) string { return env[k] }); got != "gomcat.prod.svc" {
		t.Errorf("NameFromEnv = %q", got)
	}
}

// FuzzConfigValidate: any name is accepted or refused, never a panic, and an
// accepted one is a name the resolver can be asked for.
func FuzzConfigValidate(f *testing.F) {
	for _, s := range []string{"gomcat.test", "_g._tcp.x.", "", "..", "a\x00b", strings.Repeat("a.", 200)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		if err := (dns.Config{Name: name, Timeout: time.Second}).Validate(); err != nil {
			return
		}
		if len(name) > 254 || strings.ContainsAny(name, " \x00/") {
			t.Fatalf("accepted %q", name)
		}
	})
}
