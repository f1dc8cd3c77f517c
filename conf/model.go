package conf

import "time"

// Node is embedded in every element of the model. It records where the
// element was written and, per attribute, where each attribute was written,
// so that Validate can point at the exact line.
type Node struct {
	Pos
	// Element is the XML element name ("Connector", "Membership", …).
	Element string
	attrs   map[string]attrMark
}

// attrMark is where an attribute was set and the name it was written
// with (5.5's "mcastAddr" for the model's "address").
type attrMark struct {
	Pos
	as string
}

// AttrPos returns where attribute name was written (or overridden), falling
// back to the element's position.
func (n *Node) AttrPos(name string) Pos {
	if m, ok := n.attrs[name]; ok {
		return m.Pos
	}
	return n.Pos
}

// Has reports whether attribute name was written in the file (or set by an
// override), as opposed to taking its default.
func (n *Node) Has(name string) bool {
	_, ok := n.attrs[name]
	return ok
}

// attrName is the name attribute canon was written with.
func (n *Node) attrName(canon string) string {
	if m, ok := n.attrs[canon]; ok && m.as != "" {
		return m.as
	}
	return canon
}

func (n *Node) mark(canon string, p Pos, as string) {
	if n.attrs == nil {
		n.attrs = make(map[string]attrMark)
	}
	n.attrs[canon] = attrMark{Pos: p, as: as}
}

// Server is the root of server.xml.
type Server struct {
	Node
	// Home is the node's home directory (GOMCAT_HOME); Load sets it, Parse
	// leaves it empty. Relative paths in the model are relative to Home.
	Home string
	// Port is the shutdown port. -1 disables it. Default: 8005.
	Port int
	// Address is where the shutdown port listens. Default: 127.0.0.1
	// (loopback only; Tomcat's "localhost").
	Address string
	// Shutdown is the command that stops the node. Default: "SHUTDOWN".
	Shutdown string
	// LogFile is where the node writes its log instead of stderr
	// (Gomcat's logFile attribute; Tomcat's logs/catalina.out), relative
	// to Home; reopened on SIGHUP for logrotate. --log-file and
	// GOMCAT_LOG_FILE override it. Default: "" (stderr).
	LogFile string
	// Services holds the <Service> elements. Gomcat runs exactly one.
	Services []*Service
	// Admin is the admin listener (<Listener className="org.gomcat.AdminListener">);
	// nil: none (see admin.go).
	Admin *Admin
}

// Service groups the connectors in front of one Engine.
type Service struct {
	Node
	Name       string // Default: "Catalina".
	Connectors []*Connector
	// AJPConnectors are the <Connector protocol="AJP/1.3"> (parse_ajp.go).
	AJPConnectors []*AJPConnector
	Engine        *Engine
}

// Connector is an HTTP/1.1 listener (Go's net/http also speaks HTTP/2 on
// TLS). AJP connectors are AJPConnectors; other protocols are dropped
// with a warning while parsing.
type Connector struct {
	Node
	Port    int    // TCP port; 0 picks a free one. Default: 8080.
	Address string // listen address; "" = all interfaces. Default: "".
	// Advertise is the address balancers and peers are told for this
	// connector when it is not the listen address (NAT, containers,
	// multi-NIC): an IP, or IP:PORT when the port is mapped too (Gomcat).
	// Default: "" (the address, or the receiver's advertised one).
	Advertise string
	Protocol  string // always "HTTP/1.1" in the model.
	// ConnectionTimeout bounds reading a request's headers (Tomcat's
	// connectionTimeout, ms). <= 0 means no timeout. Default: 20000 ms.
	ConnectionTimeout time.Duration
	// KeepAliveTimeout is the idle time between requests on one connection
	// (ms). Default: ConnectionTimeout.
	KeepAliveTimeout time.Duration
	// MaxThreads bounds the requests served at once. Default: 200.
	MaxThreads int
	// MaxHTTPHeaderSize bounds request headers (bytes). Default: 8192.
	MaxHTTPHeaderSize int
	// MaxHeaderCount caps the headers of one request (-1: no cap). Default: 100.
	MaxHeaderCount int
	// MaxConnections caps open connections; more wait in the backlog (-1:
	// no cap). Default: 8192.
	MaxConnections int
	// DisableUploadTimeout: request bodies are read under connectionTimeout;
	// false: under ConnectionUploadTimeout. Default: true (Tomcat's).
	DisableUploadTimeout bool
	// ConnectionUploadTimeout bounds each read of a request body (ms) when
	// disableUploadTimeout is false. Default: 300000 ms.
	ConnectionUploadTimeout time.Duration
	// MinUploadRate is the slowest average request body rate (bytes/s) after
	// a 5 s grace; slower bodies get 408 (-1: none; a Gomcat attribute). Default: 240.
	MinUploadRate int
	Scheme        string // "http" or "https". Default: "http", or "https" with SSLEnabled.
	Secure        bool   // requests count as secure (cookies). Default: SSLEnabled.
	SSLEnabled    bool   // serve TLS. Default: false.
	// CertificateFile and CertificateKeyFile are PEM files, from the
	// Connector's attributes or a nested <SSLHostConfig><Certificate>.
	CertificateFile    string
	CertificateKeyFile string
}

