package balancer

import (
	"net"
	"net/http/httputil"
	"strings"
)

// rewrite prepares the outbound request (httputil.ReverseProxy Rewrite): the
// proxy has already dropped hop-by-hop headers and any client-sent
// X-Forwarded-*/Forwarded; the node URL is set per attempt by roundTrip.
// The Host header is passed through unchanged.
//
// It sets what ProxyRequest.SetXForwarded sets (X-Forwarded-For with the
// client IP appended to trusted prior values, X-Forwarded-Host,
// X-Forwarded-Proto) plus an RFC 7239 Forwarded element, with the header
// values sharing one backing array.
func (b *Balancer) rewrite(pr *httputil.ProxyRequest) {
	in, h := pr.In, pr.Out.Header
	var priorXFF, priorFwd []string
	if b.cfg.TrustForwarded {
		priorXFF, priorFwd = in.Header["X-Forwarded-For"], in.Header["Forwarded"]
	}
	proto := "http"
	if in.TLS != nil {
		proto = "https"
	}
	vals := make([]string, 4, 4+len(priorFwd))
	clientIP, _, err := net.SplitHostPort(in.RemoteAddr)
	if err == nil {
		if len(priorXFF) > 0 {
			clientIP = strings.Join(priorXFF, ", ") + ", " + clientIP
		}
		vals[0] = clientIP
		h["X-Forwarded-For"] = vals[0:1:1]
	} else {
		delete(h, "X-Forwarded-For")
	}
	vals[1], vals[2] = in.Host, proto
	h["X-Forwarded-Host"] = vals[1:2:2]
	h["X-Forwarded-Proto"] = vals[2:3:3]
	vals[3] = forwardedElement(in.RemoteAddr, in.Host, proto)
	if len(priorFwd) > 0 {
		h["Forwarded"] = append(append(vals[4:4], priorFwd...), vals[3])
	} else {
		h["Forwarded"] = vals[3:4:4]
	}
}

// forwardedElement builds an RFC 7239 element: for=…;host=…;proto=….
func forwardedElement(remoteAddr, host, proto string) string {
	ip, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		ip = remoteAddr
	}
	var sb strings.Builder
	sb.Grow(len("for=\"[]\";host=\"\";proto=https") + 2*len(ip) + 2*len(host))
	sb.WriteString("for=")
	if strings.Contains(ip, ":") {
		sb.WriteString(`"[`)
		sb.WriteString(ip)
		sb.WriteString(`]"`)
	} else {
		writeForwardedValue(&sb, ip)
	}
	if host != "" {
		sb.WriteString(";host=")
		writeForwardedValue(&sb, host)
	}
	sb.WriteString(";proto=")
	sb.WriteString(proto)
	return sb.String()
}

// writeForwardedValue writes v as an RFC 7230 token, or quoted (with \ and "
// escaped) when it is not one.
func writeForwardedValue(sb *strings.Builder, v string) {
	if isToken(v) {
		sb.WriteString(v)
		return
	}
	sb.WriteByte('"')
	for i := 0; i < len(v); i++ {
		if c := v[i]; c == '\\' || c == '"' {
			sb.WriteByte('\\')
		}
		sb.WriteByte(v[i])
	}
	sb.WriteByte('"')
}

func isToken(v string) bool {
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}
