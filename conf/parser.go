package conf

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// parser turns an elem tree into the model, collecting every problem.
type parser struct {
	errs  []error
	warns []Warning
}

func (p *parser) errorf(pos Pos, element, attr, f string, args ...any) {
	p.errs = append(p.errs, &Error{File: pos.File, Line: pos.Line, Element: element, Attr: attr, Msg: fmt.Sprintf(f, args...)})
}

func (p *parser) warnf(pos Pos, element, attr, f string, args ...any) {
	p.warns = append(p.warns, Warning{File: pos.File, Line: pos.Line, Element: element, Attr: attr, Msg: fmt.Sprintf(f, args...)})
}

// field sets one model value from an attribute. canon is the model's name
// for it (when the attribute is an alias such as 5.5's mcastAddr); set
// reports a problem itself and leaves the default in place.
type field struct {
	canon string
	set   func(p *parser, e *elem, a attr)
}

func (f field) as(canon string) field { f.canon = canon; return f }

type fields map[string]field

// inert names attributes Tomcat knows that have no effect in Gomcat, with
// the reason ("" for the generic one).
type inert map[string]string

// attrs applies every attribute of e through fs, marking what was set on
// n. className is the caller's business. Attributes in skip are ignored
// silently (handled elsewhere).
func (p *parser) attrs(e *elem, n *Node, fs fields, in inert, skip ...string) {
	for _, a := range e.attrs {
		if a.name == "className" || slices.Contains(skip, a.name) || strings.HasPrefix(a.name, "xmlns") {
			continue
		}
		if f, ok := fs[a.name]; ok {
			canon := f.canon
			if canon == "" {
				canon = a.name
			}
			n.mark(canon, a.pos, a.name)
			f.set(p, e, a)
			continue
		}
		p.unknownAttr(e, a, fs, in)
	}
}

func (p *parser) unknownAttr(e *elem, a attr, fs fields, in inert) {
	if reason, ok := in[a.name]; ok {
		if reason == "" {
			reason = "no effect in Gomcat"
		}
		p.warnf(a.pos, e.name, a.name, "ignored: %s", reason)
		return
	}
	for name := range fs {
		if strings.EqualFold(name, a.name) {
			p.warnf(a.pos, e.name, a.name, "unknown attribute, ignored (did you mean %s?)", name)
			return
		}
	}
	p.warnf(a.pos, e.name, a.name, "unknown attribute, ignored")
}

// Value decoders. Each reports "value … (what is allowed)".

func fStr(dst *string) field {
	return field{set: func(_ *parser, _ *elem, a attr) { *dst = strings.TrimSpace(a.value) }}
}

// fOneOf reads one of the allowed words (case-sensitive, as Tomcat's).
func fOneOf(dst *string, allowed ...string) field {
	return field{set: func(p *parser, e *elem, a attr) {
		v := strings.TrimSpace(a.value)
		if !slices.Contains(allowed, v) {
			p.errorf(a.pos, e.name, a.name, "%q is not allowed (%s)", a.value, strings.Join(allowed, " or "))
			return
		}
		*dst = v
	}}
}

// fList reads a comma list, dropping empty items.
func fList(dst *[]string) field {
	return field{set: func(_ *parser, _ *elem, a attr) {
		*dst = nil
		for _, s := range strings.Split(a.value, ",") {
			if s = strings.TrimSpace(s); s != "" {
				*dst = append(*dst, s)
			}
		}
	}}
}

func fInt(dst *int) field {
	return field{set: func(p *parser, e *elem, a attr) {
		if n, ok := p.int(e, a); ok {
			*dst = n
		}
	}}
}

func fInt64(dst *int64) field {
	return field{set: func(p *parser, e *elem, a attr) {
		n, err := strconv.ParseInt(strings.TrimSpace(a.value), 10, 64)
		if err != nil {
			p.errorf(a.pos, e.name, a.name, "%q is not a whole number", a.value)
			return
		}
		*dst = n
	}}
}

func fBool(dst *bool) field {
	return field{set: func(p *parser, e *elem, a attr) {
		if b, ok := p.bool(e, a); ok {
			*dst = b
		}
	}}
}

// fDur reads a whole number in unit (time.Millisecond, time.Second, …).
func fDur(dst *time.Duration, unit time.Duration) field {
	return field{set: func(p *parser, e *elem, a attr) {
		n, err := strconv.ParseInt(strings.TrimSpace(a.value), 10, 64)
		limit := int64(math.MaxInt64 / unit)
		if err != nil || n > limit || n < -limit {
			p.errorf(a.pos, e.name, a.name, "%q is not a whole number of %s", a.value, unitName(unit))
			return
		}
		*dst = time.Duration(n) * unit
	}}
}

