// Package bodylimit bounds how an HTTP server reads request bodies, so that
// slow clients cannot hold a server's scarce resources: each read of a body
// has a timeout (Tomcat's connectionUploadTimeout), the body as a whole must
// keep a minimum average rate once a grace period has passed, and a small
// body is read in full (Buffer) before the handler takes a worker slot or a
// node connection.
//
// Main entry: Wrap(w, r, cfg), called by a handler before it takes the slot.
// Deadlines are set on the connection with http.ResponseController.
//
// Used by runtime/host's connectors and by the balancer. It starts no
// goroutines and keeps no state beyond the request.
package bodylimit
