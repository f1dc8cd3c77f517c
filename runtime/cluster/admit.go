package cluster

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	"github.com/gomcat/gomcat/mcast"
	"github.com/gomcat/gomcat/transport"
)

// Membership is a verified fact, never a claim in a message: a transport
// connection is admitted (transport.Config.Admit) only once its hello
// matches a live member, by name, unique id and the connection's source
// IP against the member's advertised host; and every session or farm
// message is checked again against the current view (the member may have
// left or been replaced since). Static membership learns names over the
// transport, so a connection from a configured member's host is admitted
// for the announce (ChannelProbe) before the member is known; its other
// channels wait until it is a member, checked by name and host (static
// peers' unique ids are derived from addresses until announced).

// admitHello is the receiver's Admit hook. A real member can be heard by
// this node a heartbeat after it heard this node, so a hello that matches
// no member yet waits for the view to change, up to AdmitWait.
func (c *Cluster) admitHello(ctx context.Context, p transport.Peer) error {
	var timeout <-chan time.Time
	for {
		v, static := c.view.Load(), c.static.Load()
		if v.isMember(p, static) || static && v.staticHosts[p.Host] {
			return nil
		}
		if timeout == nil {
			t := time.NewTimer(c.cfg.AdmitWait)
			defer t.Stop()
			timeout = t.C
		}
		select {
		case <-v.next:
		case <-timeout:
			c.st.unadmitted.Add(1)
			return fmt.Errorf("%w: %s from %s (id %x) within %v", ErrNotMember, p.Name, p.Host, p.UniqueID[:4], c.cfg.AdmitWait)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// isMember reports whether p (a transport hello and its source IP) is a
// member of v: same name, same unique id (static: not compared) and the
// source IP is the member's advertised host.
func (v *view) isMember(p transport.Peer, static bool) bool {
	r := v.byName[p.Name]
	if r == nil || !static && r.m.UniqueID != p.UniqueID {
		return false
	}
	return sameHost(r.m, p.Host)
}

// sameHost compares a member's advertised host with a source IP.
func sameHost(m mcast.Member, host netip.Addr) bool {
	a, ok := netip.AddrFromSlice(m.Host)
	return ok && a.Unmap() == host.Unmap()
}

// fromMember checks one inbound message of a non-probe channel; false
// counts and logs (once per burst) a refused message.
func (c *Cluster) fromMember(from transport.Peer, ch transport.Channel) bool {
	if c.view.Load().isMember(from, c.static.Load()) {
		return true
	}
	c.st.refusedMessages.Add(1)
	if ok, n := c.refusedLog.Allow(time.Now()); ok {
		c.log.Warn().Str("peer", from.Name).Str("remote", from.Host.String()).Int("channel", int(ch)).
			Uint64("suppressed", n).Msg("message refused: sender is not a member")
	}
	return false
}

// keepAlive pings every live member's connection, so receivers that close
// idle connections (transport.Config.IdleTimeout) keep the cluster's.
// Event loop only; each ping runs on its own short goroutine.
func (c *Cluster) keepAlive(ctx context.Context) {
	for _, r := range c.view.Load().members {
		if r.suspect {
			continue
		}
		addr := r.addr
		c.life.Go(func(context.Context) {
			pctx, cancel := context.WithTimeout(ctx, c.cfg.Transport.Timeout)
			defer cancel()
			_ = c.sender.Ping(pctx, addr) // a failure is the detector's business
		})
	}
}

// idleTimeout is the receiver's idle timeout: Transport.IdleTimeout, or
// IdleHeartbeats × the membership's heartbeat interval.
func (c Config) idleTimeout() time.Duration {
	if c.Transport.IdleTimeout > 0 {
		return c.Transport.IdleTimeout
	}
	every := 500 * time.Millisecond
	switch m := c.Membership.(type) {
	case Multicast:
		if m.Config.Frequency > 0 {
			every = m.Config.Frequency
		}
	case Static:
		if m.Config.Interval > 0 {
			every = m.Config.Interval
		}
	}
	return time.Duration(c.IdleHeartbeats) * every
}
