package host

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"time"

	"github.com/rs/zerolog"

	"github.com/gomcat/gomcat/ajp"
)

// AJPConfig configures one AJP/1.3 connector (Tomcat <Connector
// protocol="AJP/1.3">), the listener httpd's mod_jk and mod_proxy_ajp talk
// to. The defaults are Tomcat's secure ones since CVE-2020-1938: loopback
// only and a required secret.
type AJPConfig struct {
	// Address is the local address to bind. "" = 127.0.0.1 (Tomcat binds
	// AJP to the loopback address unless told otherwise).
	Address string
	// Port to listen on; 0 = a free port (see AJPConnector.Addr).
	Port int
	// Secret is the shared secret every forward request must carry
	// (mod_jk worker.X.secret, mod_proxy_ajp secret=). A request with a
	// missing or wrong secret is answered 403. Default: "".
	Secret string
	// SecretRequired refuses to start without a Secret. Default: true
	// (set by DefaultAJPConfig).
	SecretRequired bool
	// AllowedRequestAttributes is a regular expression (whole name) for
	// request attributes beyond the ones AJP defines; any other attribute
	// gets 403 (Tomcat allowedRequestAttributesPattern). Default: "" (none).
	AllowedRequestAttributes string
	// PacketSize is the largest AJP packet, header included (mod_jk
	// max_packet_size must match). 8192..65536. Default: 8192.
	PacketSize int
	// MaxThreads caps the requests served at once. Default: 200.
	MaxThreads int
	// MaxConnections caps open AJP connections; more wait in the listen
	// backlog. Default: 8192 (Tomcat's NIO default).
	MaxConnections int
	// ConnectionTimeout bounds each read while a request is served (its
	// body packets). Default: 60s (Tomcat's is infinite).
	ConnectionTimeout time.Duration
	// KeepAliveTimeout closes a connection idle that long between
	// requests; keep mod_jk's connection_pool_timeout below it.
	// Default: ConnectionTimeout.
	KeepAliveTimeout time.Duration
	// ShutdownGrace bounds how long Stop waits for in-flight requests.
	// Default: 30s.
	ShutdownGrace time.Duration
	// Handler serves the requests (the Engine). Required.
	Handler http.Handler
	// Logger. Default: zerolog.Nop().
	Logger zerolog.Logger
}

// DefaultAJPConfig returns the defaults (SecretRequired true).
func DefaultAJPConfig() AJPConfig {
	return AJPConfig{
		Address: "127.0.0.1", SecretRequired: true, PacketSize: ajp.DefaultPacketSize,
		MaxThreads: 200, MaxConnections: 8192, ConnectionTimeout: 60 * time.Second,
		ShutdownGrace: 30 * time.Second, Logger: zerolog.Nop(),
	}
}

func (c *AJPConfig) fill() {
	d := DefaultAJPConfig()
	if c.Address == "" {
		c.Address = d.Address
	}
	if c.PacketSize == 0 {
		c.PacketSize = d.PacketSize
	}
	if c.MaxThreads <= 0 {
		c.MaxThreads = d.MaxThreads
	}
	if c.MaxConnections <= 0 {
		c.MaxConnections = d.MaxConnections
	}
	if c.ConnectionTimeout == 0 {
		c.ConnectionTimeout = d.ConnectionTimeout
	}
	if c.KeepAliveTimeout == 0 {
		c.KeepAliveTimeout = c.ConnectionTimeout
	}
	if c.ShutdownGrace <= 0 {
		c.ShutdownGrace = d.ShutdownGrace
	}
}

// Validate checks the config (after defaults).
func (c AJPConfig) Validate() error {
	var errs []error
	if c.Port < 0 || c.Port > 65535 {
		errs = append(errs, fmt.Errorf("host: AJP Connector port %d: want 0-65535", c.Port))
	}
	if c.Handler == nil {
		errs = append(errs, errors.New("host: AJP Connector needs a Handler"))
	}
	if c.SecretRequired && c.Secret == "" {
		errs = append(errs, fmt.Errorf("host: AJP Connector port %d: secretRequired is true but no secret is set", c.Port))
	}
	if c.PacketSize < ajp.DefaultPacketSize || c.PacketSize > ajp.MaxPacketSize {
		errs = append(errs, fmt.Errorf("host: AJP Connector packetSize %d: want %d-%d", c.PacketSize, ajp.DefaultPacketSize, ajp.MaxPacketSize))
	}
	if c.AllowedRequestAttributes != "" {
		if _, err := regexp.Compile(c.AllowedRequestAttributes); err != nil {
			errs = append(errs, fmt.Errorf("host: AJP Connector allowedRequestAttributesPattern: %w", err))
		}
	}
	return errors.Join(errs...)
}