// Engine processes requests for its Hosts.
type Engine struct {
	Node
	Name        string // Default: "Catalina".
	DefaultHost string // Default: "localhost".
	// JvmRoute is appended to session ids (".node1") and names this member
	// of the cluster; required with a Cluster. Pattern [A-Za-z0-9_-]+.
	JvmRoute string
	Hosts    []*Host
	Cluster  *Cluster // nil when the Engine has no <Cluster>.
}

// Host is a virtual host.
type Host struct {
	Node
	Name       string // Default: "localhost".
	AppBase    string // bundles and docBases live here. Default: "webapps".
	AutoDeploy bool   // watch appBase while running. Default: true.
	UnpackWARs bool   // unpack bundles into directories. Default: true.
	Contexts   []*Context
	Cluster    *Cluster // nil when the Host has no <Cluster>.
}

// Context is one application, from server.xml or from a context descriptor
// conf/<Engine>/<Host>/<name>.xml (Node.File says which).
type Context struct {
	Node
	// Path is the context path: "/" for ROOT, otherwise "/a" or "/a/b".
	Path string
	// DocBase is the application directory or bundle, relative to the
	// Host's appBase unless absolute. Default: derived from Path ("ROOT",
	// "a", "a#b").
	DocBase string
	// Distributable puts the context's sessions under the cluster's
	// Manager (DeltaManager or BackupManager; ClusterManager when the
	// context has its own). Default: false.
	Distributable bool
	// SessionTimeout is the default max inactive interval (minutes in XML).
	// <= 0 means sessions never expire. Default: 30 min.
	SessionTimeout time.Duration
	// App is the name of the Go application registered with the node that
	// serves this context (Gomcat extension). "" serves DocBase as static
	// files. Default: "".
	App string
	// Manager, when set, keeps the context's sessions in Redis
	// (<Manager className="gomcat.RedisManager">), distributable or not.
	// Default: nil (memory; the cluster's DeltaManager when distributable).
	Manager *RedisManager
	// ClusterManager is the context's own <Manager className="…DeltaManager">
	// or "…BackupManager": as in Tomcat, it replaces the Cluster's <Manager>
	// template for this context (its attributes start from the defaults,
	// not from the template's). Only a distributable context the cluster
	// covers may have one; it excludes Manager. Default: nil (the
	// Cluster's template).
	ClusterManager *Manager
}

// RedisManagerClass is the className of a context's Redis session store.
const RedisManagerClass = "gomcat.RedisManager"

