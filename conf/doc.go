// Package conf reads a Gomcat node's configuration: Tomcat's server.xml
// shape (Server, Service, Connector, Engine, Host, Context, Cluster with
// Manager, Channel, Membership, Receiver, Sender, Interceptor, Valve,
// Deployer, ClusterListener) and the context descriptors
// conf/<Engine>/<Host>/*.xml.
//
// The main type is Server, a tree of plain structs with every default
// filled in. Each element has ONE declarative spec (specs.go: attribute,
// Tomcat 5.5 aliases, model field, unit, default, range, doc line) that
// drives parsing, defaults, range checks, configtest's description
// (Describe) and the reference docs/config.md (Reference; go generate
// ./conf rewrites it, TestReference fails when it is stale). To add an
// attribute: the model field, then one attrSpec line in specs.go (and a
// rule in validate.go only if it spans attributes); then go generate ./conf. Each element embeds Node, which
// remembers the file and line of the element and of each attribute, so a
// problem reads "server.xml:42: element <Membership> attribute address:
// "192.0.2.1" is not an IPv4 multicast address (…)".
//
// Flow: Load (or Parse) → Apply(OverridesFromEnv) → Apply(flags) →
// Validate. Load and Parse collect every problem they can find while
// reading (a value that is not a number, an unsupported className) and
// warnings for what Gomcat ignores (Listeners, Realms, JNDI, access-log
// valves, Tomcat-only attributes); Validate checks
// the finished model (ranges, jvmRoute, multicast group, key, ports used
// twice, duplicate context paths). Both report *Error values joined with
// errors.Join.
//
// Compatibility: className accepts Tomcat 6+ names
// (org.apache.catalina.ha.*, org.apache.catalina.tribes.*), Tomcat 5.5
// names (org.apache.catalina.cluster.*) with 5.5's attribute names
// (mcastAddr, tcpListenPort, replicationMode, managerClassName, …, and
// 5.5's "manager."/"service."/"receiver."/"sender."/"valve." prefixed Cluster
// attributes) and short names (SimpleTcpCluster). A bare Cluster of either
// generation expands to Tomcat 6+'s defaults (DefaultCluster), not to 5.5's
// "default mode" ports. Tomcat 5.5's replicationMode becomes
// channelSendOptions: asynchronous/fastasyncqueue → 8; pooled/synchronous →
// 6 with waitForAck="true", else 2. A 5.5 ReplicationValve filter
// (";"-separated) becomes one Go regular expression. Gomcat extensions
// (Tomcat would only warn about them): Cluster key, Context app, a
// Context's <Manager className="gomcat.RedisManager"> (sessions in Redis),
// Manager maxSessionSize, Membership establishWait, Receiver maxFrameSize,
// Transport queueBytes, Deployer maxBundleSize.
//
// Template renders "gomcat init"'s commented server.xml (defaults/, embedded):
// cluster on, multicast bound to loopback with TTL 0. A Deployer in an
// Engine's Cluster serves the defaultHost. No goroutines; imports nothing of ours.
package conf
