package conf

import (
	"encoding/hex"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// The specs of every element Gomcat reads: the single place where an
// attribute, its aliases, default, unit, range and meaning are written.
// To add an attribute: add the model field (model.go), then one attrSpec
// line to its element here; parse, defaults, configtest and docs/config.md
// (go generate ./conf) follow. Rules between attributes go to validate.go.

func itoa(n int) string { return strconv.Itoa(n) }

func msText(d time.Duration) string { return strconv.FormatInt(int64(d/time.Millisecond), 10) }

var noop = field{set: func(*parser, *elem, attr) {}}

const keystore = "Java keystores are not supported; use certificateFile and certificateKeyFile (PEM)"

var serverSpec = &spec[Server]{
	element: "Server",
	doc:     "The root: the shutdown port and the node's log file; holds one <Service> and the admin <Listener>.",
	attrs: []attrSpec[Server]{
		{name: "port", def: itoa(DefaultShutdownPort), rng: portSpan(-1, "-1 disables, 0..65535"),
			doc: "shutdown port (-1 disables it)", ptr: func(s *Server) any { return &s.Port },
			label: "shutdown port", show: func(s *Server) string {
				if s.Port == -1 {
					return "disabled"
				}
				return net.JoinHostPort(s.Address, strconv.Itoa(s.Port))
			}},
		{name: "shutdown", def: DefaultShutdownCommand, doc: "the command word that stops the node",
			ptr: func(s *Server) any { return &s.Shutdown }, label: "shutdown command",
			show: func(s *Server) string {
				if s.Shutdown != DefaultShutdownCommand {
					return "custom (not shown)"
				}
				return "default"
			}},
		{name: "logFile", doc: "log file instead of stderr, relative to the home; reopened on SIGHUP (Gomcat)",
			ptr: func(s *Server) any { return &s.LogFile }, label: "log file", hide: func(s *Server) bool { return s.LogFile == "" }},
		{name: "address", def: DefaultShutdownAddress, doc: "where the shutdown port listens (Tomcat: localhost)",
			ptr: func(s *Server) any { return &s.Address }, noShow: true},
		{name: "portOffset", def: "", defDoc: "0", doc: "only 0 is accepted (write the ports themselves)", noShow: true,
			set: func(*Server) field {
				return field{set: func(p *parser, e *elem, a attr) {
					if strings.TrimSpace(a.value) != "0" {
						p.errorf(a.pos, e.name, a.name, "not supported (write the ports themselves)")
					}
				}}
			}},
	},
	inert: inert{"utilityThreads": "", "utilityThreadsAsDaemon": "", "periodicEventDelay": ""},
}

var adminSpec = &spec[Admin]{
	element: "Listener", title: "Listener (org.gomcat.AdminListener)",
	doc: "The admin listener under <Server>: /metrics, /livez, /readyz, the status page, the session manager (Gomcat). Without the element: none.",
	attrs: []attrSpec[Admin]{
		{name: "address", def: "127.0.0.1", doc: "listen address", ptr: func(a *Admin) any { return &a.Address }, noShow: true},
		{name: "port", def: "0", rng: portSpan(-1, "-1 disables, 0..65535"), doc: "listen port (0 picks one, -1 disables)",
			ptr: func(a *Admin) any { return &a.Port }, noShow: true},
		{name: "tokenFile", doc: "file with the bearer token every request but /livez and /readyz presents; required off loopback",
			ptr: func(a *Admin) any { return &a.TokenFile }, noShow: true},
	},
	inert: inert{},
}

var serviceSpec = &spec[Service]{
	element: "Service",
	doc:     "Groups the connectors in front of one <Engine>. Gomcat runs one.",
	attrs: []attrSpec[Service]{
		{name: "name", def: DefaultServiceName, doc: "the service's name", ptr: func(s *Service) any { return &s.Name }, noShow: true},
	},
	inert: inert{"gracefulStopAwaitMillis": ""},
}

var connectorSpec = &spec[Connector]{
	element: "Connector", title: "Connector (HTTP/1.1)",
	doc: "An HTTP/1.1 listener (HTTP/2 over TLS). protocol=\"HTTP/1.1\" or an Http11*Protocol class.",
	attrs: []attrSpec[Connector]{
		{name: "port", def: itoa(DefaultHTTPPort), rng: portSpan(0, "0 picks a free port, 1..65535"), doc: "TCP port (0 picks one)",
			ptr: func(c *Connector) any { return &c.Port }, noShow: true},
		{name: "protocol", defDoc: "HTTP/1.1", doc: "HTTP/1.1 (AJP/1.3 selects the AJP connector)", set: func(*Connector) field { return noop }, noShow: true},
		{name: "address", doc: "listen address; empty: all interfaces", ptr: func(c *Connector) any { return &c.Address },
			show: func(c *Connector) string { return orText(c.Address, "all interfaces") }},
		{name: "advertise", doc: "IP or IP:PORT told to balancers when not the listen address (NAT, containers) (Gomcat)",
			ptr: func(c *Connector) any { return &c.Advertise }, hide: func(c *Connector) bool { return c.Advertise == "" }},
		{name: "connectionTimeout", unit: "ms", def: "20000", doc: "per-read timeout while a request is read",
			ptr: func(c *Connector) any { return &c.ConnectionTimeout }},
		{name: "keepAliveTimeout", unit: "ms", defDoc: "connectionTimeout", doc: "idle time between requests on a connection",
			ptr: func(c *Connector) any { return &c.KeepAliveTimeout }},
		{name: "maxThreads", def: "200", rng: atLeastSpan(1), doc: "requests served at once", ptr: func(c *Connector) any { return &c.MaxThreads }},
		{name: "maxHttpHeaderSize", unit: "bytes", def: "8192", rng: atLeastSpan(1024), doc: "largest request head",
			ptr: func(c *Connector) any { return &c.MaxHTTPHeaderSize }},
		{name: "maxHeaderCount", def: "100", rng: atLeastSpan(-1), doc: "request headers allowed (-1: no limit)",
			ptr:  func(c *Connector) any { return &c.MaxHeaderCount },
			show: func(c *Connector) string { return capped(c.MaxHeaderCount, "", "no limit") }},
		{name: "maxConnections", def: "8192", rng: atLeastSpan(-1), doc: "open connections allowed (-1: no limit)",
			ptr:  func(c *Connector) any { return &c.MaxConnections },
			show: func(c *Connector) string { return capped(c.MaxConnections, "", "no limit") }},
		{name: "disableUploadTimeout", def: "true", doc: "false: connectionUploadTimeout bounds each body read",
			ptr: func(c *Connector) any { return &c.DisableUploadTimeout }},
		{name: "connectionUploadTimeout", unit: "ms", def: "300000", doc: "per-read timeout of a request body with disableUploadTimeout=\"false\"",
			ptr: func(c *Connector) any { return &c.ConnectionUploadTimeout }, hide: func(c *Connector) bool { return c.DisableUploadTimeout }},
		{name: "minUploadRate", unit: "bytes/s", def: "240", rng: atLeastSpan(-1), doc: "slowest body accepted after a 5 s grace (-1: no minimum; Gomcat)",
			ptr:  func(c *Connector) any { return &c.MinUploadRate },
			show: func(c *Connector) string { return capped(c.MinUploadRate, " bytes/s", "no minimum") }},
		{name: "scheme", def: "http", defDoc: "http (https with SSLEnabled)", doc: "http or https", ptr: func(c *Connector) any { return &c.Scheme }},
		{name: "secure", defDoc: "SSLEnabled", doc: "requests count as secure (cookies)", ptr: func(c *Connector) any { return &c.Secure }},
		{name: "SSLEnabled", def: "false", doc: "serve TLS", ptr: func(c *Connector) any { return &c.SSLEnabled }},
		{name: "certificateFile", aliases: []string{"SSLCertificateFile"}, doc: "PEM certificate chain (TLS)",
			ptr: func(c *Connector) any { return &c.CertificateFile }, hide: func(c *Connector) bool { return !c.SSLEnabled }},
		{name: "certificateKeyFile", aliases: []string{"SSLCertificateKeyFile"}, doc: "PEM private key (TLS)",
			ptr: func(c *Connector) any { return &c.CertificateKeyFile }, hide: func(c *Connector) bool { return !c.SSLEnabled }},
	},
	inert: inert{
		"redirectPort":      "Gomcat does not redirect to a TLS port",
		"maxParameterCount": "", "URIEncoding": "Gomcat decodes URIs as UTF-8", "useBodyEncodingForURI": "",
		"acceptCount": "", "enableLookups": "", "compression": "", "compressibleMimeType": "",
		"maxPostSize": "", "maxSavePostSize": "", "proxyName": "", "proxyPort": "", "executor": "",
		"minSpareThreads": "", "server": "", "xpoweredBy": "", "allowTrace": "",
		"maxKeepAliveRequests": "",
		"relaxedQueryChars":    "", "relaxedPathChars": "", "maxSwallowSize": "", "tcpNoDelay": "",
		"parseBodyMethods": "", "bindOnInit": "", "maxSpareThreads": "", "minProcessors": "", "maxProcessors": "", "debug": "", "clientAuth": "client certificates are not supported",
		"sslProtocol": "", "keystoreFile": keystore, "keystorePass": keystore, "keystoreType": keystore,
		"SSLPassword": "encrypted private keys are not supported",
	},
}

var sslHostConfigSpec = &spec[Connector]{
	element: "SSLHostConfig", doc: "Inside an HTTP <Connector>: holds its <Certificate>; its own attributes are ignored.",
	inert: inert{"hostName": "one certificate per connector in Gomcat",
		"protocols": "", "ciphers": "", "honorCipherOrder": "", "certificateVerification": "client certificates are not supported",
		"sslProtocol": ""},
}

var certificateSpec = &spec[Connector]{
	element: "Certificate", doc: "Inside <SSLHostConfig>: the connector's certificate (PEM files).",
	attrs: []attrSpec[Connector]{
		{name: "certificateFile", doc: "PEM certificate chain", ptr: func(c *Connector) any { return &c.CertificateFile }},
		{name: "certificateKeyFile", doc: "PEM private key", ptr: func(c *Connector) any { return &c.CertificateKeyFile }},
	},
	inert: inert{"certificateKeystoreFile": keystore, "certificateKeystorePassword": keystore,
		"certificateKeyAlias": keystore, "certificateKeystoreType": keystore,
		"certificateChainFile": "put the chain in certificateFile", "type": "",
		"certificateKeyPassword": "encrypted private keys are not supported"},
}

var ajpSpec = &spec[AJPConnector]{
	element: "Connector", title: "Connector (AJP/1.3)",
	doc: "protocol=\"AJP/1.3\" (or an org.apache.coyote.ajp class): what httpd's mod_jk and mod_proxy_ajp forward to. Defaults as Tomcat's since CVE-2020-1938.",
	attrs: []attrSpec[AJPConnector]{
		{name: "port", def: itoa(DefaultAJPPort), rng: portSpan(0, "0 picks a free port, 1..65535"), doc: "TCP port (0 picks one)",
			ptr: func(c *AJPConnector) any { return &c.Port }, noShow: true},
		{name: "address", def: DefaultAJPAddress, doc: "listen address (Tomcat: localhost)", ptr: func(c *AJPConnector) any { return &c.Address },
			show: func(c *AJPConnector) string { return orText(c.Address, "all interfaces") }},
		{name: "protocol", defDoc: "AJP/1.3", doc: "AJP/1.3", set: func(*AJPConnector) field { return noop }, noShow: true},
		{name: "secret", aliases: []string{"requiredSecret", "request.secret"}, doc: "secret every forward request carries (mod_jk worker.NAME.secret)",
			ptr: func(c *AJPConnector) any { return &c.Secret }, show: func(c *AJPConnector) string {
				if c.Secret != "" {
					return "set (not shown)"
				}
				return "(none)"
			}},
		{name: "secretRequired", def: "true", doc: "refuse to start without a secret", ptr: func(c *AJPConnector) any { return &c.SecretRequired }},
		{name: "allowedRequestAttributesPattern", doc: "request attributes AJP does not define that are admitted (whole-name regular expression)",
			ptr:  func(c *AJPConnector) any { return &c.AllowedRequestAttributesPattern },
			show: func(c *AJPConnector) string { return orText(c.AllowedRequestAttributesPattern, "(none)") }},
		{name: "packetSize", unit: "bytes", def: itoa(DefaultAJPPacketSize),
			rng: &span{min: 8192, max: 65536, msg: "%d is out of range (8192..65536, as mod_jk's max_packet_size)"},
			doc: "largest AJP packet; mod_jk's max_packet_size must match", ptr: func(c *AJPConnector) any { return &c.PacketSize }},
		{name: "maxThreads", aliases: []string{"maxProcessors"}, def: "200", rng: atLeastSpan(1), doc: "requests served at once",
			ptr: func(c *AJPConnector) any { return &c.MaxThreads }},
		{name: "maxConnections", def: itoa(DefaultAJPMaxConnections), rng: atLeastSpan(1), doc: "open connections allowed",
			ptr: func(c *AJPConnector) any { return &c.MaxConnections }},
		{name: "connectionTimeout", unit: "ms", def: msText(DefaultAJPConnectionTimeout), doc: "per-read timeout while a request is served (Tomcat: none)",
			ptr: func(c *AJPConnector) any { return &c.ConnectionTimeout }},
		{name: "keepAliveTimeout", unit: "ms", defDoc: "connectionTimeout", doc: "idle time between requests",
			ptr: func(c *AJPConnector) any { return &c.KeepAliveTimeout }},
	},
	inert: inert{
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
	},
}

var engineSpec = &spec[Engine]{
	element: "Engine",
	doc:     "The request engine: its hosts, the node's jvmRoute and an optional <Cluster>.",
	attrs: []attrSpec[Engine]{
		{name: "name", def: DefaultEngineName, doc: "engine name (conf/<name>/<host>/ holds context descriptors)", ptr: func(e *Engine) any { return &e.Name }, noShow: true},
		{name: "defaultHost", def: DefaultHostName, doc: "the <Host> serving requests for unknown host names", ptr: func(e *Engine) any { return &e.DefaultHost }},
		{name: "jvmRoute", doc: "this member's name, the suffix of its session ids; required with a <Cluster> (GOMCAT_JVM_ROUTE)",
			ptr: func(e *Engine) any { return &e.JvmRoute }, show: func(e *Engine) string { return orText(e.JvmRoute, "(none)") }},
	},
	inert: inert{"backgroundProcessorDelay": "", "startStopThreads": ""},
}

var hostSpec = &spec[Host]{
	element: "Host",
	doc:     "A virtual host: its appBase, contexts and an optional <Cluster>.",
	attrs: []attrSpec[Host]{
		{name: "name", def: DefaultHostName, doc: "host name", ptr: func(h *Host) any { return &h.Name }, noShow: true},
		{name: "appBase", def: DefaultAppBase, doc: "where bundles and docBases live (relative to the home)", ptr: func(h *Host) any { return &h.AppBase }},
		{name: "autoDeploy", def: "true", doc: "watch appBase while running", ptr: func(h *Host) any { return &h.AutoDeploy }},
		{name: "unpackWARs", def: "true", doc: "unpack bundles into directories", ptr: func(h *Host) any { return &h.UnpackWARs }},
	},
	inert: inert{"xmlBase": "", "createDirs": "", "deployOnStartup": "", "deployXML": "", "copyXML": "",
		"workDir": "", "deployIgnore": "", "errorReportValveClass": "", "startStopThreads": "",
		"backgroundProcessorDelay": "", "failCtxIfServletStartFails": "", "xmlValidation": "",
		"xmlNamespaceAware": "", "legacyAppBase": ""},
}

var contextSpec = &spec[Context]{
	element: "Context",
	doc:     "A web application, in server.xml or as a descriptor conf/<Engine>/<Host>/<name>.xml.",
	attrs: []attrSpec[Context]{
		{name: "path", defDoc: "from the descriptor's file name", doc: "context path (\"\" or \"/\" for ROOT); required in server.xml",
			ptr: func(c *Context) any { return &c.Path }, noShow: true},
		{name: "docBase", defDoc: "from the path (ROOT, a, a#b)", doc: "directory or bundle under the Host's appBase", ptr: func(c *Context) any { return &c.DocBase }},
		{name: "distributable", def: "false", doc: "sessions go to the cluster's Manager (DeltaManager or BackupManager), or to the context's own <Manager>", ptr: func(c *Context) any { return &c.Distributable }},
		{name: "sessionTimeout", unit: "min", def: "30", doc: "idle time before a session expires (<= 0: never)",
			ptr: func(c *Context) any { return &c.SessionTimeout }, show: func(c *Context) string {
				if c.SessionTimeout > 0 {
					return fmt.Sprintf("%d min", c.SessionTimeout/time.Minute)
				}
				return "never expires"
			}},
		{name: "app", doc: "the Go application registered with the node that serves it (Gomcat); empty: static files",
			ptr: func(c *Context) any { return &c.App }, show: func(c *Context) string { return orText(c.App, "(none: static files)") },
			extra: func(c *Context, d *describer, n int) { d.kv(n, "source", c.Pos) }},
	},
	inert: inert{"reloadable": "", "crossContext": "", "cookies": "", "privileged": "", "useHttpOnly": "",
		"sessionCookieName": "", "sessionCookiePath": "", "sessionCookieDomain": "",
		"antiResourceLocking": "", "swallowOutput": "", "override": "", "backgroundProcessorDelay": "",
		"allowCasualMultipartParsing": "", "mapperContextRootRedirectEnabled": "", "useNaming": "",
		"workDir": "", "unpackWAR": "", "logEffectiveWebXml": "", "parallelAnnotationScanning": ""},
}

var redisManagerSpec = &spec[RedisManager]{
	element: "Manager", title: "Manager (gomcat.RedisManager)",
	doc: "Inside a <Context> (distributable or not, with or without a <Cluster>): the context's sessions live in Redis or Valkey, one hash per session (Gomcat). Exactly one of address, sentinel and cluster.",
	attrs: []attrSpec[RedisManager]{
		{name: "address", doc: "redis:// or rediss:// URL (user, password and database may be in it)",
			ptr: func(m *RedisManager) any { return &m.Address }, hide: func(m *RedisManager) bool { return m.Address == "" },
			show: func(m *RedisManager) string { return redactURL(m.Address) }},
		{name: "sentinel", doc: "comma list of Redis Sentinels (host:port); the manager follows failovers",
			set: func(m *RedisManager) field { return fList(&m.Sentinel) }, hide: func(m *RedisManager) bool { return len(m.Sentinel) == 0 },
			show: func(m *RedisManager) string { return strings.Join(m.Sentinel, ", ") + " (master " + m.MasterName + ")" }},
		{name: "masterName", doc: "the master the Sentinels monitor (with sentinel)", ptr: func(m *RedisManager) any { return &m.MasterName }, noShow: true},
		{name: "cluster", doc: "comma list of Redis Cluster seeds (host:port)",
			set: func(m *RedisManager) field { return fList(&m.Cluster) }, hide: func(m *RedisManager) bool { return len(m.Cluster) == 0 },
			show: func(m *RedisManager) string { return strings.Join(m.Cluster, ", ") }},
		{name: "keyPrefix", def: "gomcat", doc: "start of every key: <prefix>:sessions:<id>", ptr: func(m *RedisManager) any { return &m.KeyPrefix }},
		{name: "database", def: "-1", rng: atLeastSpan(-1), doc: "logical database (-1: the URL's, else 0; a Redis Cluster has only 0)",
			ptr: func(m *RedisManager) any { return &m.Database }, show: func(m *RedisManager) string { return capped(m.Database, "", "from the address") }},
		{name: "tls", def: "false", doc: "dial with TLS (rediss:// implies it)", ptr: func(m *RedisManager) any { return &m.TLS }},
		{name: "tlsCAFile", doc: "PEM file of the CA certificates that sign the server's, relative to the home (implies tls; default: the system's roots)",
			ptr: func(m *RedisManager) any { return &m.TLSCAFile }, show: func(m *RedisManager) string { return orText(m.TLSCAFile, "(system roots)") }},
		{name: "username", doc: "ACL user", ptr: func(m *RedisManager) any { return &m.Username }, show: func(m *RedisManager) string { return orText(m.Username, "(none)") }},
		{name: "passwordFile", doc: "file holding the password (one line), relative to the home", ptr: func(m *RedisManager) any { return &m.PasswordFile },
			show: func(m *RedisManager) string { return orText(m.PasswordFile, "(none)") }},
		{name: "flushMode", def: "onRequestEnd", doc: "onRequestEnd: one write when the request ends; immediate: also each change as it happens",
			ptr: func(m *RedisManager) any { return &m.FlushMode }, set: func(m *RedisManager) field { return fOneOf(&m.FlushMode, "onRequestEnd", "immediate") }},
		{name: "writeMode", def: "changedAttributes", doc: "changedAttributes: only the changed fields; whole: the whole session on every write",
			ptr: func(m *RedisManager) any { return &m.WriteMode }, set: func(m *RedisManager) field { return fOneOf(&m.WriteMode, "changedAttributes", "whole") }},
		{name: "sticky", def: "false", doc: "the balancer is sticky: trust the near-cache within the touch window (0 round trips for a read); false: every request validates its copy",
			ptr: func(m *RedisManager) any { return &m.Sticky }},
		{name: "timeout", unit: "ms", def: "1000", rng: positiveSpan("ms"), doc: "bound of each Redis operation; a request whose session cannot be read or written in time gets 503",
			ptr: func(m *RedisManager) any { return &m.Timeout }},
		{name: "maxSessionSize", unit: "bytes", def: "0", rng: atLeastSpan(0), doc: "largest session (attribute bytes); 0: no limit",
			ptr: func(m *RedisManager) any { return &m.MaxSessionSize }, show: func(m *RedisManager) string {
				if m.MaxSessionSize <= 0 {
					return "no limit"
				}
				return bytesStr(int64(m.MaxSessionSize))
			}},
		{name: "configureNotifications", def: "true", doc: "enable the keyspace notifications it needs (notify-keyspace-events) with CONFIG SET at start",
			ptr: func(m *RedisManager) any { return &m.ConfigureNotifications }},
	},
	inert: inert{"maxInactiveInterval": "set sessionTimeout on the Context", "pathname": "", "name": ""},
}

// redactURL hides the password of a redis:// URL.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(not a URL)"
	}
	return u.Redacted()
}

