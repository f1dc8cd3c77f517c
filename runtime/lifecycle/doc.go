// Package lifecycle is the one lifecycle every component uses: Runner for a
// component's own state and goroutines, Group to start components in order
// and stop them in reverse, as Tomcat's LifecycleBase does for Server,
// Service, Engine, Host, Context and Connector.
//
// Runner (runner.go): New → Starting (Begin) → Running (Ready) → Stopped
// (End, final; Abort takes a failed Start back to New). Its lifetime
// context, created on first use, ends at End; Go runs a goroutine the
// runner owns under it; Wait waits for them within a ctx (Wait(ctx, wg) is
// the one wait-with-ctx). State is lock-free, the runner's lock a leaf, so
// a component calls Begin/Ready/End under its own mutex and reads State on
// its hot paths. Used by deltamgr.Manager, cluster.Cluster, mcast.Service
// and Static, farmdeploy.Deployer and session.LocalManager.
//
// Group rules:
//   - Start runs the steps one after the other; if one fails, the ones
//     already started are stopped in reverse order and the error is returned.
//   - Stop runs in reverse start order, keeps going past failures, returns the
//     errors joined, and is idempotent: a second Stop does nothing.
//   - Stop during Start cancels Start's ctx, waits (within Stop's ctx) for
//     the step in flight and stops it too; if Stop's ctx ends first, Start
//     stops that step when it returns. Nothing started is left running.
//
// Neither starts goroutines of its own beyond those a component asks Go
// for; Wait starts one helper that ends with the goroutines it waits for.
package lifecycle
