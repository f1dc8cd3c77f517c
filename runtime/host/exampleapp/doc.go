// Package exampleapp is the stock example application of the gomcat
// binary, registered with the host as "example". Every walkthrough and
// end-to-end test drives it:
//
//	/                    HTML: node, session id, attributes (escaped)
//	/set?k=K&v=V         sets attribute K to the string V; "ok <session id>"
//	/get?k=K             the value, or 404 "missing"
//	/count               live sessions of this context on this node
//	/invalidate          invalidates the session; "ok"
//	/renew               changes the session id; replies the new id
//	/slow?ms=N           sleeps N ms (at most 60000), then "slept N ms"
//	/cart/add?item=X     appends X to the session's Cart; the cart as JSON
//	/cart                the Cart as JSON (decoded with session.GetAs)
//	/node                this node's jvmRoute
//	/echo                the request body's length and SHA-256 ("<n> <hex>")
//	/bytes?n=N           N bytes of "0123456789abcdef" repeated (a large response)
//
// A session that cannot be created because the manager is full answers
// 503. The package starts no goroutines.
package exampleapp