var clusterSpec = &spec[Cluster]{
	element: "Cluster",
	doc:     "SimpleTcpCluster (Tomcat 6+ or 5.5 names). A bare <Cluster/> expands to Tomcat's modern defaults. 5.5's manager.*, service.*, receiver.*, sender.* and valve.* attributes set the element they name.",
	attrs: []attrSpec[Cluster]{
		{name: "channelSendOptions", def: itoa(DefaultSendOptions), defDoc: "8 (async)",
			doc: "send options of session messages: 8 async, 2 use_ack, 6 use_ack,sync (numbers or names)",
			ptr: func(c *Cluster) any { return &c.ChannelSendOptions }, set: func(c *Cluster) field { return fSendOptions(&c.ChannelSendOptions) },
			show: func(c *Cluster) string { return showSendOptions(c.ChannelSendOptions) }},
		{name: "channelStartOptions", def: itoa(DefaultStartOptions), rng: rangeSpan(1, 15, "1..15; 15 starts everything"),
			doc: "channel services started: 1 receiver, 2 sender, 4 membership receive, 8 membership send",
			ptr: func(c *Cluster) any { return &c.ChannelStartOptions }},
		{name: "key", doc: "cluster key, 32, 48 or 64 hex digits: seals heartbeats, frames and bundles (Gomcat)",
			set: func(c *Cluster) field {
				return field{set: func(p *parser, e *elem, a attr) {
					k, err := ParseKey(a.value)
					if err != nil {
						p.errorf(a.pos, e.name, a.name, "%v", err)
						return
					}
					c.Key = k
				}}
			}, show: func(c *Cluster) string {
				switch {
				case c.Key != nil:
					return fmt.Sprintf("set (%d bytes, AES-GCM; not shown)", len(c.Key))
				case c.KeyFile != "":
					return "from keyFile " + c.KeyFile
				}
				return "none (cluster traffic is not sealed)"
			}},
		{name: "keyFile", doc: "key file, one hex key per line (the first seals, all open), reloaded on change and SIGHUP (Gomcat)",
			ptr: func(c *Cluster) any { return &c.KeyFile }, noShow: true},
		{name: "insecure", def: "false", doc: "run off loopback without a key (warned at every start; Gomcat)",
			ptr: func(c *Cluster) any { return &c.Insecure }, hide: func(c *Cluster) bool { return !c.Insecure },
			show: func(*Cluster) string { return "true (may run off loopback without a key)" }},
		{name: "managerClassName", defDoc: "DeltaManager", doc: "Tomcat 5.5: the manager class", noShow: true,
			set: func(c *Cluster) field {
				return field{set: func(p *parser, e *elem, a attr) {
					if short := p.managerClass(e, a.pos, a.name, a.value); short != "" {
						c.Manager.ClassName = short
					}
				}}
			}},
		{name: "expireSessionsOnShutdown", defDoc: "the Manager's", doc: "Tomcat 5.5: the Manager's expireSessionsOnShutdown", noShow: true,
			ptr: func(c *Cluster) any { return &c.Manager.ExpireSessionsOnShutdown }},
		{name: "notifyListenersOnReplication", defDoc: "the Manager's", doc: "Tomcat 5.5: the Manager's notifyListenersOnReplication", noShow: true,
			ptr: func(c *Cluster) any { return &c.Manager.NotifyListenersOnReplication }},
	},
	inert: inert{"clusterName": "", "heartbeatBackgroundEnabled": "", "notifyLifecycleListenerOnFailure": "",
		"name": "", "debug": "", "printToScreen": "", "doClusterLog": "", "clusterLogName": "", "protocol": "",
		"useDirtyFlag": "Gomcat records every change made through Session.Set"},
}