func unitName(unit time.Duration) string {
	switch unit {
	case time.Millisecond:
		return "milliseconds"
	case time.Second:
		return "seconds"
	case time.Minute:
		return "minutes"
	}
	return unit.String()
}

func (p *parser) int(e *elem, a attr) (int, bool) {
	n, err := strconv.Atoi(strings.TrimSpace(a.value))
	if err != nil || n > 1<<40 || n < -(1<<40) {
		p.errorf(a.pos, e.name, a.name, "%q is not a whole number", a.value)
		return 0, false
	}
	return n, true
}

func (p *parser) bool(e *elem, a attr) (bool, bool) {
	switch strings.ToLower(strings.TrimSpace(a.value)) {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	p.errorf(a.pos, e.name, a.name, "%q is not a boolean (true or false)", a.value)
	return false, false
}

func (e *elem) attr(name string) (attr, bool) {
	for _, a := range e.attrs {
		if a.name == name {
			return a, true
		}
	}
	return attr{}, false
}

// className returns the element's className attribute.
func (e *elem) className() (string, Pos, bool) {
	a, ok := e.attr("className")
	if !ok {
		return "", e.pos, false
	}
	return strings.TrimSpace(a.value), a.pos, true
}

// ignoredElements explains the elements Gomcat accepts but does not use.
var ignoredElements = map[string]string{
	"Listener":              "lifecycle listeners are Java features with no meaning in Gomcat",
	"GlobalNamingResources": "Gomcat has no JNDI; configure resources in your Go application",
	"Resource":              "Gomcat has no JNDI; configure resources in your Go application",
	"ResourceLink":          "Gomcat has no JNDI; configure resources in your Go application",
	"Environment":           "Gomcat has no JNDI; configure resources in your Go application",
	"Realm":                 "Gomcat has no realms; authenticate in the application",
	"Executor":              "Gomcat serves each request on a goroutine; bound them with the Connector's maxThreads",
	"Alias":                 "host aliases are not supported; add another <Host>",
	"Manager":               "a context's sessions come from the <Cluster>'s Manager when it is distributable, else from Gomcat's local manager (a context's own <Manager> may be DeltaManager, BackupManager or gomcat.RedisManager)",
	"WatchedResource":       "Java web-application setting with no meaning for a Go application",
	"Loader":                "Java web-application setting with no meaning for a Go application",
	"JarScanner":            "Java web-application setting with no meaning for a Go application",
	"CookieProcessor":       "Gomcat writes RFC 6265 cookies itself",
	"Parameter":             "Java web-application setting with no meaning for a Go application",
	"Resources":             "Java web-application setting with no meaning for a Go application",
	"SessionIdGenerator":    "Gomcat session ids are 128 random bits from crypto/rand",
	"MembershipListener":    "custom Java listeners cannot run in Gomcat",
	"ChannelListener":       "custom Java listeners cannot run in Gomcat",
	"UpgradeProtocol":       "Go's net/http negotiates HTTP/2 on TLS connectors by itself",
	"Logger":                "Tomcat 5.5 loggers: Gomcat logs through its own logger (--log-format)",
	"DefaultContext":        "Tomcat 5.5 default contexts: write each <Context> (or descriptor) instead",
}

// ignore warns once for an element Gomcat does not use (its children are
// not looked at).
func (p *parser) ignore(e *elem) {
	reason, known := ignoredElements[e.name]
	what := e.name
	if cn, _, ok := e.className(); ok {
		what = shortName(cn)
	}
	switch {
	case e.name == "Valve":
		reason = valveReason(what)
	case !known:
		reason = "unknown element"
	}
	if what != e.name {
		p.warnf(e.pos, e.name, "", "%s ignored: %s", what, reason)
		return
	}
	p.warnf(e.pos, e.name, "", "ignored: %s", reason)
}

func valveReason(short string) string {
	switch short {
	case "AccessLogValve", "ExtendedAccessLogValve", "JDBCAccessLogValve":
		return "Gomcat has no access-log valve; the node logs requests itself"
	case "RemoteIpValve":
		return "not supported; Gomcat trusts X-Forwarded-Proto only for the Secure cookie flag"
	case "SingleSignOn", "ClusterSingleSignOn":
		return "single sign-on is not supported"
	case "ErrorReportValve":
		return "Gomcat's error pages are plain"
	}
	return "Gomcat runs only the cluster valves (ReplicationValve, JvmRouteBinderValve) inside a <Cluster>"
}

// standardClass warns when a container element names a custom className:
// Gomcat always uses its own implementation.
func (p *parser) standardClass(e *elem, std string) {
	cn, pos, ok := e.className()
	if !ok || cn == std || shortName(cn) == shortName(std) {
		return
	}
	p.warnf(pos, e.name, "className", "custom class %s ignored: Gomcat uses its own %s", cn, shortName(std))
}
