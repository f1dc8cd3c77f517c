package session

import (
	"net/http"
	"strings"
)

// CookieConfig describes the session cookie. Start from DefaultCookieConfig:
// the zero value has HttpOnly false.
type CookieConfig struct {
	// Name of the cookie. Default: "JSESSIONID".
	Name string
	// Path is the context path ("/" for ROOT). Default: "/".
	Path string
	// Domain; "" = host-only (default).
	Domain string
	// HttpOnly hides the cookie from scripts. Default: true.
	HttpOnly bool
	// SameSite. Default: http.SameSiteLaxMode.
	SameSite http.SameSite
	// Secure forces the Secure attribute. Without it, Secure is set when the
	// request came over TLS or with "X-Forwarded-Proto: https".
	Secure bool
	// PathParam is the URL path parameter read as a session id
	// (";jsessionid=ID") and stripped from the path. Default: "jsessionid".
	PathParam string
}

// DefaultCookieConfig returns the Tomcat-like cookie for a context path.
func DefaultCookieConfig(contextPath string) CookieConfig {
	return CookieConfig{
		Name:      "JSESSIONID",
		Path:      contextPath,
		HttpOnly:  true,
		SameSite:  http.SameSiteLaxMode,
		PathParam: "jsessionid",
	}.withDefaults()
}

func (c CookieConfig) withDefaults() CookieConfig {
	if c.Name == "" {
		c.Name = "JSESSIONID"
	}
	if c.Path == "" {
		c.Path = "/"
	}
	if c.SameSite == 0 {
		c.SameSite = http.SameSiteLaxMode
	}
	if c.PathParam == "" {
		c.PathParam = "jsessionid"
	}
	return c
}

// cookie returns the Set-Cookie value for id; id "" deletes the cookie.
func (c CookieConfig) cookie(id string, secure bool) string {
	k := &http.Cookie{
		Name:     c.Name,
		Value:    id,
		Path:     c.Path,
		Domain:   c.Domain,
		HttpOnly: c.HttpOnly,
		SameSite: c.SameSite,
		Secure:   c.Secure || secure,
	}
	if id == "" {
		k.MaxAge = -1 // "Max-Age=0"
	}
	return k.String()
}

// secureRequest reports whether the client sees https.
func secureRequest(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	p := r.Header.Get("X-Forwarded-Proto")
	if i := strings.IndexByte(p, ','); i >= 0 {
		p = p[:i] // first hop: the client's
	}
	return strings.EqualFold(strings.TrimSpace(p), "https")
}

// stripPathParam removes every ";name=value" path parameter from p (up to
// the next ';', '/' or '?') and returns the first value.
func stripPathParam(p, name string) (string, string) {
	key := ";" + name + "="
	var value string
	found := false
	for {
		i := strings.Index(p, key)
		if i < 0 {
			return p, value
		}
		start := i + len(key)
		end := len(p)
		if j := strings.IndexAny(p[start:], ";/?"); j >= 0 {
			end = start + j
		}
		if !found {
			value, found = p[start:end], true
		}
		p = p[:i] + p[end:]
	}
}