// fSendOptions reads send options as numbers or names; 0 is ignored, as in Tomcat.
func fSendOptions(dst *int) field {
	return field{set: func(p *parser, e *elem, a attr) {
		n, err := ParseSendOptions(a.value)
		switch {
		case err != nil:
			p.errorf(a.pos, e.name, a.name, "%v", err)
		case n == 0:
			p.warnf(a.pos, e.name, a.name, "0 ignored, as in Tomcat (keeps %d)", *dst)
		default:
			*dst = n
		}
	}}
}

func showSendOptions(n int) string { return fmt.Sprintf("%d (%s)", n, FormatSendOptions(n)) }

func isDelta(m *Manager) bool  { return m.ClassName != BackupManager }
func isBackup(m *Manager) bool { return m.ClassName == BackupManager }

// deltamgr's own bound on a state-transfer chunk (its decoder's array limit).
const maxSendAllSessionsSize = 1 << 20

var managerSpec = &spec[Manager]{
	element: "Manager",
	doc:     "DeltaManager (every member holds every session) or BackupManager (a primary and `backups` backups per session, the others know only the owners): the template of every distributable context's manager (inside <Cluster>; 5.5: manager.* on the Cluster), or, inside a distributable <Context>, that context's own manager, which replaces the template for it (as in Tomcat; its attributes start from these defaults). An attribute only the other class reads is ignored with a warning.",
	attrs: []attrSpec[Manager]{
		{name: "stateTransferTimeout", hide: isBackup, unit: "s", def: "60", doc: "how long a starting node waits for the oldest member's sessions (< 0 forever, 0 not at all)",
			ptr: func(m *Manager) any { return &m.StateTransferTimeout }, show: func(m *Manager) string { return secs(m.StateTransferTimeout, "wait forever") }},
		{name: "stateTransferSeniorTimeout", hide: isBackup, unit: "s", def: "10", rng: rangeSpan(0, noMax, "0 for no per-senior limit, or seconds"),
			doc: "how long one senior may stay silent before the next is asked (0: no limit; Gomcat)",
			ptr: func(m *Manager) any { return &m.StateTransferSeniorTimeout }, show: func(m *Manager) string { return secs(m.StateTransferSeniorTimeout, "no per-senior limit") }},
		{name: "replicatePrincipal", hide: isBackup, def: "false", doc: "replicate a session's principal (Gomcat)", ptr: func(m *Manager) any { return &m.ReplicatePrincipal }},
		{name: "sendAllSessions", hide: isBackup, def: "true", doc: "send the state in one message; false: batches of sendAllSessionsSize", ptr: func(m *Manager) any { return &m.SendAllSessions }},
		{name: "sendAllSessionsSize", hide: isBackup, unit: "sessions", def: "1000",
			rng: &span{min: 1, max: maxSendAllSessionsSize, msg: "%d is not allowed (a positive number of sessions per message)",
				over: fmt.Sprintf("%%d is not allowed (at most %d sessions per message)", maxSendAllSessionsSize)},
			doc: "sessions per state-transfer message", ptr: func(m *Manager) any { return &m.SendAllSessionsSize }},
		{name: "sendAllSessionsWaitTime", hide: isBackup, unit: "ms", def: "2000", rng: rangeSpan(0, noMax, "0 or more milliseconds"),
			doc: "accepted; Gomcat does not pause between batches", ptr: func(m *Manager) any { return &m.SendAllSessionsWaitTime },
			show: func(m *Manager) string { return ms(m.SendAllSessionsWaitTime) + " (accepted; Gomcat does not pause)" }},
		{name: "stateTimestampDrop", hide: isBackup, def: "true", doc: "drop queued messages older than the received state", ptr: func(m *Manager) any { return &m.StateTimestampDrop }},
		{name: "expireSessionsOnShutdown", hide: isBackup, def: "false", doc: "expire sessions on stop and tell the cluster", ptr: func(m *Manager) any { return &m.ExpireSessionsOnShutdown }},
		{name: "notifyListenersOnReplication", hide: isBackup, def: "true", doc: "fire attribute listeners for replicated changes", ptr: func(m *Manager) any { return &m.NotifyListenersOnReplication }},
		{name: "notifySessionListenersOnReplication", hide: isBackup, def: "true", doc: "fire created/destroyed listeners for replicated sessions",
			ptr: func(m *Manager) any { return &m.NotifySessionListenersOnReplication }},
		{name: "maxActiveSessions", def: "-1", doc: "sessions allowed (DeltaManager: replicated ones included; BackupManager: primaries only; -1: no limit)", ptr: func(m *Manager) any { return &m.MaxActiveSessions }},
		{name: "maxSessionSize", unit: "bytes", def: itoa(DefaultMaxSessionSize), rng: atLeastSpan(1024), doc: "largest encoded session (Gomcat)",
			ptr: func(m *Manager) any { return &m.MaxSessionSize }, show: func(m *Manager) string { return bytesStr(int64(m.MaxSessionSize)) }},
		{name: "recordAllActions", hide: isBackup, def: "false", doc: "keep every action of a request, not the last per attribute", ptr: func(m *Manager) any { return &m.RecordAllActions }},
		{name: "processExpiresFrequency", unit: "ticks of 1 s", def: "6", rng: atLeastSpan(1), doc: "idle-session sweep every N background ticks",
			ptr: func(m *Manager) any { return &m.ProcessExpiresFrequency }},
		{name: "mapSendOptions", hide: isDelta, def: "6", defDoc: "6 (use_ack,sync)", doc: "BackupManager: send options of a request's changes to the backups: 6 sync, 2 use_ack, 8 async",
			ptr: func(m *Manager) any { return &m.MapSendOptions }, set: func(m *Manager) field { return fSendOptions(&m.MapSendOptions) },
			show: func(m *Manager) string { return showSendOptions(m.MapSendOptions) }},
		{name: "rpcTimeout", hide: isDelta, unit: "ms", def: "15000", rng: positiveSpan("ms"), only: isBackup,
			doc: "BackupManager: fetching a session from its holder, the map exchange at start", ptr: func(m *Manager) any { return &m.RPCTimeout }},
		{name: "accessTimeout", hide: isDelta, unit: "ms", def: "5000", rng: positiveSpan("ms"), only: isBackup,
			doc: "BackupManager: wait for the other members' maps once the first answered", ptr: func(m *Manager) any { return &m.AccessTimeout }},
		{name: "terminateOnStartFailure", hide: isDelta, def: "false", doc: "BackupManager: fail the context's start when a member's map did not come",
			ptr: func(m *Manager) any { return &m.TerminateOnStartFailure }},
		{name: "backups", hide: isDelta, def: "1", rng: rangeSpan(1, 8, "1..8 members holding a copy"), only: isBackup,
			doc: "BackupManager: members holding a full copy of each session (Gomcat; Tomcat: 1)", ptr: func(m *Manager) any { return &m.Backups }},
		{name: "rebalanceRate", hide: isDelta, unit: "sessions/s", def: "200", rng: atLeastSpan(0), only: isBackup,
			doc: "BackupManager: sessions per second moved to a joined member's backup role (0: off; Gomcat)", ptr: func(m *Manager) any { return &m.RebalanceRate }},
	},
	inert: inert{"name": "", "notifyContainerListenersOnReplication": "", "enableStatistics": "",
		"sessionAttributeNameFilter": "", "sessionAttributeValueClassNameFilter": "",
		"warnOnSessionAttributeFilterFailure": "", "secureRandomClass": "session ids come from crypto/rand",
		"secureRandomProvider": "session ids come from crypto/rand", "secureRandomAlgorithm": "session ids come from crypto/rand",
		"pathname": "", "maxInactiveInterval": "set sessionTimeout on the Context",
		"persistAuthentication": "", "updateActiveInterval": "", "expireTolerance": "", "sendClusterDomainOnly": "",
		"stateTransfered": "", "useDirtyFlag": "Gomcat records every change made through Session.Set"},
}