// RedisManager is a context's <Manager className="gomcat.RedisManager">:
// its sessions live in Redis or Valkey instead of memory, with or without
// a <Cluster>. Exactly one of Address, Sentinel and Cluster is set.
type RedisManager struct {
	Node
	// Address is a redis:// or rediss:// URL. Default: "".
	Address string
	// Sentinel lists host:port of Redis Sentinels (comma-separated in
	// XML); MasterName (masterName) names the monitored master.
	Sentinel   []string
	MasterName string
	// Cluster lists host:port seeds of a Redis Cluster (comma-separated).
	Cluster []string
	// KeyPrefix starts every key (<prefix>:sessions:<id>). Default: "gomcat".
	KeyPrefix string
	// Database is the logical database; -1: the URL's (else 0). Default: -1.
	Database int
	// TLS dials with TLS (rediss:// implies it). Default: false.
	TLS bool
	// TLSCAFile is a PEM file of the CA certificates that sign the
	// server's, relative to the home unless absolute; it implies TLS.
	// Default: "" (the system's roots).
	TLSCAFile string
	// Username is the ACL user. Default: "".
	Username string
	// PasswordFile holds the password (one line), relative to the home
	// unless absolute. Default: "".
	PasswordFile string
	// FlushMode is onRequestEnd or immediate. Default: "onRequestEnd".
	FlushMode string
	// WriteMode is changedAttributes or whole. Default: "changedAttributes".
	WriteMode string
	// Sticky trusts the near-cache within the touch window (the balancer
	// is sticky). Default: false (every request validates its copy).
	Sticky bool
	// Timeout bounds each Redis operation (ms in XML). Default: 1000 ms.
	Timeout time.Duration
	// MaxSessionSize caps a session's attribute bytes; <= 0: none.
	// Default: 0.
	MaxSessionSize int
	// ConfigureNotifications lets the manager enable keyspace
	// notifications with CONFIG SET. Default: true.
	ConfigureNotifications bool
}

// Send option bits of Tomcat's Channel, as used in channelSendOptions.
const (
	SendByteMessage = 0x01 // raw bytes; set by the channel itself, ignored here
	SendUseAck      = 0x02 // returns when the peer received the message
	SendSyncAck     = 0x04 // with SendUseAck: returns when the peer processed it
	SendAsync       = 0x08 // returns once queued
	SendSecure      = 0x10 // never implemented by Tomcat; refused
	SendUDP         = 0x20 // refused: Gomcat replicates over TCP only
	SendMulticast   = 0x40 // refused
)

// Cluster is a SimpleTcpCluster with its Manager template, channel,
// valves, deployer and listeners, every default filled in.
type Cluster struct {
	Node
	ClassName string // always "SimpleTcpCluster".
	// ChannelSendOptions are the send option bits for session messages.
	// Default: 8 (async).
	ChannelSendOptions int
	// ChannelStartOptions selects which channel services start (Tomcat
	// bits: 1 receiver, 2 sender, 4 membership receive, 8 membership
	// send). Default: 15.
	ChannelStartOptions int
	// Key seals every heartbeat, frame and bundle chunk when set (AES-GCM;
	// 16, 24 or 32 bytes). From the Cluster's "key" attribute (hex,
	// Gomcat extension) or an EncryptInterceptor's encryptionKey.
	// Default: none.
	Key []byte
	// KeyFile is a key file (one hex key per line; the first seals, all
	// open; reloaded on change and SIGHUP), relative to the home. Gomcat
	// extension; excludes Key. Default: "".
	KeyFile string
	// Insecure lets the cluster run off loopback without a key (the
	// operator trusts the network; a warning is logged at every start).
	// Gomcat extension. Default: false.
	Insecure     bool
	Manager      Manager
	Membership   Membership
	Receiver     Receiver
	Sender       Sender
	Interceptors []*Interceptor
	// ReplicationValve and JvmRouteBinderValve are nil when absent. A
	// Cluster written with no valves gets both (Tomcat's checkDefaults).
	ReplicationValve    *ReplicationValve
	JvmRouteBinderValve *JvmRouteBinderValve
	Deployer            *Deployer // nil without a <Deployer>.
	Listeners           []*ClusterListener
}

// Session manager classes.
const (
	DeltaManager  = "DeltaManager"  // every member holds every session
	BackupManager = "BackupManager" // a primary and Backups backups per session
)

