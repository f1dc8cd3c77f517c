package mcast

import (
	"errors"
	"net"
	"testing"
)

// A host with two interfaces: the route table sends 198.18.0.0/15 and
// fd00::/8 out of the second one, everything else out of the first.
func twoNICRoute(target string) (net.IP, error) {
	ip := net.ParseIP(target)
	switch {
	case ip == nil:
		return nil, errors.New("not an IP")
	case ip.IsLoopback():
		return ip, nil
	case ip.To4() != nil && ip.To4()[0] == 198 && ip.To4()[1]&0xfe == 18:
		return net.ParseIP("198.18.0.7"), nil
	case ip.To4() == nil && ip[0] == 0xfd:
		return net.ParseIP("fd00::7"), nil
	case ip.To4() == nil:
		return net.ParseIP("2001:db8::1"), nil
	default:
		return net.ParseIP("192.0.2.1"), nil // the first interface
	}
}

// "auto" is the source address of the route to the membership target, not
// the first interface's address.
func TestAdvertiseAutoFollowsRouteToTarget(t *testing.T) {
	tests := []struct {
		bind, configured, target, want string
		fail                           bool
	}{
		{"", "auto", "198.18.3.2", "198.18.0.7", false}, // a static peer behind the second NIC
		{"", "", "198.18.3.2", "198.18.0.7", false},
		{"", "auto", "fd00::2", "fd00::7", false},     // an IPv6 peer
		{"", "auto", "228.0.0.4", "192.0.2.1", false}, // the group: the default route
		{"", "auto", "", "192.0.2.1", false},          // no target: the default group
		{"", "auto", "127.0.0.1", "127.0.0.1", false}, // peers on this host: loopback is right
		{"", "auto", "::1", "::1", false},
		{"198.18.0.9", "auto", "fd00::2", "198.18.0.9", false}, // a bound membership wins
		{"", "fd00::5", "198.18.3.2", "fd00::5", false},        // an explicit address wins
		{"", "auto", "not-an-ip", "", true},
	}
	for _, tt := range tests {
		ip, err := advertiseAddress(tt.bind, tt.configured, tt.target, twoNICRoute)
		if tt.fail != (err != nil) || (!tt.fail && ip.String() != tt.want) {
			t.Errorf("advertiseAddress(%q, %q, %q) = %v, %v; want %s", tt.bind, tt.configured, tt.target, ip, err, tt.want)
		}
	}
}

// A route through loopback to a peer that is not on loopback is refused:
// peers could not reach the address.
func TestAdvertiseAutoRefusesLoopbackForRemoteTarget(t *testing.T) {
	lo := func(string) (net.IP, error) { return net.ParseIP("127.0.0.1"), nil }
	if ip, err := advertiseAddress("", "auto", "198.18.3.2", lo); !errors.Is(err, ErrNoInterface) {
		t.Fatalf("got %v, %v; want ErrNoInterface", ip, err)
	}
}

// The real routing table: loopback targets route from loopback, both
// families.
func TestRouteSourceLoopback(t *testing.T) {
	for target, want := range map[string]string{"127.0.0.1": "127.0.0.1", "::1": "::1"} {
		ip, err := RouteSource(target)
		if err != nil {
			if target == "::1" {
				t.Logf("no IPv6 loopback here: %v", err)
				continue
			}
			t.Fatal(err)
		}
		if ip.String() != want {
			t.Errorf("RouteSource(%s) = %v, want %s", target, ip, want)
		}
	}
	if ip, err := AdvertiseAddress("", "auto", "::1"); err == nil && !ip.Equal(net.IPv6loopback) {
		t.Errorf("AdvertiseAddress auto toward ::1 = %v", ip)
	}
}