func mcast(m *Membership) bool    { return m.ClassName == McastService }
func notMcast(m *Membership) bool { return m.ClassName != McastService }
func cloud(m *Membership) bool    { return m.ClassName == CloudMembershipService }
func notCloud(m *Membership) bool { return m.ClassName != CloudMembershipService }
func probed(m *Membership) bool   { return m.ClassName != McastService } // static or cloud

// Cloud membership providers: Tomcat's names, and the value they mean.
var membershipProviders = map[string]string{
	"kubernetes": "kubernetes", "dns": "dns",
	"org.apache.catalina.tribes.membership.cloud.KubernetesMembershipProvider": "kubernetes",
	"org.apache.catalina.tribes.membership.cloud.DNSMembershipProvider":        "dns",
}

// fProvider reads membershipProviderClassName: kubernetes, dns, Tomcat's
// provider class names, or dns:NAME[@IP:PORT].
func fProvider(dst *string) field {
	return field{set: func(p *parser, e *elem, a attr) {
		v := strings.TrimSpace(a.value)
		if short, ok := membershipProviders[v]; ok {
			*dst = short
			return
		}
		if err := CheckMembershipProvider(v); err != nil {
			p.errorf(a.pos, e.name, a.name, "%v", err)
			return
		}
		*dst = v
	}}
}

