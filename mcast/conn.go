package mcast

import (
	"fmt"
	"net"
	"strconv"
	"time"

	"golang.org/x/net/ipv4"
)

// packetConn is the group socket. The real one wraps *ipv4.PacketConn;
// tests swap in an in-memory fake through Config.listen.
type packetConn interface {
	// ReadFrom reads one datagram. foreign is true when control messages show
	// it was addressed to another group or arrived on another interface
	// (Go binds multicast sockets so that such packets can reach us).
	ReadFrom(b []byte) (n int, foreign bool, err error)
	// WriteTo sends one datagram to the group.
	WriteTo(b []byte) error
	SetReadDeadline(t time.Time) error
	Close() error
}

type udpConn struct {
	pc    *ipv4.PacketConn
	group *net.UDPAddr
	ifi   *net.Interface
}

func (c *udpConn) ReadFrom(b []byte) (int, bool, error) {
	n, cm, _, err := c.pc.ReadFrom(b)
	if err != nil {
		return 0, false, err
	}
	if cm != nil {
		if cm.Dst != nil && !cm.Dst.Equal(c.group.IP) {
			return n, true, nil
		}
		if cm.IfIndex != 0 && cm.IfIndex != c.ifi.Index {
			return n, true, nil
		}
	}
	return n, false, nil
}

func (c *udpConn) WriteTo(b []byte) error {
	_, err := c.pc.WriteTo(b, nil, c.group)
	return err
}

func (c *udpConn) SetReadDeadline(t time.Time) error { return c.pc.SetReadDeadline(t) }
func (c *udpConn) Close() error                      { return c.pc.Close() }

// listenGroup opens the group socket: bound to group:port (Go sets
// SO_REUSEADDR, so several nodes on one host share the port), joined on the
// interface that owns cfg.Bind, multicast interface, TTL and loopback set,
// destination/interface control messages on.
//
// Linux's lo has no MULTICAST flag, yet joining on it and sending with
// IP_MULTICAST_IF=lo delivers to every socket on the host (verified), so
// loopback is accepted without the flag; other interfaces need it.
func listenGroup(cfg Config) (packetConn, error) {
	ifi, err := multicastInterface(cfg.Bind, cfg.Address)
	if err != nil {
		return nil, err
	}
	if ifi.Flags&net.FlagMulticast == 0 && ifi.Flags&net.FlagLoopback == 0 {
		return nil, fmt.Errorf("%w: %s (flags %v); use another bind address or `ip link set %s multicast on`",
			ErrNoMulticast, ifi.Name, ifi.Flags, ifi.Name)
	}
	group := &net.UDPAddr{IP: net.ParseIP(cfg.Address).To4(), Port: cfg.Port}
	c, err := net.ListenPacket("udp4", group.String())
	if err != nil {
		// Tomcat falls back to a port-only bind when the group bind fails.
		var err2 error
		if c, err2 = net.ListenPacket("udp4", ":"+strconv.Itoa(cfg.Port)); err2 != nil {
			return nil, fmt.Errorf("mcast: listen %s: %w", group, err)
		}
	}
	pc := ipv4.NewPacketConn(c)
	fail := func(what string, err error) (packetConn, error) {
		_ = pc.Close()
		return nil, fmt.Errorf("mcast: %s on %s: %w", what, ifi.Name, err)
	}
	if err := pc.JoinGroup(ifi, &net.UDPAddr{IP: group.IP}); err != nil {
		return fail("join "+group.IP.String(), err)
	}
	if err := pc.SetMulticastInterface(ifi); err != nil {
		return fail("set multicast interface", err)
	}
	if cfg.TTL >= 0 {
		if err := pc.SetMulticastTTL(cfg.TTL); err != nil {
			return fail("set ttl", err)
		}
	}
	if err := pc.SetMulticastLoopback(!cfg.LocalLoopbackDisabled); err != nil {
		return fail("set loopback", err)
	}
	if err := pc.SetControlMessage(ipv4.FlagDst|ipv4.FlagInterface, true); err != nil {
		return fail("enable control messages", err)
	}
	return &udpConn{pc: pc, group: group, ifi: ifi}, nil
}

// multicastInterface finds the interface owning bind, or for bind == "" the
// interface of the route to the group (no packet is sent: a UDP "connect"
// only consults the routing table).
func multicastInterface(bind, group string) (*net.Interface, error) {
	ip := net.ParseIP(bind)
	if bind == "" {
		var err error
		if ip, err = RouteSource(group); err != nil {
			return nil, err
		}
	}
	if ip == nil {
		return nil, fmt.Errorf("%w: %q is not an IP", ErrNoInterface, bind)
	}
	return interfaceByIP(ip)
}

func interfaceByIP(ip net.IP) (*net.Interface, error) {
	ifs, err := net.Interfaces()
	if err != nil {
		return nil, fmt.Errorf("mcast: list interfaces: %w", err)
	}
	var loop *net.Interface
	for i := range ifs {
		ifi := &ifs[i]
		if ifi.Flags&net.FlagLoopback != 0 && loop == nil {
			loop = ifi
		}
		addrs, err := ifi.Addrs()
		if err != nil {
			continue
		}
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok && n.IP.Equal(ip) {
				return ifi, nil
			}
		}
	}
	if ip.IsLoopback() && loop != nil { // 127.0.0.2 etc. live on lo without being listed
		return loop, nil
	}
	return nil, fmt.Errorf("%w: %s", ErrNoInterface, ip)
}
