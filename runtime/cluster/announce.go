package cluster

import (
	"context"
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"strconv"
	"sync"

	"github.com/gomcat/gomcat/runtime/lifecycle"
	"github.com/gomcat/gomcat/transport"
)

// The announce is the cluster's own message on transport.ChannelProbe: a
// member tells a peer its name, receiver address, HTTP URL and start time.
// Static membership learns real names and start times from it (heartbeats
// carry them with multicast). Layout, big-endian:
//
//	version(1)=1 | kind(1) | startedAt(8, unix ms) | uniqueID(16) |
//	port(2) | hostLen(1) host | nameLen(1) name | urlLen(2) url
//
// Static membership derives peers' unique ids from their addresses; the
// announced id replaces it in the age order, so Seniors agree on both sides.
//
// Kind values: append only.
const (
	announceVersion = 1
	announceAsk     = 1 // announce, and ask the peer to announce back
	announceReply   = 2
	announceBye     = 3 // goodbye: this member stops (Cluster.Stop)
	announceFixed   = 1 + 1 + 8 + 16 + 2
)

var errAnnounce = errors.New("cluster: malformed announce")

// maxAnnouncedIDs bounds the announced ids kept (one per static peer
// address; a static membership lists its peers, so more is an attack).
const maxAnnouncedIDs = 1024

type announcement struct {
	kind      byte
	startedAt int64
	id        [16]byte
	port      int
	host      string
	name      string
	url       string
}

func (a announcement) append(dst []byte) []byte {
	dst = append(dst, announceVersion, a.kind)
	dst = binary.BigEndian.AppendUint64(dst, uint64(a.startedAt))
	dst = append(dst, a.id[:]...)
	dst = binary.BigEndian.AppendUint16(dst, uint16(a.port))
	dst = append(dst, byte(len(a.host)))
	dst = append(dst, a.host...)
	dst = append(dst, byte(len(a.name)))
	dst = append(dst, a.name...)
	dst = binary.BigEndian.AppendUint16(dst, uint16(len(a.url)))
	return append(dst, a.url...)
}

func decodeAnnouncement(b []byte) (announcement, error) {
	var a announcement
	if len(b) < announceFixed || b[0] != announceVersion || b[1] < announceAsk || b[1] > announceBye {
		return a, errAnnounce
	}
	a.kind = b[1]
	a.startedAt = int64(binary.BigEndian.Uint64(b[2:]))
	copy(a.id[:], b[10:26])
	a.port = int(binary.BigEndian.Uint16(b[26:]))
	b = b[announceFixed:]
	str := func(n int) (string, bool) {
		if n > len(b) {
			return "", false
		}
		s := string(b[:n])
		b = b[n:]
		return s, true
	}
	var ok bool
	if len(b) < 1 {
		return a, errAnnounce
	}
	n := int(b[0])
	b = b[1:]
	if a.host, ok = str(n); !ok || net.ParseIP(a.host) == nil {
		return a, errAnnounce
	}
	if len(b) < 1 {
		return a, errAnnounce
	}
	n = int(b[0])
	b = b[1:]
	if a.name, ok = str(n); !ok || validName(a.name) != nil {
		return a, errAnnounce
	}
	if len(b) < 2 {
		return a, errAnnounce
	}
	n = int(binary.BigEndian.Uint16(b))
	b = b[2:]
	if a.url, ok = str(n); !ok || len(b) != 0 || a.port == 0 {
		return a, errAnnounce
	}
	return a, nil
}

// announce tells the member at addr who this member is (async).
func (c *Cluster) announce(ctx context.Context, addr string, kind byte) {
	a := announcement{kind: kind, startedAt: c.self.StartedAt, id: c.self.UniqueID, port: c.self.Port,
		host: c.self.Host.String(), name: c.cfg.Name, url: c.HTTPURL()}
	err := c.sender.Send(ctx, addr, transport.Message{Channel: transport.ChannelProbe,
		Options: transport.OptAsync, Payload: a.append(nil)})
	if err != nil {
		c.log.Debug().Err(err).Str("peer", addr).Msg("announce failed")
	}
}

// reannounce tells every member the current HTTP URL (after SetHTTPURL).
// Event loop only; members added later get it with their first announce.
func (c *Cluster) reannounce(ctx context.Context) {
	for _, e := range c.tab.entries {
		if e.st != statePending {
			c.announce(ctx, e.addr, announceReply)
		}
	}
}

// onAnnounce feeds a peer's announce to a learning membership and answers
// an ask. Other memberships ignore it.
func (c *Cluster) onAnnounce(from transport.Peer, b []byte) error {
	a, err := decodeAnnouncement(b)
	if err != nil {
		c.st.badAnnounces.Add(1)
		return err
	}
	if c.life.State() != lifecycle.Running || c.learn == nil || a.name != from.Name {
		return nil
	}
	addr := net.JoinHostPort(a.host, strconv.Itoa(a.port))
	c.idMu.Lock()
	if _, known := c.ids[addr]; known || len(c.ids) < maxAnnouncedIDs {
		c.ids[addr] = a.id
	}
	c.idMu.Unlock()
	if a.kind == announceBye {
		if l, ok := c.learn.(leaver); ok && sameHostIP(a.host, from) {
			l.Leave(a.host, a.port)
		}
		return nil
	}
	c.learn.Learn(a.host, a.port, a.name, a.url, a.startedAt)
	if a.kind == announceAsk {
		c.announce(context.Background(), addr, announceReply)
	}
	return nil
}

// sameHostIP reports whether host (an announced IP) is from's source IP: a
// goodbye speaks only for the member whose address sent it.
func sameHostIP(host string, from transport.Peer) bool {
	a, err := netip.ParseAddr(host)
	return err == nil && a.Unmap() == from.Host.Unmap()
}

// sayGoodbye tells every member of a static or discovered membership that
// this member stops (multicast memberships say it in their own Stop), in
// parallel, each acknowledged or given up after the failure detector's
// ConnectTimeout. Peers apply it at once when the cluster is sealed (see
// left). Under c.mu, before the membership stops.
func (c *Cluster) sayGoodbye(ctx context.Context) {
	if c.learn == nil || c.sender == nil {
		return
	}
	a := announcement{kind: announceBye, startedAt: c.self.StartedAt, id: c.self.UniqueID, port: c.self.Port,
		host: c.self.Host.String(), name: c.cfg.Name, url: c.HTTPURL()}
	payload := a.append(nil)
	ctx, cancel := context.WithTimeout(ctx, c.cfg.FailureDetector.ConnectTimeout)
	defer cancel()
	var wg sync.WaitGroup
	for _, r := range c.view.Load().members {
		wg.Go(func() {
			err := c.sender.Send(ctx, r.addr, transport.Message{Channel: transport.ChannelProbe,
				Options: transport.OptUseAck, Payload: payload})
			if err != nil {
				c.log.Debug().Err(err).Str("peer", r.addr).Msg("goodbye not delivered")
			}
		})
	}
	wg.Wait()
}
