// Package balancer is Gomcat's sticky front-end load balancer and the
// generator of equivalent HAProxy, nginx, Apache httpd and keepalived configs.
//
// Routing: the route is read from the JSESSIONID cookie ("<id>.<route>";
// with several cookies the first whose route names a live node wins) or the
// ";jsessionid=" path parameter; the route is everything after the FIRST dot,
// as in Tomcat. A live node whose name (jvmRoute) equals the route gets the
// request; otherwise the live node with the fewest outstanding requests (ties
// round robin). When the chosen node fails before answering, the request is
// sent once to another live node if it can be replayed: connect failures
// always, GET/HEAD/OPTIONS, and requests whose body was not read yet; others
// get 502. Cookies are never rewritten: after a failover the node's
// JvmRouteBinderValve gives the session its own route. NonSticky skips the
// route (for nodes sharing sessions through Redis): every request goes to
// the least busy live node.
//
// Node states: live; down (gone from discovery, failing active checks, or a
// refused/failed connect — passive health, cleared after Health.Rise probes);
// draining (said goodbye: in-flight requests finish, no new ones).
//
// Upstream: one http.Transport per node over guardConns: a framer follows
// each response, so bytes a node sends outside the response in flight (after
// it, or CL with TE) close the connection; and a node connection serves one
// client connection only (pins), so no such byte ever reaches another user.
// Node slots: QueueTimeout, then 503. Bodies: internal/bodylimit. Heard
// nodes are health-checked before routing unless TrustDiscovery.
//
// Main type: Balancer (New, Start, Stop, Handler, AdminHandler: /metrics,
// HTML /status). Discovery: Static (checked) or Membership (heartbeats).
// Generate writes haproxy/nginx/httpd/keepalived configs, GenerateModJK
// httpd + mod_jk's pair and GenerateHTTPDAJP httpd over mod_proxy_ajp: each
// checks its nodes and options in Go, then renders a text/template embedded
// from lbconfig/ (haproxy.cfg, nginx.conf, httpd.conf, keepalived.conf,
// modjk-httpd.conf, workers.properties, httpd-ajp.conf; the httpd head the
// three httpd files share is the "httpd-head" block of httpd-head.tmpl),
// parsed once at init. testdata/lbconfig holds their output for a matrix of
// option sets, byte for byte (go test -run Golden -update rewrites it).
//
// Goroutines, all started by Start and ended by Stop (which waits for them):
//   - the discovery loop (Discovery.Run), ended by cancelling its context;
//   - one checker per node (active checks, recovery probes), ended when the
//     node is replaced or by Stop;
//   - the proxy server and the admin server (http.Server.Serve), ended by
//     Shutdown/Close; Stop cancels the request base context last, which ends
//     proxied WebSockets still open.
//
// Locks: Balancer.mu, pool.mu and node.mu are never held together except
// pool.mu → node.live (atomic), so there is no lock order to keep.
package balancer