// CheckMembershipProvider checks a cloud membership provider as --membership
// and membershipProviderClassName take it: "kubernetes", "dns", "dns:NAME"
// or "dns:NAME@IP:PORT".
func CheckMembershipProvider(v string) error {
	kind, arg, hasArg := strings.Cut(v, ":")
	switch {
	case kind == "kubernetes" && !hasArg, kind == "dns" && !hasArg:
		return nil
	case kind == "dns":
		name, server, hasServer := strings.Cut(arg, "@")
		if name == "" || strings.ContainsAny(name, " \t/") {
			return fmt.Errorf("%q: want dns:NAME with a DNS name", v)
		}
		if hasServer {
			if ap, err := netip.ParseAddrPort(server); err != nil || ap.Port() == 0 {
				return fmt.Errorf("%q: DNS server %q: want IP:PORT", v, server)
			}
		}
		return nil
	}
	return fmt.Errorf("%q is not a membership provider (kubernetes, dns, dns:NAME, dns:NAME@IP:PORT or Tomcat's KubernetesMembershipProvider / DNSMembershipProvider)", v)
}
func static(m *Membership) bool { return m.ClassName == StaticMembershipService }

var membershipSpec = &spec[Membership]{
	element: "Membership",
	doc:     "McastService (multicast heartbeats), StaticMembershipService (a fixed list probed over TCP) or CloudMembershipService (a list from DNS or the Kubernetes API, probed the same way); 5.5: service.* on the Cluster.",
	attrs: []attrSpec[Membership]{
		{name: "address", aliases: []string{"mcastAddr"}, def: DefaultMcastAddress, doc: "multicast group (IPv4)",
			ptr: func(m *Membership) any { return &m.Address }, hide: notMcast},
		{name: "port", aliases: []string{"mcastPort"}, def: itoa(DefaultMcastPort), rng: portSpan(1, "1..65535"), only: mcast,
			doc: "multicast port", ptr: func(m *Membership) any { return &m.Port }, hide: notMcast},
		{name: "frequency", aliases: []string{"mcastFrequency"}, unit: "ms", def: msText(DefaultMcastFrequency), rng: positiveSpan("ms"),
			doc: "heartbeat interval", ptr: func(m *Membership) any { return &m.Frequency }, hide: notMcast},
		{name: "dropTime", aliases: []string{"mcastDropTime"}, unit: "ms", def: msText(DefaultMcastDropTime), rng: positiveSpan("ms"), only: mcast,
			doc: "silence after which a member expires", ptr: func(m *Membership) any { return &m.DropTime }, hide: notMcast},
		{name: "bind", aliases: []string{"mcastBindAddress"}, doc: "address multicast is bound to; empty: the default interface",
			ptr: func(m *Membership) any { return &m.Bind }, hide: notMcast, show: func(m *Membership) string { return orText(m.Bind, "(default interface)") }},
		{name: "ttl", aliases: []string{"mcastTTL"}, def: "-1", rng: rangeSpan(-1, 255, "-1 for the system default, 0..255"), only: mcast,
			doc: "heartbeat TTL (-1: the system's)", ptr: func(m *Membership) any { return &m.TTL }, hide: notMcast,
			show: func(m *Membership) string {
				if m.TTL == -1 {
					return "-1 (system default)"
				}
				return strconv.Itoa(m.TTL)
			}},
		{name: "soTimeout", aliases: []string{"mcastSoTimeout"}, unit: "ms", defDoc: "frequency", rng: positiveSpan("ms"), only: mcast,
			doc: "socket read timeout (<= 0: frequency)", ptr: func(m *Membership) any { return &m.SoTimeout }, hide: notMcast},
		{name: "localLoopbackDisabled", def: "false", doc: "disable multicast loop (nodes on one host then miss each other)",
			ptr: func(m *Membership) any { return &m.LocalLoopbackDisabled }, hide: notMcast},
		{name: "recoveryEnabled", def: "true", doc: "rebuild the socket after errors", ptr: func(m *Membership) any { return &m.RecoveryEnabled },
			hide: notMcast, label: "recovery", show: func(m *Membership) string {
				return fmt.Sprintf("%t (after %d errors, every %s)", m.RecoveryEnabled, m.RecoveryCounter, ms(m.RecoverySleepTime))
			}},
		{name: "recoveryCounter", def: "10", rng: atLeastSpan(1), only: func(m *Membership) bool { return mcast(m) && m.RecoveryEnabled },
			doc: "errors before recovery", ptr: func(m *Membership) any { return &m.RecoveryCounter }, noShow: true},
		{name: "recoverySleepTime", unit: "ms", def: "5000", rng: positiveSpan("ms"), only: func(m *Membership) bool { return mcast(m) && m.RecoveryEnabled },
			doc: "between recovery attempts", ptr: func(m *Membership) any { return &m.RecoverySleepTime }, noShow: true},
		{name: "connectTimeout", unit: "ms", def: "500", rng: positiveSpan("ms"), only: probed,
			doc: "static and cloud membership: TCP probe timeout (cloud: 1000 ms by default, as Tomcat)", ptr: func(m *Membership) any { return &m.ConnectTimeout }, hide: mcast},
		{name: "membershipProviderClassName", def: "kubernetes", doc: "cloud membership: kubernetes, dns, dns:NAME[@IP:PORT] (Gomcat) or Tomcat's provider class",
			ptr: func(m *Membership) any { return &m.MembershipProvider },
			set: func(m *Membership) field { return fProvider(&m.MembershipProvider) }, hide: notCloud},
		{name: "readTimeout", unit: "ms", def: "1000", rng: positiveSpan("ms"), only: cloud,
			doc: "cloud membership: bound on the provider's answer", ptr: func(m *Membership) any { return &m.ReadTimeout }, hide: notCloud},
		{name: "expirationTime", unit: "ms", def: "5000", rng: positiveSpan("ms"), only: probed,
			doc: "static and cloud membership: silence after which a member expires", ptr: func(m *Membership) any { return &m.ExpirationTime }, hide: mcast},
		{name: "rpcTimeout", unit: "ms", def: "3000", doc: "static membership: RPC timeout", ptr: func(m *Membership) any { return &m.RPCTimeout }, hide: mcast},
		{name: "domain", aliases: []string{"mcastClusterDomain"}, doc: "cluster domain (text or {1,2,3}); members of other domains are ignored",
			set: func(m *Membership) field { return fDomain(&m.Domain) }, show: func(m *Membership) string {
				if m.Domain == "" {
					return "(none)"
				}
				return strconv.Quote(m.Domain)
			}},
		{name: "establishWait", unit: "ms", def: "0", rng: rangeSpan(0, noMax, "0 or more milliseconds"), only: mcast,
			doc: "sleep at start so membership forms (Gomcat; 0: the fast join, solicit heartbeats and wait for the answers)",
			ptr: func(m *Membership) any { return &m.EstablishWait }, show: func(m *Membership) string {
				if m.EstablishWait == 0 {
					return "0 ms (fast join: solicit heartbeats, wait for the answers)"
				}
				return ms(m.EstablishWait)
			}},
		{name: "maxMembers", defDoc: "0 (256)", doc: "members (and, apart, foreign members) a multicast membership keeps (Gomcat)",
			ptr: func(m *Membership) any { return &m.MaxMembers }, noShow: true},
	},
	inert: inert{"useThread": "", "pingInterval": "", "payload": "", "name": "", "mcastClusterDomainAsString": ""},
}

