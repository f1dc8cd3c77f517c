package conf

import (
	"slices"
	"strings"
)

// A className is accepted in three spellings: Tomcat 6+'s full name, Tomcat
// 5.5's full name (org.apache.catalina.cluster.*) and the short name. The
// model always holds the short name.
type class struct {
	short string
	full  []string
}

const (
	ha     = "org.apache.catalina.ha."
	tribes = "org.apache.catalina.tribes."
	tc55   = "org.apache.catalina.cluster."
	icpt   = tribes + "group.interceptors."
)

var (
	clusterClasses = []class{{"SimpleTcpCluster", []string{ha + "tcp.SimpleTcpCluster", tc55 + "tcp.SimpleTcpCluster"}}}
	managerClasses = []class{
		{DeltaManager, []string{ha + "session.DeltaManager", tc55 + "session.DeltaManager"}},
		{BackupManager, []string{ha + "session.BackupManager"}},
	}
	channelClasses = []class{{"GroupChannel", []string{tribes + "group.GroupChannel"}}}
	memberClasses  = []class{
		{McastService, []string{tribes + "membership.McastService", tc55 + "mcast.McastService"}},
		{StaticMembershipService, []string{tribes + "membership.StaticMembershipService"}},
		{CloudMembershipService, []string{tribes + "membership.cloud.CloudMembershipService"}},
	}
	staticMemberClasses = []class{{"StaticMember", []string{tribes + "membership.StaticMember"}}}
	receiverClasses     = []class{{"NioReceiver", []string{tribes + "transport.nio.NioReceiver",
		tribes + "transport.bio.BioReceiver", tc55 + "tcp.ReplicationListener", tc55 + "tcp.SocketReplicationListener"}}}
	senderClasses    = []class{{"ReplicationTransmitter", []string{tribes + "transport.ReplicationTransmitter", tc55 + "tcp.ReplicationTransmitter"}}}
	transportClasses = []class{{"PooledParallelSender", []string{tribes + "transport.nio.PooledParallelSender",
		tribes + "transport.bio.PooledMultiSender"}}}
	valveClasses = []class{
		{"ReplicationValve", []string{ha + "tcp.ReplicationValve", tc55 + "tcp.ReplicationValve"}},
		{"JvmRouteBinderValve", []string{ha + "session.JvmRouteBinderValve", tc55 + "session.JvmRouteBinderValve"}},
	}
	deployerClasses = []class{{"FarmWarDeployer", []string{ha + "deploy.FarmWarDeployer", tc55 + "deploy.FarmWarDeployer"}}}
	listenerClasses = []class{
		{"ClusterSessionListener", []string{ha + "session.ClusterSessionListener", tc55 + "session.ClusterSessionListener"}},
		{"JvmRouteSessionIDBinderListener", []string{ha + "session.JvmRouteSessionIDBinderListener", tc55 + "session.JvmRouteSessionIDBinderListener"}},
	}
	interceptorClasses = []class{
		{"MessageDispatchInterceptor", []string{icpt + "MessageDispatchInterceptor", icpt + "MessageDispatch15Interceptor"}},
		{"TcpFailureDetector", []string{icpt + "TcpFailureDetector"}},
		{"TcpPingInterceptor", []string{icpt + "TcpPingInterceptor"}},
		{"EncryptInterceptor", []string{icpt + "EncryptInterceptor"}},
		{"DomainFilterInterceptor", []string{icpt + "DomainFilterInterceptor"}},
		{"StaticMembershipInterceptor", []string{icpt + "StaticMembershipInterceptor"}},
		{"ThroughputInterceptor", []string{icpt + "ThroughputInterceptor"}},
	}
)

// interceptorsNotNeeded are Tribes interceptors whose job Gomcat's transport
// already does (or that Tomcat itself says are not for session
// replication): accepted with a warning and dropped.
var interceptorsNotNeeded = map[string]string{
	"FragmentationInterceptor":  "Gomcat frames carry messages up to the Receiver's maxFrameSize",
	"GzipInterceptor":           "Gomcat does not compress cluster messages",
	"OrderInterceptor":          "Gomcat delivers each sender's messages in order",
	"TwoPhaseCommitInterceptor": "not used for session replication",
	"NonBlockingCoordinator":    "not used for session replication",
	"SimpleCoordinator":         "not used for session replication",
}

// resolve maps a className to its short name. The second result is false
// when the name is not one of classes.
func resolve(classes []class, name string) (string, bool) {
	name = strings.TrimSpace(name)
	for _, c := range classes {
		if name == c.short || slices.Contains(c.full, name) {
			return c.short, true
		}
	}
	return "", false
}

// shortName is the last dotted component of a Java class name.
func shortName(name string) string {
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		return name[i+1:]
	}
	return name
}

// supported lists the accepted names for a message: "A, B (or their
// org.apache.catalina.… full names)".
func supported(classes []class) string {
	var names []string
	for _, c := range classes {
		names = append(names, c.short)
	}
	return strings.Join(names, ", ") + " (short or full Tomcat 6+/5.5 class names)"
}
