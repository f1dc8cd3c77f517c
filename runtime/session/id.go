package session

import (
	"crypto/rand"
	"strings"
)

// idBytes is the number of random bytes in a session id (Tomcat
// sessionIdLength default): 128 bits, rendered as 32 upper-case hex chars.
const idBytes = 16

const upperHex = "0123456789ABCDEF"

// NewID returns a fresh session id: 16 bytes from crypto/rand as 32
// upper-case hex characters, then "." + route when route is not empty
// (Tomcat: "5F1E…9A.node01"). Safe for concurrent use.
func NewID(route string) string {
	var r [idBytes]byte
	rand.Read(r[:]) // never fails (crypto/rand crashes the program instead)
	n := 2 * idBytes
	if route != "" {
		n += 1 + len(route)
	}
	b := make([]byte, 2*idBytes, n)
	for i, c := range r {
		b[2*i] = upperHex[c>>4]
		b[2*i+1] = upperHex[c&0x0f]
	}
	if route != "" {
		b = append(b, '.')
		b = append(b, route...)
	}
	return string(b)
}

// SplitID splits an id at its first dot, as Tomcat's JvmRouteBinderValve
// does: "ABC.node1" → ("ABC", "node1"). An id without a dot, or with a dot
// at index 0, has no route.
func SplitID(id string) (base, route string) {
	if i := strings.IndexByte(id, '.'); i > 0 {
		return id[:i], id[i+1:]
	}
	return id, ""
}

// ValidRoute reports whether name can be a jvmRoute: non-empty and only
// [A-Za-z0-9_-], so it survives cookies, URLs and every load balancer's
// sticky-route parser.
func ValidRoute(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}
