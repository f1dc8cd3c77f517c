package conf

import "time"

// Named defaults the specs (specs.go) and other packages use. Tomcat's values
// (reference §1.1, §2.5, §2.6, §4.4, §5, §6, §7.2) unless marked Gomcat.
const (
	DefaultShutdownPort    = 8005
	DefaultShutdownAddress = "127.0.0.1"
	DefaultShutdownCommand = "SHUTDOWN"
	DefaultHTTPPort        = 8080
	DefaultServiceName     = "Catalina"
	DefaultEngineName      = "Catalina"
	DefaultHostName        = "localhost"
	DefaultAppBase         = "webapps"

	DefaultMcastAddress   = "228.0.0.4"
	DefaultMcastPort      = 45564
	DefaultReceiverPort   = 4000
	DefaultReceiverAuto   = 100
	DefaultSendOptions    = SendAsync
	DefaultStartOptions   = 15
	DefaultPrimaryAttr    = "org.apache.catalina.ha.tcp.isPrimarySession"
	DefaultMaxSessionSize = 1 << 20   // Gomcat
	DefaultMaxFrameSize   = 16 << 20  // Gomcat
	DefaultQueueBytes     = 64 << 20  // Gomcat (Tomcat's dispatch queue bound)
	DefaultMaxBundleSize  = 512 << 20 // Gomcat
	DefaultFarmTempDir    = "temp/farm"
	DefaultSessionTimeout = 30 * time.Minute
	DefaultMcastFrequency = 500 * time.Millisecond
	DefaultMcastDropTime  = 3000 * time.Millisecond
	// DefaultCloudConnectTimeout is a CloudMembershipService's connectTimeout.
	DefaultCloudConnectTimeout = 1000 * time.Millisecond
)

// Default returns the model of a server.xml holding only the essentials:
// shutdown port 8005, one HTTP connector on 8080, Engine "Catalina" with
// Host "localhost" and no cluster.
func Default() *Server {
	s := newServer()
	svc := newService()
	svc.Connectors = append(svc.Connectors, newConnector())
	svc.Engine = newEngine()
	svc.Engine.Hosts = append(svc.Engine.Hosts, newHost())
	s.Services = append(s.Services, svc)
	return s
}

// DefaultCluster returns what a bare <Cluster className="SimpleTcpCluster"/>
// expands to: Tomcat's modern defaults (§7.2) — DeltaManager, McastService
// 228.0.0.4:45564 every 500 ms with dropTime 3000 ms, NioReceiver auto:4000
// with autoBind 100, PooledParallelSender, MessageDispatchInterceptor then
// TcpFailureDetector, JvmRouteBinderValve and ReplicationValve,
// ClusterSessionListener, async sends and no Deployer. A bare Tomcat 5.5
// cluster expands to the same (not to 5.5's "default mode" ports).
func DefaultCluster() *Cluster {
	c := newCluster()
	c.Interceptors = defaultInterceptors()
	c.JvmRouteBinderValve = newJvmRouteBinderValve()
	c.ReplicationValve = newReplicationValve()
	c.Listeners = []*ClusterListener{{Node: Node{Element: "ClusterListener"}, ClassName: "ClusterSessionListener"}}
	return c
}

// The constructors below fill each element's defaults from its spec
// (specs.go); what is not an attribute (class names, derived values) is
// set here.

func newServer() *Server {
	s := &Server{Node: Node{Element: "Server"}}
	serverSpec.fill(s)
	return s
}

func newService() *Service {
	s := &Service{Node: Node{Element: "Service"}}
	serviceSpec.fill(s)
	return s
}

func newConnector() *Connector {
	c := &Connector{Node: Node{Element: "Connector"}, Protocol: "HTTP/1.1"}
	connectorSpec.fill(c)
	c.KeepAliveTimeout = c.ConnectionTimeout // follows ConnectionTimeout unless set
	return c
}