// Manager is the session manager template cloned for every distributable
// context (in the <Cluster>), or one context's own (Context.ClusterManager):
// a DeltaManager or a BackupManager. Attributes only one of them reads are
// ignored (with a warning) by the other.
type Manager struct {
	Node
	ClassName string // DeltaManager or BackupManager. Default: DeltaManager.
	// StateTransferTimeout is how long a starting node waits for the
	// sessions of the oldest member (seconds in XML). < 0 waits forever,
	// 0 does not wait. Default: 60 s.
	StateTransferTimeout time.Duration
	// StateTransferSeniorTimeout is how long one senior may stay silent
	// during the state transfer before the next one is asked (seconds in
	// XML; Gomcat extension). 0: no per-senior limit. Default: 10 s.
	StateTransferSeniorTimeout time.Duration
	// ReplicatePrincipal replicates a session's principal (user name, auth
	// type) and accepts it from members (Gomcat extension). Default: false.
	ReplicatePrincipal bool
	// SendAllSessions sends the state in one message; false sends batches
	// of SendAllSessionsSize. Default: true.
	SendAllSessions bool
	// SendAllSessionsSize is the number of sessions per batch. Default: 1000.
	SendAllSessionsSize int
	// SendAllSessionsWaitTime is accepted for compatibility (ms); Gomcat
	// does not pause between batches (the transport applies back-pressure
	// instead). Default: 2000 ms.
	SendAllSessionsWaitTime time.Duration
	// StateTimestampDrop drops queued messages older than the received
	// state. Default: true.
	StateTimestampDrop bool
	// ExpireSessionsOnShutdown expires sessions on stop and tells the
	// cluster. Default: false.
	ExpireSessionsOnShutdown bool
	// NotifyListenersOnReplication fires attribute listeners for replicated
	// changes. Default: true.
	NotifyListenersOnReplication bool
	// NotifySessionListenersOnReplication fires created/destroyed listeners
	// for replicated sessions. Default: true.
	NotifySessionListenersOnReplication bool
	// MaxActiveSessions bounds sessions (DeltaManager: replicated ones
	// count; BackupManager: primaries only); -1 means no limit. Default: -1.
	MaxActiveSessions int
	// MaxSessionSize bounds one session's encoded attributes in bytes
	// (Gomcat extension). Default: 1 MiB.
	MaxSessionSize int
	// RecordAllActions keeps every action of a request instead of the last
	// per attribute. Default: false.
	RecordAllActions bool
	// ProcessExpiresFrequency runs the idle-session sweep every N background
	// ticks. Gomcat's tick is 1 s, so the default sweeps every 6 s; Tomcat's
	// tick is the Engine's backgroundProcessorDelay (10 s; Gomcat accepts the
	// attribute and ignores it), so the same value sweeps every 60 s there.
	// The shorter tick expires idle sessions closer to their timeout.
	// Default: 6.
	ProcessExpiresFrequency int

	// BackupManager only.

	// MapSendOptions are the send options of what a request's end sends to
	// the session's backups (Tomcat's numbers or names). Default: 6
	// (use_ack,sync).
	MapSendOptions int
	// RPCTimeout bounds fetching a session from the member holding it and
	// the map exchange at start (ms in XML). Default: 15000 ms.
	RPCTimeout time.Duration
	// AccessTimeout bounds the wait for the other members' maps once the
	// first answered (Tomcat's map ping timeout; ms in XML). Default: 5000 ms.
	AccessTimeout time.Duration
	// TerminateOnStartFailure fails the context's start when a member did
	// not send its map in time. Default: false.
	TerminateOnStartFailure bool
	// Backups is how many members hold a full copy of each session (Gomcat
	// extension; Tomcat has 1). Default: 1.
	Backups int
	// RebalanceRate bounds how many sessions per second move to a joined
	// member's backup role; 0 turns rebalancing off (Gomcat extension).
	// Default: 200.
	RebalanceRate int
}

// Membership classes.
const (
	McastService            = "McastService"
	StaticMembershipService = "StaticMembershipService"
	CloudMembershipService  = "CloudMembershipService"
)

