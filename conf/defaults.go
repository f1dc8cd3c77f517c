package conf

import "time"

// Every default value of the model lives in this file. Tomcat's values
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

func newServer() *Server {
	return &Server{Node: Node{Element: "Server"}, Port: DefaultShutdownPort,
		Address: DefaultShutdownAddress, Shutdown: DefaultShutdownCommand}
}

func newService() *Service {
	return &Service{Node: Node{Element: "Service"}, Name: DefaultServiceName}
}

func newConnector() *Connector {
	return &Connector{
		Node:                    Node{Element: "Connector"},
		Port:                    DefaultHTTPPort,
		Protocol:                "HTTP/1.1",
		ConnectionTimeout:       20000 * time.Millisecond,
		KeepAliveTimeout:        20000 * time.Millisecond, // follows ConnectionTimeout unless set
		MaxThreads:              200,
		MaxHTTPHeaderSize:       8192,
		Scheme:                  "http",
		MaxHeaderCount:          100,
		MaxConnections:          8192,
		DisableUploadTimeout:    true,
		ConnectionUploadTimeout: 300000 * time.Millisecond,
		MinUploadRate:           240,
	}
}

func newEngine() *Engine {
	return &Engine{Node: Node{Element: "Engine"}, Name: DefaultEngineName, DefaultHost: DefaultHostName}
}

func newHost() *Host {
	return &Host{Node: Node{Element: "Host"}, Name: DefaultHostName, AppBase: DefaultAppBase,
		AutoDeploy: true, UnpackWARs: true}
}

func newContext() *Context {
	return &Context{Node: Node{Element: "Context"}, SessionTimeout: DefaultSessionTimeout}
}

func newCluster() *Cluster {
	return &Cluster{
		Node:                Node{Element: "Cluster"},
		ClassName:           "SimpleTcpCluster",
		ChannelSendOptions:  DefaultSendOptions,
		ChannelStartOptions: DefaultStartOptions,
		Manager: Manager{
			Node:                                Node{Element: "Manager"},
			ClassName:                           "DeltaManager",
			StateTransferTimeout:                60 * time.Second,
			StateTransferSeniorTimeout:          10 * time.Second,
			SendAllSessions:                     true,
			SendAllSessionsSize:                 1000,
			SendAllSessionsWaitTime:             2000 * time.Millisecond,
			StateTimestampDrop:                  true,
			NotifyListenersOnReplication:        true,
			NotifySessionListenersOnReplication: true,
			MaxActiveSessions:                   -1,
			MaxSessionSize:                      DefaultMaxSessionSize,
			ProcessExpiresFrequency:             6,
		},
		Membership: Membership{
			Node:              Node{Element: "Membership"},
			ClassName:         McastService,
			Address:           DefaultMcastAddress,
			Port:              DefaultMcastPort,
			Frequency:         DefaultMcastFrequency,
			DropTime:          DefaultMcastDropTime,
			TTL:               -1,
			RecoveryEnabled:   true,
			RecoveryCounter:   10,
			RecoverySleepTime: 5000 * time.Millisecond,
			SoTimeout:         DefaultMcastFrequency, // follows Frequency unless set
			EstablishWait:     0,                     // the fast join; Tomcat's sleep when set
			ConnectTimeout:    500 * time.Millisecond,
			ExpirationTime:    5000 * time.Millisecond,
			RPCTimeout:        3000 * time.Millisecond,
		},
		Receiver: Receiver{
			Node:            Node{Element: "Receiver"},
			ClassName:       "NioReceiver",
			Address:         "auto",
			Port:            DefaultReceiverPort,
			AutoBind:        DefaultReceiverAuto,
			SelectorTimeout: 5000 * time.Millisecond,
			MaxThreads:      15,
			MinThreads:      6,
			Timeout:         3000 * time.Millisecond,
			MaxFrameSize:    DefaultMaxFrameSize,
		},
		Sender: Sender{
			Node:      Node{Element: "Sender"},
			ClassName: "ReplicationTransmitter",
			Transport: Transport{
				Node:             Node{Element: "Transport"},
				ClassName:        "PooledParallelSender",
				Timeout:          3000 * time.Millisecond,
				MaxRetryAttempts: 1,
				PoolSize:         25,
				MaxWait:          3000 * time.Millisecond,
				KeepAliveCount:   -1,
				KeepAliveTime:    -1,
				QueueBytes:       DefaultQueueBytes,
			},
		},
	}
}

func newReplicationValve() *ReplicationValve {
	return &ReplicationValve{Node: Node{Element: "Valve"}, PrimaryIndicatorName: DefaultPrimaryAttr}
}

func newJvmRouteBinderValve() *JvmRouteBinderValve {
	return &JvmRouteBinderValve{Node: Node{Element: "Valve"}, Enabled: true}
}

func newDeployer() *Deployer {
	return &Deployer{
		Node:                   Node{Element: "Deployer"},
		ClassName:              "FarmWarDeployer",
		TempDir:                DefaultFarmTempDir,
		ProcessDeployFrequency: 2,
		MaxValidTime:           300 * time.Second,
		MaxBundleSize:          DefaultMaxBundleSize,
	}
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
