// Package ajp is the wire codec of the Apache JServ Protocol 1.3 (AJP13),
// the protocol Apache httpd's mod_jk and mod_proxy_ajp speak to a servlet
// container (Tomcat's org.apache.coyote.ajp). It is pure: no sockets, no
// goroutines; runtime/host's AJP connector drives it.
//
// Framing (frame.go): a packet from the web server (httpd) starts with the
// magic 0x12 0x34, one from the container with 'A' 'B'; then a big-endian
// 16-bit payload length and the payload. A packet never exceeds the
// negotiated packetSize (8192 by default, up to 65536, header included).
// ReadFrame refuses a bad magic (ErrBadMagic), a length past the buffer
// (ErrTooLarge) and a short read (ErrTruncated); it never allocates more
// than the caller's buffer.
//
// Messages (message.go): the first payload byte is the prefix code (Kind).
// Web server → container: ForwardRequest (2), Shutdown (7), Ping (8),
// CPing (10), and prefix-less request body packets (BodyChunk). Container
// → web server: SendBodyChunk (3), SendHeaders (4), EndResponse (5),
// GetBodyChunk (6), CPong (9). Strings are a 16-bit length, the bytes and a
// NUL (0xFFFF = null string). Request header names, response header names,
// methods and request attributes have numeric codes (codes.go, append
// only: they are the protocol's). Every decoder returns an error wrapping
// ErrMalformed for bytes that do not parse, never panics (FuzzDecode).
//
// Reference: https://tomcat.apache.org/connectors-doc/ajp/ajpv13a.html and
// Tomcat's AjpProcessor, whose encoding this package follows byte for byte
// (the reason phrase is always sent; a body chunk ends with a NUL).
package ajp
