// Package balancertest has test helpers for the balancer and for anyone
// benchmarking a front end: a fake Gomcat node (sticky JSESSIONID cookies
// with a ".name" route, a session store the fake nodes share as if
// replicated, JvmRouteBinderValve-style route rebinding) and a small
// closed-loop load generator reporting requests/s and p50/p99 latency.
//
// No goroutines outlive a call: Load returns when its workers are done.
package balancertest