var staticMemberSpec = &spec[StaticMember]{
	element: "Member", title: "Member, LocalMember",
	doc: "A static member (in <Membership className=\"StaticMembershipService\"> or a StaticMembershipInterceptor).",
	attrs: []attrSpec[StaticMember]{
		{name: "host", doc: "IP address or host name; required", ptr: func(s *StaticMember) any { return &s.Host }},
		{name: "port", rng: portSpan(1, "the member's receiver port, 1..65535"), doc: "receiver port; required", ptr: func(s *StaticMember) any { return &s.Port }},
		{name: "domain", doc: "the member's domain (text or {1,2,3})", set: func(s *StaticMember) field { return fDomain(&s.Domain) }},
		{name: "uniqueId", doc: "16 bytes ({b0,…,b15} or 32 hex digits)", set: func(sm *StaticMember) field {
			return field{set: func(p *parser, e *elem, a attr) {
				v := strings.TrimSpace(a.value)
				var (
					b   []byte
					err error
				)
				if strings.HasPrefix(v, "{") {
					b, err = byteList(v)
				} else {
					b, err = hex.DecodeString(v)
				}
				if err != nil || len(b) != 16 {
					p.errorf(a.pos, e.name, a.name, "%q is not 16 bytes ({b0,…,b15} or 32 hex digits)", v)
					return
				}
				sm.UniqueID = b
			}}
		}},
	},
	inert: inert{"securePort": "", "udpPort": "", "payload": "", "command": "", "name": ""},
}

