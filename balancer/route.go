package balancer

import (
	"net/http"
	"strings"
)

// RouteOf returns the route of a session id: everything after the FIRST dot,
// as Tomcat and mod_proxy_balancer read it ("5B4C….node1" → "node1",
// "ABC.a.b" → "a.b"). An id without a dot has no route ("").
func RouteOf(sessionID string) string {
	if i := strings.IndexByte(sessionID, '.'); i >= 0 {
		return sessionID[i+1:]
	}
	return ""
}

// sessionRoutes appends to dst the routes named by r's session ids, in the
// order the balancer tries them: every cookie called cookie (in header order),
// then the path parameter (";jsessionid=ID.route"). Empty routes are skipped.
func sessionRoutes(dst []string, r *http.Request, cookie, param string) []string {
	for _, line := range r.Header["Cookie"] {
		dst = cookieRoutes(dst, line, cookie)
	}
	if id := pathParam(r.URL.EscapedPath(), param); id != "" {
		if rt := RouteOf(id); rt != "" {
			dst = append(dst, rt)
		}
	}
	return dst
}

// cookieRoutes scans one Cookie header line ("a=1; JSESSIONID=X.node1") without allocating.
func cookieRoutes(dst []string, line, name string) []string {
	for len(line) > 0 {
		var part string
		if i := strings.IndexByte(line, ';'); i >= 0 {
			part, line = line[:i], line[i+1:]
		} else {
			part, line = line, ""
		}
		part = strings.TrimSpace(part)
		k, v, ok := strings.Cut(part, "=")
		if !ok || strings.TrimSpace(k) != name {
			continue
		}
		v = strings.Trim(strings.TrimSpace(v), `"`)
		if rt := RouteOf(v); rt != "" {
			dst = append(dst, rt)
		}
	}
	return dst
}

// pathParam finds ";name=value" in an escaped path and returns value, which
// ends at the next ';', '/' (Tomcat's path parameter syntax) or the path's end.
func pathParam(path, name string) string {
	for {
		i := strings.IndexByte(path, ';')
		if i < 0 {
			return ""
		}
		path = path[i+1:]
		if strings.HasPrefix(path, name) && len(path) > len(name) && path[len(name)] == '=' {
			v := path[len(name)+1:]
			if j := strings.IndexAny(v, ";/"); j >= 0 {
				v = v[:j]
			}
			return v
		}
	}
}
