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
	return &AJPConnector{Node: Node{Element: "Connector"}, Port: DefaultAJPPort, Address: DefaultAJPAddress,
		Protocol: "AJP/1.3", SecretRequired: true, PacketSize: DefaultAJPPacketSize, MaxThreads: 200,
		MaxConnections: DefaultAJPMaxConnections, ConnectionTimeout: DefaultAJPConnectionTimeout,
		KeepAliveTimeout: DefaultAJPConnectionTimeout}
}

func (p *parser) ajpConnector(e *elem) *AJPConnector {
	c := newAJPConnector()
	c.Pos = e.pos
	noop := field{set: func(*parser, *elem, attr) {}}
	p.attrs(e, &c.Node, fields{
		"port":                            fInt(&c.Port),
		"address":                         fStr(&c.Address),
		"protocol":                        noop,
		"secret":                          fStr(&c.Secret),
		"requiredSecret":                  fStr(&c.Secret).as("secret"), // Tomcat 6–9.0.30
		"request.secret":                  fStr(&c.Secret).as("secret"), // Tomcat 5.5
		"secretRequired":                  fBool(&c.SecretRequired),
		"allowedRequestAttributesPattern": fStr(&c.AllowedRequestAttributesPattern),
		"packetSize":                      fInt(&c.PacketSize),
		"maxThreads":                      fInt(&c.MaxThreads),
		"maxProcessors":                   fInt(&c.MaxThreads).as("maxThreads"), // Tomcat 5.5
		"maxConnections":                  fInt(&c.MaxConnections),
		"connectionTimeout":               fDur(&c.ConnectionTimeout, time.Millisecond),
		"keepAliveTimeout":                fDur(&c.KeepAliveTimeout, time.Millisecond),
	}, inert{
		"redirectPort": "Gomcat does not redirect to a TLS port", "enableLookups": "", "URIEncoding": "Gomcat decodes URIs as UTF-8",
		"useBodyEncodingForURI": "", "acceptCount": "", "backlog": "", "minSpareThreads": "", "maxSpareThreads": "",
		"minProcessors": "", "executor": "", "tcpNoDelay": "Gomcat always sets TCP_NODELAY", "bufferSize": "",
		"tomcatAuthentication": "the web server's remote user is passed to the app as AJPInfo.RemoteUser, never trusted as a login",
		"tomcatAuthorization":  "", "ajpFlush": "Gomcat always sends AJP flush packets on Flush", "maxHeaderCount": "",
		"maxPostSize": "", "maxParameterCount": "", "xpoweredBy": "", "proxyName": "", "proxyPort": "", "scheme": "AJP takes the scheme from the web server",
		"secure": "AJP takes it from the web server", "allowTrace": "", "asyncTimeout": "", "processorCache": "",
		"acceptorThreadCount": "", "connectionLinger": "", "clientCertProvider": "", "bindOnInit": "", "debug": "",
		"request.useSecret":        "Gomcat needs an explicit secret (set secret=\"…\")",
		"request.shutdownEnabled":  "Gomcat always refuses the AJP shutdown packet",
		"request.registerRequests": "",
	})
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
	v.port(&c.Node, "port", c.Port, 0, "0 picks a free port, 1..65535")
	v.address(&c.Node, "address", c.Address)
	v.atLeast(&c.Node, "maxThreads", c.MaxThreads, 1)
	v.atLeast(&c.Node, "maxConnections", c.MaxConnections, 1)
	if c.PacketSize < 8192 || c.PacketSize > 65536 {
		v.bad(&c.Node, "packetSize", "%d is out of range (8192..65536, as mod_jk's max_packet_size)", c.PacketSize)
	}
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
	d.kv(2, "address", orText(c.Address, "all interfaces"))
	secret := "(none)"
	if c.Secret != "" {
		secret = "set (not shown)"
	}
	d.kv(2, "secret", secret)
	d.kv(2, "secretRequired", c.SecretRequired)
	d.kv(2, "allowedRequestAttributesPattern", orText(c.AllowedRequestAttributesPattern, "(none)"))
	d.kv(2, "packetSize", c.PacketSize)
	d.kv(2, "maxThreads", c.MaxThreads)
	d.kv(2, "maxConnections", c.MaxConnections)
	d.kv(2, "connectionTimeout", ms(c.ConnectionTimeout))
	d.kv(2, "keepAliveTimeout", ms(c.KeepAliveTimeout))
}
