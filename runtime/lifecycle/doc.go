// Package lifecycle starts a list of components in order and stops them in
// reverse order, as Tomcat's LifecycleBase does for Server, Service, Engine,
// Host, Context and Connector.
//
// The main type is Group. A Group starts no goroutines of its own; the
// components it holds own theirs and stop them in their Stop method.
//
// Rules:
//   - Start runs the components one after the other; if one fails, the ones
//     already started are stopped in reverse order and the error is returned.
//   - Stop runs in reverse start order, keeps going past failures, returns the
//     errors joined, and is idempotent: a second Stop does nothing.
package lifecycle
