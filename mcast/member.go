package mcast

import (
	"bytes"
	"cmp"
	"encoding/hex"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Member is one node of the group as last heard. Values are copies: changing
// one changes nothing in the Service.
type Member struct {
	Name      string        // jvmRoute; "" for a foreign (Tomcat) member
	Domain    string        // cluster domain from the heartbeat
	Host      net.IP        // advertised receiver IP (never the UDP source)
	Port      int           // receiver TCP port
	UniqueID  [16]byte      // random per start: a restart is a new member
	HTTPURL   string        // connector address for balancers; may be ""
	StartedAt int64         // unix ms when the member's membership started
	Alive     time.Duration // the sender's membership uptime at its last heartbeat
	Foreign   bool          // heartbeat without a Gomcat payload (a Tomcat node)
	LastHeard time.Time     // local clock, last heartbeat received
}

// String renders the member the way the Tomcat-style log lines want it:
// tcp://HOST:PORT,NAME,domain=D,id=HEX,http=URL,alive=N (alive in ms).
func (m Member) String() string {
	var b strings.Builder
	b.WriteString("tcp://")
	host := "?"
	if m.Host != nil {
		host = m.Host.String()
	}
	b.WriteString(net.JoinHostPort(host, strconv.Itoa(m.Port)))
	b.WriteByte(',')
	if m.Foreign {
		b.WriteString("(tomcat)")
	} else {
		b.WriteString(m.Name)
	}
	b.WriteString(",domain=")
	b.WriteString(m.Domain)
	b.WriteString(",id=")
	b.WriteString(hex.EncodeToString(m.UniqueID[:]))
	if m.HTTPURL != "" {
		b.WriteString(",http=")
		b.WriteString(m.HTTPURL)
	}
	b.WriteString(",alive=")
	b.WriteString(strconv.FormatInt(m.Alive.Milliseconds(), 10))
	return b.String()
}

// Addr is the receiver address, "host:port".
func (m Member) Addr() string {
	return net.JoinHostPort(m.Host.String(), strconv.Itoa(m.Port))
}

// Older reports whether m started before o: by StartedAt, then UniqueID.
// Every node computes the same order from the same heartbeats.
func (m Member) Older(o Member) bool { return compareAge(m, o) < 0 }

func compareAge(a, b Member) int {
	if c := cmp.Compare(a.StartedAt, b.StartedAt); c != 0 {
		return c
	}
	return bytes.Compare(a.UniqueID[:], b.UniqueID[:])
}

func sortMembers(ms []Member) { slices.SortFunc(ms, compareAge) }

// identity is Tribes' member equality: host bytes + port + unique id.
type identity struct {
	host [16]byte
	port int
	id   [16]byte
}

type addrKey struct {
	host [16]byte
	port int
}

func hostKey(ip net.IP) [16]byte {
	var k [16]byte
	copy(k[:], ip.To16())
	return k
}

func (m Member) identity() identity {
	return identity{host: hostKey(m.Host), port: m.Port, id: m.UniqueID}
}

func (m Member) addrKey() addrKey { return addrKey{host: hostKey(m.Host), port: m.Port} }

func (m Member) clone() Member {
	m.Host = slices.Clone(m.Host)
	return m
}
