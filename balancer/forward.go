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
func (b *Balancer) rewrite(pr *httputil.ProxyRequest) {
	if b.cfg.TrustForwarded {
		if v := pr.In.Header["X-Forwarded-For"]; v != nil {
			pr.Out.Header["X-Forwarded-For"] = v
		}
		if v := pr.In.Header["Forwarded"]; v != nil {
			pr.Out.Header["Forwarded"] = v
		}
	}
	pr.SetXForwarded()
	pr.Out.Header.Add("Forwarded", forwardedElement(pr))
}

// forwardedElement builds an RFC 7239 element: for=…;host=…;proto=….
func forwardedElement(pr *httputil.ProxyRequest) string {
	var sb strings.Builder
	host, _, err := net.SplitHostPort(pr.In.RemoteAddr)
	if err != nil {
		host = pr.In.RemoteAddr
	}
	sb.WriteString("for=")
	if strings.Contains(host, ":") {
		sb.WriteString(`"[` + host + `]"`)
	} else {
		sb.WriteString(forwardedValue(host))
	}
	if pr.In.Host != "" {
		sb.WriteString(";host=")
		sb.WriteString(forwardedValue(pr.In.Host))
	}
	sb.WriteString(";proto=")
	if pr.In.TLS != nil {
		sb.WriteString("https")
	} else {
		sb.WriteString("http")
	}
	return sb.String()
}

var quoteEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`)

// forwardedValue returns v as an RFC 7230 token, or quoted when it is not one.
func forwardedValue(v string) string {
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return `"` + quoteEscaper.Replace(v) + `"`
		}
	}
	return v
}