// Membership is how members find each other: multicast heartbeats
// (McastService) or a fixed list probed over TCP (StaticMembershipService).
type Membership struct {
	Node
	ClassName string        // McastService or StaticMembershipService. Default: McastService.
	Address   string        // multicast group. Default: "228.0.0.4".
	Port      int           // multicast port. Default: 45564.
	Frequency time.Duration // heartbeat interval (ms). Default: 500 ms.
	DropTime  time.Duration // silence after which a member expires (ms). Default: 3000 ms.
	// Bind is the address (or interface address) multicast is bound to.
	// "" = the system's default interface. The init template writes
	// 127.0.0.1. Default: "".
	Bind string
	// TTL of heartbeats; -1 leaves the system default (1). Default: -1.
	TTL int
	// Domain separates clusters sharing a group; members of other domains
	// are ignored. Default: "".
	Domain                string
	LocalLoopbackDisabled bool          // Default: false (loop on, so nodes on one host see each other).
	RecoveryEnabled       bool          // rebuild the socket after errors. Default: true.
	RecoveryCounter       int           // errors before recovery. Default: 10.
	RecoverySleepTime     time.Duration // between recovery attempts (ms). Default: 5000 ms.
	SoTimeout             time.Duration // socket read timeout (ms). Default: Frequency.
	// EstablishWait is how long start sleeps so membership can form
	// (Gomcat extension, ms; Tomcat 5.5 slept 4 × frequency and logged
	// it). Default: 0: the fast join instead (the node solicits heartbeats
	// and every member answers at once; start waits for those answers,
	// or 200 ms when nobody answers).
	EstablishWait time.Duration
	// MaxMembers bounds the members (and, apart, the foreign members) a
	// multicast membership keeps (Gomcat extension). 0: the default, 256.
	MaxMembers int
	// Static membership (StaticMembershipService, or the members of a
	// StaticMembershipInterceptor): the peers, probed over TCP.
	Members        []*StaticMember
	LocalMember    *StaticMember // optional; nil when not written.
	ConnectTimeout time.Duration // TCP probe (ms). Default: 500 ms.
	ExpirationTime time.Duration // silence after which a static member expires (ms). Default: 5000 ms.
	RPCTimeout     time.Duration // (ms). Default: 3000 ms.
	// Cloud membership (CloudMembershipService): members are listed by a
	// provider and admitted once their receiver proves the cluster key.
	// MembershipProvider is "kubernetes" (Tomcat's KUBERNETES_* variables
	// and the pod's service account), "dns" (the A/AAAA or SRV records of
	// DNS_MEMBERSHIP_SERVICE_NAME) or, Gomcat's, "dns:NAME" /
	// "dns:NAME@IP:PORT" (that name; only that DNS server). Tomcat's class
	// names map onto the first two. Default: "kubernetes".
	MembershipProvider string
	// ReadTimeout bounds a provider's answer (ms). ConnectTimeout is
	// 1000 ms by default here, as Tomcat's. Default: 1000 ms.
	ReadTimeout time.Duration
}

// StaticMember is one <Member> (or <LocalMember>) of a static membership.
type StaticMember struct {
	Node
	Host     string // IP address or host name; required.
	Port     int    // receiver port; required.
	UniqueID []byte // 16 bytes when given ({0,1,…,15} or 32 hex digits); optional in Gomcat.
	Domain   string
}

// Receiver is the TCP receiver for replication messages (NioReceiver).
type Receiver struct {
	Node
	ClassName string // always "NioReceiver".
	// Address to listen on and to advertise; "auto" = the host's primary
	// address. Default: "auto".
	Address string
	// Advertise is the address members are told for this receiver when
	// it is not the listen address: an IP, or IP:PORT when the port is
	// mapped too; its connections leave from it when it is local (Gomcat).
	// Default: "" (derived from Address).
	Advertise string
	Port      int // first port tried. Default: 4000.
	// AutoBind is the number of ports tried from Port (Port…Port+AutoBind-1).
	// Default: 100.
	AutoBind        int
	SelectorTimeout time.Duration // (ms) Default: 5000 ms.
	MaxThreads      int           // concurrent message handlers. Default: 15.
	MinThreads      int           // Default: 6.
	Timeout         time.Duration // read timeout on a connection (ms). Default: 3000 ms.
	// MaxFrameSize bounds one frame in bytes (Gomcat extension).
	// Default: 16 MiB.
	MaxFrameSize int
	// Receiver bounds (Gomcat extensions; 0: the defaults 1024, 64 and
	// 256 KiB/s): connections open in total and per source IP, and the
	// slowest a frame may arrive (bytes/s, counted from its first byte).
	MaxConnections        int
	MaxConnectionsPerHost int
	MinFrameRate          int
}