func newEngine() *Engine {
	e := &Engine{Node: Node{Element: "Engine"}}
	engineSpec.fill(e)
	return e
}

func newHost() *Host {
	h := &Host{Node: Node{Element: "Host"}}
	hostSpec.fill(h)
	return h
}

func newContext() *Context {
	c := &Context{Node: Node{Element: "Context"}}
	contextSpec.fill(c)
	return c
}

func newRedisManager() *RedisManager {
	m := &RedisManager{Node: Node{Element: "Manager"}}
	redisManagerSpec.fill(m)
	return m
}

func newManager() *Manager {
	m := &Manager{Node: Node{Element: "Manager"}, ClassName: DeltaManager}
	managerSpec.fill(m)
	return m
}

func newCluster() *Cluster {
	c := &Cluster{
		Node:       Node{Element: "Cluster"},
		ClassName:  "SimpleTcpCluster",
		Manager:    *newManager(),
		Membership: Membership{Node: Node{Element: "Membership"}, ClassName: McastService},
		Receiver:   Receiver{Node: Node{Element: "Receiver"}, ClassName: "NioReceiver"},
		Sender: Sender{
			Node:      Node{Element: "Sender"},
			ClassName: "ReplicationTransmitter",
			Transport: Transport{Node: Node{Element: "Transport"}, ClassName: "PooledParallelSender"},
		},
	}
	clusterSpec.fill(c)
	membershipSpec.fill(&c.Membership)
	c.Membership.SoTimeout = c.Membership.Frequency // follows Frequency unless set
	receiverSpec.fill(&c.Receiver)
	senderSpec.fill(&c.Sender)
	transportSpec.fill(&c.Sender.Transport)
	return c
}

func newReplicationValve() *ReplicationValve {
	v := &ReplicationValve{Node: Node{Element: "Valve"}}
	replicationValveSpec.fill(v)
	return v
}

func newJvmRouteBinderValve() *JvmRouteBinderValve {
	v := &JvmRouteBinderValve{Node: Node{Element: "Valve"}}
	jvmRouteBinderSpec.fill(v)
	return v
}

func newDeployer() *Deployer {
	d := &Deployer{Node: Node{Element: "Deployer"}, ClassName: "FarmWarDeployer"}
	deployerSpec.fill(d)
	return d
}

// interceptorDefaults are the documented defaults of the interceptors
// Gomcat knows, filled into Interceptor.Attrs. The key set doubles as the
// list of known attributes ("optionFlag" is common to all).
var interceptorDefaults = map[string]map[string]string{
	"MessageDispatchInterceptor": {"maxQueueSize": "67108864", "alwaysSend": "true", "maxThreads": "10",
		"maxSpareThreads": "2", "keepAliveTime": "5000", "useDeepClone": "true"},
	"TcpFailureDetector": {"connectTimeout": "1000", "performSendTest": "true", "performReadTest": "false",
		"readTestTimeout": "5000", "removeSuspectsTimeout": "300"},
	"TcpPingInterceptor": {"interval": "1000", "useThread": "false", "staticOnly": "false"},
	"EncryptInterceptor": {"encryptionKey": "", "encryptionAlgorithm": "AES/GCM/NoPadding", "providerName": "",
		"replayWindowTime": "10000", "replayWindowMessageCount": "8192"},
	"DomainFilterInterceptor":     {"domain": "", "logInterval": "100"},
	"StaticMembershipInterceptor": {},
	"ThroughputInterceptor":       {"interval": "10000"},
}

func newInterceptor(class string) *Interceptor {
	in := &Interceptor{Node: Node{Element: "Interceptor"}, ClassName: class, Attrs: map[string]string{}}
	for k, v := range interceptorDefaults[class] {
		if v != "" {
			in.Attrs[k] = v
		}
	}
	return in
}

func defaultInterceptors() []*Interceptor {
	return []*Interceptor{newInterceptor("MessageDispatchInterceptor"), newInterceptor("TcpFailureDetector")}
}
