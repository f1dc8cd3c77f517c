package conf

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// elem is a generic XML element with the lines of the element and of each
// attribute. Parsing runs in two steps: bytes → elem tree (this file), then
// tree → model (parse.go), so the model code never deals with tokens.
type elem struct {
	name  string
	pos   Pos
	attrs []attr
	kids  []*elem
}

type attr struct {
	name  string
	value string
	pos   Pos
}

// maxDepth bounds nesting so hostile input cannot exhaust the stack of the
// recursive model walk.
const maxDepth = 64

// parseTree reads one XML document. Errors are *Error with the line.
func parseTree(file string, data []byte) (*elem, error) {
	d := xml.NewDecoder(bytes.NewReader(data))
	d.CharsetReader = charsetReader
	var (
		stack []*elem
		root  *elem
	)
	for {
		line, _ := d.InputPos()
		start := d.InputOffset()
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var se *xml.SyntaxError
			if errors.As(err, &se) {
				line = se.Line
				return nil, &Error{File: file, Line: line, Msg: "not well-formed XML: " + se.Msg}
			}
			return nil, &Error{File: file, Line: line, Msg: "not well-formed XML: " + err.Error()}
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if len(stack) >= maxDepth {
				return nil, &Error{File: file, Line: line, Element: t.Name.Local,
					Msg: fmt.Sprintf("elements nested deeper than %d", maxDepth)}
			}
			e := &elem{name: t.Name.Local, pos: Pos{file, line}}
			raw := data[start:d.InputOffset()]
			lines := attrLines(raw, line)
			for i, a := range t.Attr {
				p := Pos{file, line}
				if i < len(lines) && lines[i].name == qualified(a.Name) {
					p.Line = lines[i].line
				}
				e.attrs = append(e.attrs, attr{name: qualified(a.Name), value: a.Value, pos: p})
			}
			if len(stack) == 0 {
				if root != nil {
					return nil, &Error{File: file, Line: line, Msg: "more than one root element"}
				}
				root = e
			} else {
				parent := stack[len(stack)-1]
				parent.kids = append(parent.kids, e)
			}
			stack = append(stack, e)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		}
	}
	if root == nil {
		return nil, &Error{File: file, Line: 1, Msg: "no XML element found"}
	}
	return root, nil
}

// qualified renders an attribute name as written ("xmlns:xsi" keeps a
// readable form; namespaces are irrelevant to server.xml).
func qualified(n xml.Name) string {
	switch n.Space {
	case "":
		return n.Local
	case "xmlns":
		return "xmlns:" + n.Local
	default:
		return n.Space + ":" + n.Local
	}
}

type attrLine struct {
	name string
	line int
}

// attrLines scans a raw start tag ("<Name a='1'\n b="2">") for the line of
// each attribute name. The decoder has already checked the syntax, so the
// scan is simple; it stops quietly at anything unexpected.
func attrLines(raw []byte, line int) []attrLine {
	var out []attrLine
	i := 1 // skip '<'
	for i < len(raw) && !isSpace(raw[i]) && raw[i] != '>' && raw[i] != '/' {
		i++
	}
	for i < len(raw) {
		for i < len(raw) && isSpace(raw[i]) {
			if raw[i] == '\n' {
				line++
			}
			i++
		}
		if i >= len(raw) || raw[i] == '>' || raw[i] == '/' {
			break
		}
		n := i
		for i < len(raw) && raw[i] != '=' && !isSpace(raw[i]) {
			i++
		}
		name := string(raw[n:i])
		if n == i {
			break
		}
		at := line
		for i < len(raw) && (isSpace(raw[i]) || raw[i] == '=') {
			if raw[i] == '\n' {
				line++
			}
			i++
		}
		if i >= len(raw) || (raw[i] != '"' && raw[i] != '\'') {
			break
		}
		q := raw[i]
		i++
		for i < len(raw) && raw[i] != q {
			if raw[i] == '\n' {
				line++
			}
			i++
		}
		i++
		out = append(out, attrLine{name: name, line: at})
	}
	return out
}

func isSpace(b byte) bool { return b == ' ' || b == '\t' || b == '\n' || b == '\r' }

// charsetReader accepts the encodings a server.xml may declare besides
// UTF-8: ISO-8859-1 (Latin-1) and US-ASCII.
func charsetReader(label string, in io.Reader) (io.Reader, error) {
	switch strings.ToLower(label) {
	case "utf-8", "utf8", "us-ascii", "ascii":
		return in, nil
	case "iso-8859-1", "iso8859-1", "latin1", "latin-1":
		b, err := io.ReadAll(in)
		if err != nil {
			return nil, err
		}
		out := make([]byte, 0, len(b))
		for _, c := range b {
			out = utf8.AppendRune(out, rune(c))
		}
		return bytes.NewReader(out), nil
	}
	return nil, fmt.Errorf("unsupported encoding %q (use UTF-8 or ISO-8859-1)", label)
}
