package mcast

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"
)

// RouteSource returns the local address the system would use to reach
// target (an IP or host name, IPv4 or IPv6): a UDP "connect" that only
// consults the routing table; no packet is sent.
func RouteSource(target string) (net.IP, error) {
	c, err := net.Dial("udp", net.JoinHostPort(target, "9"))
	if err != nil {
		return nil, fmt.Errorf("%w: no route to %s: %v", ErrNoInterface, target, err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).IP, nil
}

// AdvertiseAddress picks the receiver address a node puts in its heartbeats
// (or its hello, for a static or DNS membership). An explicit configured IP
// (or host name, resolved, IPv4 first) wins; "" or "auto" means the address
// of the interface the membership uses: bind itself, or with bind == "" the
// source address of the route to target, the membership's first peer or
// group ("" = the default group 228.0.0.4) — not the first interface. It
// never returns an unspecified address, and returns loopback only when bound
// to loopback or when target is on loopback (peers on this host).
func AdvertiseAddress(bind, configured, target string) (net.IP, error) {
	return advertiseAddress(bind, configured, target, RouteSource)
}

// advertiseAddress is AdvertiseAddress with the route lookup given (tests
// stand in a routing table).
func advertiseAddress(bind, configured, target string, route func(string) (net.IP, error)) (net.IP, error) {
	if configured != "" && configured != "auto" {
		if ip := net.ParseIP(configured); ip != nil {
			if ip.IsUnspecified() || ip.IsMulticast() {
				return nil, fmt.Errorf("%w: address %q cannot be reached by peers", ErrConfig, configured)
			}
			return ip, nil
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		ips, err := net.DefaultResolver.LookupIP(ctx, "ip", configured)
		if err != nil || len(ips) == 0 {
			return nil, fmt.Errorf("%w: address %q: %v", ErrConfig, configured, err)
		}
		for _, ip := range ips {
			if ip.To4() != nil {
				return ip, nil
			}
		}
		return ips[0], nil
	}
	if bind != "" {
		ip := net.ParseIP(bind)
		if ip == nil || ip.IsUnspecified() {
			return nil, fmt.Errorf("%w: bind %q: use an interface address or set the address explicitly", ErrConfig, bind)
		}
		return ip, nil
	}
	if target == "" {
		target = DefaultConfig().Address
	}
	ip, err := route(target)
	if err != nil {
		return nil, err
	}
	if ip.IsUnspecified() || ip.IsLoopback() && !isLoopbackTarget(target) {
		return nil, errors.Join(ErrNoInterface, fmt.Errorf("mcast: the route to %s uses %s; set bind or address explicitly", target, ip))
	}
	return ip, nil
}

// isLoopbackTarget reports whether target is a loopback IP literal or
// "localhost".
func isLoopbackTarget(target string) bool {
	if ip := net.ParseIP(target); ip != nil {
		return ip.IsLoopback()
	}
	return target == "localhost"
}
