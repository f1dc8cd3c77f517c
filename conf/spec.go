package conf

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// A spec is the one declarative description of a server.xml element: its
// attributes with their Tomcat names and 5.5 aliases, the model field each
// fills, unit, default, allowed range and one doc line. It drives parsing
// (fields), defaults (fill), range validation (check), configtest's
// description (describe) and docs/config.md (Reference). specs.go holds
// them all; what a spec cannot say (cross-attribute rules) stays in
// validate.go.
type spec[T any] struct {
	element string // XML element name
	title   string // docs heading when the element name is shared (Valve, Connector)
	doc     string
	attrs   []attrSpec[T]
	inert   inert // Tomcat attributes with no effect (warned about)
}

// attrSpec is one attribute of an element.
type attrSpec[T any] struct {
	name    string   // Tomcat's name, the model's canonical name
	aliases []string // Tomcat 5.5 (and older Tomcat) names
	// unit: "ms", "s", "min" for durations (how the number is written);
	// "bytes", "sessions", … for numbers (docs only).
	unit string
	def  string // the default as server.xml text; "" = empty / none
	// defDoc replaces def in docs when the default is derived ("connectionTimeout").
	defDoc string
	rng    *span // allowed range, checked by Validate
	doc    string
	ptr    func(*T) any              // *string, *int, *int64, *bool or *time.Duration field
	set    func(*T) field            // a custom decoder instead of ptr's
	show   func(*T) string           // configtest's text; nil: the value plainly
	hide   func(*T) bool             // configtest leaves the line out (nil: shown)
	only   func(*T) bool             // the range applies only when (nil: always)
	label  string                    // configtest's label when not name
	noShow bool                      // never in configtest's description
	extra  func(*T, *describer, int) // lines configtest writes after this one
}

// span is an allowed range of a number (durations in their unit) with the
// message Validate gives ("%d" is the value).
type span struct {
	min, max int64
	msg      string
	over     string // the message above max when it differs
}

const noMax = math.MaxInt64

func atLeastSpan(n int64) *span {
	return &span{min: n, max: noMax, msg: fmt.Sprintf("%%d is not allowed (at least %d)", n)}
}

func portSpan(min int64, allowed string) *span {
	return &span{min: min, max: 65535, msg: "%d is not a valid port (" + allowed + ")"}
}

func positiveSpan(unit string) *span {
	return &span{min: 1, max: noMax, msg: "%d is not allowed (a positive number of " + unitWords[unit] + ")"}
}

func rangeSpan(min, max int64, why string) *span {
	return &span{min: min, max: max, msg: "%d is not allowed (" + why + ")"}
}

var unitWords = map[string]string{"ms": "milliseconds", "s": "seconds", "min": "minutes"}

var durUnits = map[string]time.Duration{"ms": time.Millisecond, "s": time.Second, "min": time.Minute}

// fields returns the parse table for v: every name and alias.
func (s *spec[T]) fields(v *T) fields {
	fs := make(fields, len(s.attrs)*2)
	for i := range s.attrs {
		a := &s.attrs[i]
		f := a.field(v)
		fs[a.name] = f
		for _, al := range a.aliases {
			fs[al] = f.as(a.name)
		}
	}
	return fs
}

func (a *attrSpec[T]) field(v *T) field {
	if a.set != nil {
		return a.set(v)
	}
	switch p := a.ptr(v).(type) {
	case *string:
		return fStr(p)
	case *int:
		return fInt(p)
	case *int64:
		return fInt64(p)
	case *bool:
		return fBool(p)
	case *time.Duration:
		return fDur(p, durUnits[a.unit])
	}
	panic("conf: spec " + a.name + ": unsupported field type")
}

// fill sets every default of v.
func (s *spec[T]) fill(v *T) {
	p := &parser{}
	for i := range s.attrs {
		a := &s.attrs[i]
		if a.def == "" || a.ptr == nil {
			continue
		}
		a.field(v).set(p, &elem{name: s.element}, attr{name: a.name, value: a.def})
	}
	if len(p.errs) > 0 {
		panic(fmt.Sprintf("conf: spec %s: bad default: %v", s.element, p.errs[0]))
	}
}

// check reports every attribute of v outside its range.
func (s *spec[T]) check(vd *validator, n *Node, v *T) {
	for i := range s.attrs {
		a := &s.attrs[i]
		if a.rng == nil || (a.only != nil && !a.only(v)) {
			continue
		}
		x, ok := a.number(v)
		switch {
		case !ok:
		case x > a.rng.max && a.rng.over != "":
			vd.bad(n, a.name, a.rng.over, x)
		case x < a.rng.min || x > a.rng.max:
			vd.bad(n, a.name, a.rng.msg, x)
		}
	}
}

// number is the attribute's value as server.xml writes it (durations in
// their unit).
func (a *attrSpec[T]) number(v *T) (int64, bool) {
	if a.ptr == nil {
		return 0, false
	}
	switch p := a.ptr(v).(type) {
	case *int:
		return int64(*p), true
	case *int64:
		return *p, true
	case *time.Duration:
		return int64(*p / durUnits[a.unit]), true
	}
	return 0, false
}

// describe writes configtest's lines for v at depth.
func (s *spec[T]) describe(d *describer, depth int, v *T) {
	for i := range s.attrs {
		a := &s.attrs[i]
		if a.noShow || (a.hide != nil && a.hide(v)) {
			continue
		}
		label := a.label
		if label == "" {
			label = a.name
		}
		d.kv(depth, label, a.text(v))
		if a.extra != nil {
			a.extra(v, d, depth)
		}
	}
}

func (a *attrSpec[T]) text(v *T) string {
	if a.show != nil {
		return a.show(v)
	}
	switch p := a.ptr(v).(type) {
	case *string:
		return *p
	case *int:
		return strconv.Itoa(*p)
	case *int64:
		return strconv.FormatInt(*p, 10)
	case *bool:
		return strconv.FormatBool(*p)
	case *time.Duration:
		switch a.unit {
		case "ms":
			return ms(*p)
		case "s":
			return secs(*p, "unlimited")
		}
		return p.String()
	}
	return ""
}

// refRow is one attribute in docs/config.md.
type refRow struct{ name, aliases, def, unit, rng, doc string }

// refElem is one element in docs/config.md.
type refElem struct {
	element, title, doc string
	rows                []refRow
	inert               []string
}

type referencer interface{ reference() refElem }

func (s *spec[T]) reference() refElem {
	r := refElem{element: s.element, title: s.title, doc: s.doc}
	for i := range s.attrs {
		a := &s.attrs[i]
		def := a.def
		if a.defDoc != "" {
			def = a.defDoc
		}
		rng := ""
		if a.rng != nil {
			rng = spanText(a.rng)
		}
		r.rows = append(r.rows, refRow{a.name, strings.Join(a.aliases, ", "), def, a.unit, rng, a.doc})
	}
	for k := range s.inert {
		r.inert = append(r.inert, k)
	}
	return r
}

func spanText(s *span) string {
	switch {
	case s.max == noMax:
		return fmt.Sprintf("≥ %d", s.min)
	case s.min == math.MinInt64:
		return fmt.Sprintf("≤ %d", s.max)
	}
	return fmt.Sprintf("%d..%d", s.min, s.max)
}
