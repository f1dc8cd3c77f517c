// Package dns is a discovery.Provider that finds a cluster's members in DNS,
// as Tomcat's DNSMembershipProvider does: every refresh resolves one name and
// each address it answers is a target. Whether a target is a member is
// decided by the membership's hello, never by DNS.
//
// Two kinds of name:
//   - a plain name ("gomcat.default.svc.cluster.local", a Kubernetes headless
//     service): its A and AAAA records; the targets carry no port, so the
//     cluster's own receiver port is used (Tomcat's rule);
//   - an SRV name ("_gomcat._tcp.example.internal"): each SRV record's target
//     host resolved to A/AAAA, with the record's port.
//
// Resolution uses the standard library's resolver. Config.Server sends the
// queries to one DNS server (UDP, TCP when an answer is truncated) instead of
// the system's /etc/resolv.conf; the tests and the end-to-end suite point it
// at a dnsmasq they start. No DNS message is parsed here, so there is no
// decoder of our own to fuzz; the name is validated before use.
//
// Bounds: a lookup is bounded by Config.Timeout (Tomcat's connectTimeout +
// readTimeout); an SRV answer contributes at most MaxTargets targets.
//
// Goroutines: none of its own. Provider is safe for concurrent use.
package dns