var receiverSpec = &spec[Receiver]{
	element: "Receiver",
	doc:     "NioReceiver: where members' senders connect (5.5: receiver.* on the Cluster).",
	attrs: []attrSpec[Receiver]{
		{name: "address", aliases: []string{"host", "tcpListenAddress"}, def: "auto", doc: "listen address (auto: the host's address)",
			ptr: func(r *Receiver) any { return &r.Address }},
		{name: "advertise", doc: "IP or IP:PORT told to members when not the listen address (NAT, containers, multi-NIC) (Gomcat)",
			ptr: func(r *Receiver) any { return &r.Advertise }, hide: func(r *Receiver) bool { return r.Advertise == "" }},
		{name: "port", aliases: []string{"tcpListenPort"}, def: itoa(DefaultReceiverPort), rng: portSpan(0, "0 picks a free port, 1..65535"),
			doc: "first port tried", ptr: func(r *Receiver) any { return &r.Port }, show: func(r *Receiver) string {
				return fmt.Sprintf("%d (autoBind %d: up to %d)", r.Port, r.AutoBind, r.Port+r.AutoBind-1)
			}},
		{name: "autoBind", def: itoa(DefaultReceiverAuto), doc: "ports tried from port (<= 0: 1)", ptr: func(r *Receiver) any { return &r.AutoBind }, noShow: true},
		{name: "selectorTimeout", aliases: []string{"tcpSelectorTimeout"}, unit: "ms", def: "5000", rng: positiveSpan("ms"),
			doc: "accepted for compatibility", ptr: func(r *Receiver) any { return &r.SelectorTimeout }},
		{name: "maxThreads", aliases: []string{"tcpThreadCount"}, def: "15", rng: atLeastSpan(1), doc: "concurrent message handlers",
			ptr: func(r *Receiver) any { return &r.MaxThreads }},
		{name: "minThreads", def: "6", rng: atLeastSpan(0), doc: "accepted for compatibility", ptr: func(r *Receiver) any { return &r.MinThreads }},
		{name: "timeout", unit: "ms", def: "3000", rng: positiveSpan("ms"), doc: "read timeout on a connection", ptr: func(r *Receiver) any { return &r.Timeout }},
		{name: "maxFrameSize", unit: "bytes", def: itoa(DefaultMaxFrameSize), rng: atLeastSpan(64 << 10), doc: "largest frame accepted (Gomcat)",
			ptr: func(r *Receiver) any { return &r.MaxFrameSize }, show: func(r *Receiver) string { return bytesStr(int64(r.MaxFrameSize)) }},
		{name: "maxConnections", defDoc: "0 (the transport's)", doc: "open connections accepted (Gomcat)", ptr: func(r *Receiver) any { return &r.MaxConnections }, noShow: true},
		{name: "maxConnectionsPerHost", defDoc: "0 (the transport's)", doc: "open connections accepted from one host (Gomcat)",
			ptr: func(r *Receiver) any { return &r.MaxConnectionsPerHost }, noShow: true},
		{name: "minFrameRate", unit: "bytes/s", defDoc: "0 (the transport's)", doc: "slowest frame accepted (Gomcat)", ptr: func(r *Receiver) any { return &r.MinFrameRate }, noShow: true},
	},
	inert: inert{"securePort": "", "udpPort": "Gomcat replicates over TCP only", "maxIdleTime": "",
		"maxTasks": "", "minTasks": "", "rxBufSize": "", "txBufSize": "", "udpRxBufSize": "", "udpTxBufSize": "",
		"direct": "", "tcpNoDelay": "", "soKeepAlive": "", "ooBInline": "", "soReuseAddress": "", "soLingerOn": "",
		"soLingerTime": "", "soTrafficClass": "", "useBufferPool": "", "compress": "",
		"sendAck": "the Cluster's channelSendOptions decide acknowledgements", "doListen": "", "bind": "",
		"tcpListenTimeout": ""},
}

var senderSpec = &spec[Sender]{
	element: "Sender",
	doc:     "ReplicationTransmitter, holding the <Transport>; Tomcat 5.5's sender settings (5.5: sender.* on the Cluster) map to channelSendOptions and the Transport.",
	attrs: []attrSpec[Sender]{
		{name: "replicationMode", defDoc: "pooled", doc: "Tomcat 5.5: asynchronous/fastasyncqueue → channelSendOptions 8; pooled/synchronous → 2 (6 with waitForAck)",
			set: func(s *Sender) field {
				return field{set: func(p *parser, e *elem, a attr) {
					v := strings.ToLower(strings.TrimSpace(a.value))
					switch v {
					case "pooled", "synchronous", "asynchronous", "fastasyncqueue":
						s.old.mode, s.old.modePos = v, a.pos
					default:
						p.errorf(a.pos, e.name, a.name, "%q is not a Tomcat 5.5 replication mode (pooled, synchronous, asynchronous, fastasyncqueue)", a.value)
					}
				}}
			}},
		{name: "waitForAck", defDoc: "false", doc: "Tomcat 5.5: with pooled/synchronous, wait for the peer to process (channelSendOptions 6)",
			set: func(s *Sender) field {
				return field{set: func(p *parser, e *elem, a attr) {
					if b, ok := p.bool(e, a); ok {
						s.old.waitForAck = &b
					}
				}}
			}},
		{name: "ackTimeout", unit: "ms", defDoc: "the Transport's timeout", doc: "Tomcat 5.5: the Transport's timeout",
			set: func(s *Sender) field { return fDur(&s.Transport.Timeout, time.Millisecond).as("timeout") }},
		{name: "maxPoolSocketLimit", defDoc: "the Transport's poolSize", doc: "Tomcat 5.5: the Transport's poolSize",
			set: func(s *Sender) field { return fInt(&s.Transport.PoolSize).as("poolSize") }},
	},
	inert: inert{"autoConnect": "", "compress": "", "keepAliveTimeout": "", "keepAliveMaxRequestCount": "",
		"resend": "", "recoverTimeout": "", "recoverCounter": "", "queueAddWaitTimeout": "", "queueRemoveWaitTimeout": "",
		"maxQueueLength": "", "threadPriority": "", "processSenderFrequency": "", "doTransmitterProcessingStats": "",
		"doProcessingStats": "", "queueDoStats": "", "queueTimeWait": "", "queueCheckLock": "", "txBufSize": "",
		"rxBufSize": "", "timeout": ""},
}

