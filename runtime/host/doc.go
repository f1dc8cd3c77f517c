// Package host runs web applications: Tomcat's Engine, Host, Context and
// Connector, the app registry, bundles (.gar) and the cluster valves.
//
// Main types: Host (contexts routed by the longest context path, "/" last;
// Deploy, Undeploy, Redeploy at run time; AppBase bundle deployment),
// Engine (routes by the Host header), Connector (one http.Server per port),
// AJPConnector (AJP/1.3 for httpd's mod_jk and mod_proxy_ajp; the codec is
// package ajp; secret and loopback by default, Tomcat's since 2020).
// Apps are http.Handlers built by a Factory registered by name (Register),
// like database/sql drivers. An app sees request paths with its context
// path removed (Tomcat's getPathInfo, not getRequestURI: "/shop/cart" →
// "/cart"); AppContext.Path and Link give it the prefix back. A context
// with no app serves its docBase as static files (StaticHandler).
//
// Pipeline of a context: session.Middleware → JvmRouteBinderValve →
// ReplicationValve → strip prefix → app; the valves only for distributable
// contexts, and only when Config.Valves asks for them (a Cluster exists).
//
// Order: the node starts Hosts (contexts and session managers) before the
// Connectors and stops Connectors (graceful http.Server.Shutdown) before
// the Hosts, so no request reaches a stopped context.
//
// Goroutines: a Connector serves on one goroutine (plus net/http's per
// connection) from Start until Stop. An AJPConnector runs one accept loop
// and one goroutine per connection (requests run on it, in order); Stop
// closes idle connections, drains busy ones, then closes the rest. A Host with AutoDeploy runs one AppBase
// poller from Start until Stop. Deploy and friends run on the caller's
// goroutine. Lock order: Host.watch.mu before Host.mu.
//
// Connector limits (limits.go): maxConnections, maxHeaderCount, body read
// timeout and minimum rate; small bodies are read before a maxThreads slot.
//
// Log lines keep Tomcat's wording: "Deploying web application archive
// [...]", "Deployment of ... has finished in [N] ms", "Undeploying context
// [/shop]", "Starting ProtocolHandler [...]".
package host