// Sender is the ReplicationTransmitter and its Transport.
type Sender struct {
	Node
	ClassName string // always "ReplicationTransmitter".
	Transport Transport
	old       legacy // Tomcat 5.5's replicationMode/waitForAck, until the Cluster is read
}

// Transport is the PooledParallelSender.
type Transport struct {
	Node
	ClassName        string        // always "PooledParallelSender".
	Timeout          time.Duration // per send, ms (5.5: ackTimeout). Default: 3000 ms.
	MaxRetryAttempts int           // retries after an I/O error. Default: 1.
	PoolSize         int           // concurrent senders per peer. Default: 25.
	MaxWait          time.Duration // to obtain a pooled sender (ms). Default: 3000 ms.
	KeepAliveCount   int           // messages per connection; -1 unlimited. Default: -1.
	KeepAliveTime    time.Duration // connection age (ms); < 0 unlimited. Default: -1.
	// QueueBytes bounds the async queue per peer in bytes (Gomcat
	// extension; Tomcat's MessageDispatchInterceptor maxQueueSize).
	// Default: 64 MiB.
	QueueBytes int
}

// Interceptor is a channel interceptor. Attrs holds its attributes with the
// known ones' defaults filled in.
type Interceptor struct {
	Node
	ClassName string            // short name, e.g. "TcpFailureDetector".
	Attrs     map[string]string // attribute values as written or defaulted.
	// Members of a StaticMembershipInterceptor (also copied into
	// Membership.Members).
	Members []*StaticMember
}

// ReplicationValve sends a request's session changes at its end.
type ReplicationValve struct {
	Node
	// Filter is a Go regular expression matched against the whole request
	// URI; matching requests do not replicate. Tomcat 5.5's ";"-separated
	// list is converted. Default: "" (replicate every request).
	Filter string
	// PrimaryIndicator sets a request attribute telling whether the session
	// is primary on this node. Default: false.
	PrimaryIndicator     bool
	PrimaryIndicatorName string // Default: "org.apache.catalina.ha.tcp.isPrimarySession".
	tc55                 bool   // written with 5.5's class or attributes: filter is a ";" list
}

// JvmRouteBinderValve rewrites a failed-over session id to this node's route.
type JvmRouteBinderValve struct {
	Node
	Enabled bool // Default: true.
}

// Deployer is the FarmWarDeployer.
type Deployer struct {
	Node
	ClassName string // always "FarmWarDeployer".
	TempDir   string // where incoming bundles are assembled. Default: "temp/farm".
	DeployDir string // where complete bundles go. Default: the Host's appBase.
	WatchDir  string // dropped bundles here are pushed to the farm. Default: "".
	// WatchEnabled turns the watch on (requires WatchDir). Default: false.
	WatchEnabled bool
	// ProcessDeployFrequency checks WatchDir every N background ticks.
	// Gomcat's tick is 1 s, so the default checks every 2 s; Tomcat's tick
	// is the Engine's backgroundProcessorDelay (10 s; Gomcat accepts the
	// attribute and ignores it), so the same value checks every 20 s there.
	// The shorter tick starts pushing a dropped bundle sooner. Default: 2.
	ProcessDeployFrequency int
	// MaxValidTime drops a transfer whose chunks stop for this long
	// (seconds in XML); < 0 never. Default: 300 s.
	MaxValidTime time.Duration
	// MaxBundleSize bounds a received bundle in bytes (Gomcat extension).
	// Default: 512 MiB.
	MaxBundleSize int64
	// Farm sender rules and bounds (Gomcat extensions): Senders (a comma
	// list of member names; empty: any member) may deploy, undeploy and
	// send manifests; at most MaxTransfers incoming transfers (0: 8)
	// whose announced sizes sum to at most DiskBudget bytes (0: twice
	// maxBundleSize).
	Senders      []string
	MaxTransfers int
	DiskBudget   int64
}

// ClusterListener receives cluster messages (ClusterSessionListener,
// JvmRouteSessionIDBinderListener).
type ClusterListener struct {
	Node
	ClassName string
}