var transportSpec = &spec[Transport]{
	element: "Transport",
	doc:     "PooledParallelSender inside <Sender>: how session messages reach each member.",
	attrs: []attrSpec[Transport]{
		{name: "timeout", unit: "ms", def: "3000", rng: positiveSpan("ms"), doc: "per send (5.5: ackTimeout)", ptr: func(t *Transport) any { return &t.Timeout }},
		{name: "maxRetryAttempts", def: "1", rng: atLeastSpan(0), doc: "retries after an I/O error", ptr: func(t *Transport) any { return &t.MaxRetryAttempts }},
		{name: "poolSize", def: "25", rng: atLeastSpan(1), doc: "concurrent senders per peer (5.5: maxPoolSocketLimit)", ptr: func(t *Transport) any { return &t.PoolSize }},
		{name: "maxWait", unit: "ms", def: "3000", rng: positiveSpan("ms"), doc: "to obtain a pooled sender", ptr: func(t *Transport) any { return &t.MaxWait }},
		{name: "keepAliveCount", def: "-1", doc: "messages per connection (-1: unlimited)", ptr: func(t *Transport) any { return &t.KeepAliveCount }},
		{name: "keepAliveTime", unit: "ms", def: "-1", doc: "connection age (< 0: unlimited)", ptr: func(t *Transport) any { return &t.KeepAliveTime }},
		{name: "queueBytes", unit: "bytes", def: itoa(DefaultQueueBytes), rng: atLeastSpan(64 << 10), doc: "bytes queued per peer (Gomcat)",
			ptr: func(t *Transport) any { return &t.QueueBytes }, show: func(t *Transport) string { return bytesStr(int64(t.QueueBytes)) }},
	},
	inert: inert{"rxBufSize": "", "txBufSize": "", "udpRxBufSize": "", "udpTxBufSize": "", "directBuffer": "",
		"tcpNoDelay": "", "soKeepAlive": "", "ooBInline": "", "soReuseAddress": "", "soLingerOn": "",
		"soLingerTime": "", "soTrafficClass": "", "throwOnFailedAck": "", "udpBased": "Gomcat replicates over TCP only"},
}

var channelSpec = &spec[Cluster]{
	element: "Channel", doc: "GroupChannel: holds Membership, Receiver, Sender and the Interceptors (Tomcat 5.5 wrote them in the Cluster).",
	inert: inert{"heartbeatSleeptime": "", "optionCheck": ""},
}

var replicationValveSpec = &spec[ReplicationValve]{
	element: "Valve", title: "Valve (ReplicationValve)",
	doc: "Sends a request's session changes at its end (5.5: valve.* on the Cluster).",
	attrs: []attrSpec[ReplicationValve]{
		{name: "filter", doc: "Go regular expression of request URIs that do not replicate (5.5's \";\" list converted)",
			set: func(v *ReplicationValve) field {
				return field{set: func(_ *parser, _ *elem, a attr) {
					v.Filter = strings.TrimSpace(a.value)
					if v.tc55 {
						v.Filter = convertFilter55(v.Filter)
					}
				}}
			}, show: func(v *ReplicationValve) string { return orText(v.Filter, "(none: every request replicates)") }},
		{name: "primaryIndicator", def: "false", doc: "set a request attribute telling whether the session is primary here",
			ptr: func(v *ReplicationValve) any { return &v.PrimaryIndicator }},
		{name: "primaryIndicatorName", def: DefaultPrimaryAttr, doc: "that attribute's name", ptr: func(v *ReplicationValve) any { return &v.PrimaryIndicatorName }},
	},
	inert: inert{"statistics": "", "doProcessingStats": "", "asyncSupported": ""},
}

var jvmRouteBinderSpec = &spec[JvmRouteBinderValve]{
	element: "Valve", title: "Valve (JvmRouteBinderValve)",
	doc: "Rewrites a failed-over session id to this node's jvmRoute.",
	attrs: []attrSpec[JvmRouteBinderValve]{
		{name: "enabled", def: "true", doc: "rewrite", ptr: func(v *JvmRouteBinderValve) any { return &v.Enabled }},
	},
	inert: inert{"sessionIdAttribute": "", "asyncSupported": ""},
}

var deployerSpec = &spec[Deployer]{
	element: "Deployer",
	doc:     "FarmWarDeployer: a bundle dropped in watchDir on one member goes to every member. In an Engine's Cluster it serves the defaultHost.",
	attrs: []attrSpec[Deployer]{
		{name: "tempDir", def: DefaultFarmTempDir, doc: "where incoming bundles are assembled", ptr: func(d *Deployer) any { return &d.TempDir }},
		{name: "deployDir", defDoc: "the Host's appBase", doc: "where complete bundles go", ptr: func(d *Deployer) any { return &d.DeployDir }},
		{name: "watchDir", doc: "bundles dropped here are pushed to the farm", ptr: func(d *Deployer) any { return &d.WatchDir },
			show: func(d *Deployer) string { return orText(d.WatchDir, "(none)") }},
		{name: "watchEnabled", def: "false", doc: "watch watchDir", ptr: func(d *Deployer) any { return &d.WatchEnabled }},
		{name: "processDeployFrequency", unit: "ticks of 1 s", def: "2", doc: "check watchDir every N background ticks (<= 0 ignored)",
			ptr: func(d *Deployer) any { return &d.ProcessDeployFrequency }, set: func(d *Deployer) field {
				return field{set: func(p *parser, e *elem, a attr) {
					if n, ok := p.int(e, a); ok {
						if n <= 0 {
							p.warnf(a.pos, e.name, a.name, "%d ignored, as in Tomcat (keeps %d)", n, d.ProcessDeployFrequency)
							return
						}
						d.ProcessDeployFrequency = n
					}
				}}
			}},
		{name: "maxValidTime", unit: "s", def: "300", doc: "drop a transfer whose chunks stop this long (< 0: never)",
			ptr: func(d *Deployer) any { return &d.MaxValidTime }, show: func(d *Deployer) string { return secs(d.MaxValidTime, "never expires") }},
		{name: "maxBundleSize", unit: "bytes", def: strconv.Itoa(DefaultMaxBundleSize),
			rng: &span{min: 1, max: noMax, msg: "%d is not allowed (a positive number of bytes)"}, doc: "largest bundle received (Gomcat)",
			ptr: func(d *Deployer) any { return &d.MaxBundleSize }, show: func(d *Deployer) string { return bytesStr(d.MaxBundleSize) }},
		{name: "senders", doc: "comma list of member names that may deploy (empty: any; Gomcat)", noShow: true,
			set: func(d *Deployer) field {
				return field{set: func(_ *parser, _ *elem, a attr) {
					for _, s := range strings.Split(a.value, ",") {
						if s = strings.TrimSpace(s); s != "" {
							d.Senders = append(d.Senders, s)
						}
					}
				}}
			}},
		{name: "maxTransfers", defDoc: "0 (8)", doc: "incoming transfers at once (Gomcat)", ptr: func(d *Deployer) any { return &d.MaxTransfers }, noShow: true},
		{name: "diskBudget", unit: "bytes", defDoc: "0 (twice maxBundleSize)", doc: "announced sizes of transfers in flight (Gomcat)",
			ptr: func(d *Deployer) any { return &d.DiskBudget }, noShow: true},
	},
	inert: inert{},
}

var clusterListenerSpec = &spec[ClusterListener]{
	element: "ClusterListener", doc: "ClusterSessionListener (or JvmRouteSessionIDBinderListener): receives the cluster's session messages. No attributes.",
	inert: inert{},
}

// allSpecs lists every spec in docs/config.md's order.
var allSpecs = []referencer{serverSpec, adminSpec, serviceSpec, connectorSpec, sslHostConfigSpec, certificateSpec, ajpSpec,
	engineSpec, hostSpec, contextSpec, redisManagerSpec, clusterSpec, managerSpec, channelSpec, membershipSpec, staticMemberSpec,
	receiverSpec, senderSpec, transportSpec, replicationValveSpec, jvmRouteBinderSpec, deployerSpec, clusterListenerSpec}
