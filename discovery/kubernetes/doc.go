// Package kubernetes is a discovery.Provider that lists the pods of a
// namespace from the Kubernetes API, as Tomcat's KubernetesMembershipProvider
// does: GET /api/v1/namespaces/NS/pods?labelSelector=SEL over HTTPS with the
// service account's bearer token and CA. Every pod in phase Running with a
// pod IP (IPv4 or IPv6; every entry of status.podIPs on dual-stack clusters)
// is a target; whether it is a member is decided by the membership's hello.
//
// FromEnv reads Tomcat's environment variables (KUBERNETES_NAMESPACE,
// KUBERNETES_LABELS, KUBERNETES_SERVICE_HOST/PORT, … and their
// OPENSHIFT_KUBE_PING_ variants). The token file is re-read on every
// request, so a rotated (projected) token is picked up without a restart.
//
// Why not client-go: one GET and five fields of its answer need net/http and
// encoding/json only; client-go would add ~40 modules, its own logging and a
// cache (informers) the membership's refresh loop already provides.
//
// Bounds: the answer's body is read up to Config.MaxBody bytes (an oversized
// answer is refused and counted in Stats), the exchange within
// ConnectTimeout + ReadTimeout. After a failure the provider backs off
// (RetryMin doubling up to RetryMax): Targets returns ErrBackoff with the
// last failure without asking the API again until the back-off has passed.
//
// Goroutines: none of its own (net/http's idle connections are closed by
// Close). Provider is safe for concurrent use; one mutex guards the back-off
// state.
package kubernetes
