// Package admin is a node's admin listener: Prometheus metrics (/metrics),
// health (/livez, /readyz), an HTML status page (/, /status; JSON with
// ?format=json or Accept: application/json) and a session manager in the
// shape of Tomcat's Manager app (/manager/text/list, /manager/text/sessions,
// /manager/text/expire, and the same under /manager/json/).
//
// Main type: Server (New, Start, Stop, Addr, Handler). It reads everything
// through the Source it is given (runtime/node implements it) and the
// prometheus.Gatherer of Config; the collectors in metrics_*.go turn the
// counters other packages already keep (cluster.Stats, mcast.Stats,
// transport peer stats, deltamgr.Stats, farmdeploy.Stats) into metrics at
// scrape time, so the hot paths pay nothing for them. The two histograms
// that need an observation per event are HTTPMetrics (one per request) and
// AckTimer (one per waited-for replication send).
//
// Security: the listener binds 127.0.0.1 by default. Bound elsewhere it
// requires Config.Token (Validate refuses otherwise); then every request
// but /livez and /readyz must present it as "Authorization: Bearer TOKEN"
// or as the password of HTTP Basic. Session ids are shown (the manager
// needs them to expire one); attribute values never are, only sizes.
//
// Goroutines: Start runs one http.Server.Serve; Stop shuts it down (and
// waits for it). Nothing else.
package admin
