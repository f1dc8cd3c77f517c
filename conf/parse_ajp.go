package conf

import (
	"fmt"
	"net"
	"regexp"
	"strings"
	"time"
)

// AJP connector defaults: Tomcat's since the 2020 AJP advisory
// (CVE-2020-1938), except the idle timeout (Gomcat).
const (
	DefaultAJPPort              = 8009
	DefaultAJPAddress           = "127.0.0.1" // Tomcat: "localhost"
	DefaultAJPPacketSize        = 8192
	DefaultAJPMaxConnections    = 8192
	DefaultAJPConnectionTimeout = 60000 * time.Millisecond // Gomcat; Tomcat: -1 (none)
)

// AJPConnector is a <Connector protocol="AJP/1.3">: the listener Apache
// httpd's mod_jk and mod_proxy_ajp forward to.
type AJPConnector struct {
	Node
	Port     int    // TCP port; 0 picks a free one. Default: 8009.
	Address  string // listen address. Default: 127.0.0.1 (loopback only).
	Protocol string // always "AJP/1.3" in the model.
	// Secret every forward request must carry (mod_jk worker.NAME.secret).
	// 5.5–9.0.30 spelled it requiredSecret (and 5.5 request.secret).
	Secret string
	// SecretRequired refuses to start without a Secret. Default: true.
	SecretRequired bool
	// AllowedRequestAttributesPattern admits request attributes AJP does
	// not define (whole-name regular expression). Default: "" (none).
	AllowedRequestAttributesPattern string
	// PacketSize is the largest AJP packet (bytes, 8192..65536); mod_jk's
	// max_packet_size must match. Default: 8192.
	PacketSize int
	// MaxThreads bounds the requests served at once. Default: 200.
	MaxThreads int
	// MaxConnections bounds open connections. Default: 8192.
	MaxConnections int
	// ConnectionTimeout bounds each read while a request is served (ms).
	// Default: 60000 ms (Tomcat: none).
	ConnectionTimeout time.Duration
	// KeepAliveTimeout closes a connection idle that long between
	// requests (ms). Default: ConnectionTimeout.
	KeepAliveTimeout time.Duration
}

// ajpProtocols are the protocol values (and 5.5's handler class) that
// select the AJP connector.
func isAJPProtocol(v string) bool {
	return v == "AJP/1.3" || strings.HasPrefix(v, "org.apache.coyote.ajp.") || v == "org.apache.jk.server.JkCoyoteHandler"
}

func newAJPConnector() *AJPConnector {
	c := &AJPConnector{Node: Node{Element: "Connector"}, Protocol: "AJP/1.3"}
	ajpSpec.fill(c)
	c.KeepAliveTimeout = c.ConnectionTimeout
	return c
}

func (p *parser) ajpConnector(e *elem) *AJPConnector {
	c := newAJPConnector()
	c.Pos = e.pos
	p.attrs(e, &c.Node, ajpSpec.fields(c), ajpSpec.inert)
	for _, k := range e.kids {
		p.ignore(k)
	}
	if !c.Has("keepAliveTimeout") {
		c.KeepAliveTimeout = c.ConnectionTimeout
	}
	if !c.SecretRequired && c.Secret == "" && !loopbackHost(c.Address) {
		p.warnf(c.AttrPos("secretRequired"), e.name, "secretRequired",
			"AJP connector on %q without a secret: anyone who can reach it can forge requests (CVE-2020-1938); set secret or bind it to 127.0.0.1", c.Address)
	}
	return c
}

func loopbackHost(a string) bool {
	if a == "localhost" {
		return true
	}
	ip := net.ParseIP(a)
	return ip != nil && ip.IsLoopback()
}

func (v *validator) ajpConnector(c *AJPConnector) {
	ajpSpec.check(v, &c.Node, c)
	v.address(&c.Node, "address", c.Address)
	if c.SecretRequired && c.Secret == "" {
		v.bad(&c.Node, "secret", "the AJP connector has secretRequired=\"true\" (the default since CVE-2020-1938) but no secret: "+
			"set secret=\"…\" here and the same worker.NAME.secret in workers.properties, or secretRequired=\"false\" on a loopback address")
	}
	if c.AllowedRequestAttributesPattern != "" {
		if _, err := regexp.Compile(c.AllowedRequestAttributesPattern); err != nil {
			v.bad(&c.Node, "allowedRequestAttributesPattern", "not a regular expression: %v", err)
		}
	}
}

func (d *describer) ajpConnector(c *AJPConnector) {
	d.head(1, fmt.Sprintf("Connector %s port %d", c.Protocol, c.Port))
	ajpSpec.describe(d, 2, c)
}
