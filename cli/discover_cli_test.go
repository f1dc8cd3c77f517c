package cli

import (
	"net"
	"net/netip"
	"strconv"
	"strings"
	"testing"

	"github.com/gomcat/gomcat/discovery/dns/dnstest"
	"github.com/gomcat/gomcat/internal/testkit"
)

// TestMembersFromDNS lists a real dnsmasq's records for a name and probes
// each: one address accepts TCP on the receiver port, one refuses, and a
// record added at runtime shows up on a later run.
func TestMembersFromDNS(t *testing.T) {
	srv := dnstest.Start(t, dnstest.Options{Port: freeTCPPort(t)})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	srv.Set(t, "nodes.gomcat.test", netip.MustParseAddr("127.0.0.1"))
	spec := "dns:nodes.gomcat.test@" + srv.Addr.String()

	var out string
	testkit.WaitFor(t, "the record to be served", func() bool {
		var code int
		code, out, _ = run(t, "members", "--membership", spec, "--port", port, "--once")
		return code == 0 && strings.Contains(out, "targets 1")
	})
	if !strings.Contains(out, "membership "+spec) || !strings.Contains(out, "127.0.0.1:"+port+"  answers") || !strings.Contains(out, "answering 1") {
		t.Fatalf("members --membership:\n%s", out)
	}

	srv.Set(t, "nodes.gomcat.test", netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("127.0.0.3"))
	testkit.WaitFor(t, "the added record", func() bool {
		_, out, _ = run(t, "members", "--membership", spec, "--port", port, "--once")
		return strings.Contains(out, "targets 2")
	})
	if !strings.Contains(out, "127.0.0.3:"+port+"  no answer: ") || !strings.Contains(out, "answering 1") {
		t.Fatalf("a refusing target:\n%s", out)
	}

	// A name without records: the lookup's error, exit 1.
	code, out, errs := run(t, "members", "--membership", "dns:none.gomcat.test@"+srv.Addr.String(), "--port", port, "--once")
	if code != 1 || !strings.Contains(out, "no answer: dns: lookup none.gomcat.test") || !strings.Contains(errs, "dns:none.gomcat.test") {
		t.Fatalf("no records: %d\n%s\n%s", code, out, errs)
	}
}

func TestMembershipSpec(t *testing.T) {
	env := map[string]string{"DNS_MEMBERSHIP_SERVICE_NAME": "gomcat.default.svc"}
	getenv := func(k string) string { return env[k] }
	for spec, want := range map[string]string{
		"dns:a.example":                "dns:a.example",
		"dns:_gomcat._tcp.a.example":   "dns:_gomcat._tcp.a.example",
		"dns:a.example@127.0.0.1:5353": "dns:a.example@127.0.0.1:5353",
		"dns":                          "dns:gomcat.default.svc",
		"dns:@[::1]:53":                "dns:gomcat.default.svc@[::1]:53",
	} {
		p, err := membershipProvider(spec, getenv)
		if err != nil || p.String() != want {
			t.Errorf("%q: %v, %v; want %s", spec, p, err, want)
		}
	}
	for spec, want := range map[string]string{
		"dns:a.example@nohost": "want IP:PORT",
		"dns:bad name":         "dns: name",
		"consul:x":             "want dns:NAME",
		"kubernetes:x":         "takes no argument",
		"kubernetes":           "--membership kubernetes: ",
	} {
		delete(env, "DNS_MEMBERSHIP_SERVICE_NAME")
		if _, err := membershipProvider(spec, getenv); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", spec, err, want)
		}
	}
}
