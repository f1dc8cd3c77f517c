package conf

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinels. Problems found in a file are *Error values joined with
// errors.Join; these mark the few failures that are not about one element.
var (
	// ErrNoServer is returned (wrapped) when a document's root is not <Server>.
	ErrNoServer = errors.New("conf: no <Server> element")
	// ErrTemplate is returned (wrapped) when the init template does not
	// render to a valid configuration.
	ErrTemplate = errors.New("conf: init template")
)

// Pos is where something was written: a file and a 1-based line. A value
// that came from an override has the override's name as File and Line 0.
type Pos struct {
	File string
	Line int
}

// String renders "FILE:LINE", "FILE" without a line, or "" when unknown.
func (p Pos) String() string {
	switch {
	case p.File == "":
		return ""
	case p.Line <= 0:
		return p.File
	default:
		return fmt.Sprintf("%s:%d", p.File, p.Line)
	}
}

// Error is one problem in a configuration, rendered as
//
//	FILE:LINE: element <X> attribute y: what is wrong (what is allowed)
//
// Element and Attr are left out of the text when empty.
type Error struct {
	File    string
	Line    int
	Element string
	Attr    string
	Msg     string
}

func (e *Error) Error() string { return format(e.File, e.Line, e.Element, e.Attr, e.Msg) }

// Warning is a problem that does not stop the node: an element or attribute
// that Gomcat ignores, or a setting it interprets differently from Tomcat.
// String uses the same shape as Error.
type Warning struct {
	File    string
	Line    int
	Element string
	Attr    string
	Msg     string
}

func (w Warning) String() string { return format(w.File, w.Line, w.Element, w.Attr, w.Msg) }

func format(file string, line int, element, attr, msg string) string {
	var b strings.Builder
	if loc := (Pos{file, line}).String(); loc != "" {
		b.WriteString(loc)
		b.WriteString(": ")
	}
	if element != "" {
		b.WriteString("element <")
		b.WriteString(element)
		b.WriteString(">")
		if attr != "" {
			b.WriteString(" attribute ")
			b.WriteString(attr)
		}
		b.WriteString(": ")
	}
	b.WriteString(msg)
	return b.String()
}
