package testkit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/rs/zerolog"
)

// Log captures zerolog JSON lines written to it. Safe for concurrent use.
type Log struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// NewLogger returns a debug-level logger that writes to a new Log and
// echoes every line to t's log.
func NewLogger(t testing.TB) (zerolog.Logger, *Log) {
	l := &Log{}
	return zerolog.New(io.MultiWriter(l, zerolog.NewTestWriter(t))).Level(zerolog.DebugLevel), l
}

// Line is one captured log line.
type Line struct {
	Level   string
	Message string
	Fields  map[string]any // every key of the line, level and message included
}

// Str returns the line's field key as a string ("" if absent).
func (ln Line) Str(key string) string {
	v, ok := ln.Fields[key]
	if !ok {
		return ""
	}
	if s, ok := v.(string); ok {
		return s
	}
	return fmt.Sprint(v)
}

func (ln Line) String() string { return fmt.Sprintf("%s %q %v", ln.Level, ln.Message, ln.Fields) }

func (l *Log) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// Lines returns the lines written so far that parse as JSON, in order.
func (l *Log) Lines() []Line {
	l.mu.Lock()
	data := l.buf.String()
	l.mu.Unlock()
	var out []Line
	for _, s := range strings.Split(data, "\n") {
		var m map[string]any
		if s == "" || json.Unmarshal([]byte(s), &m) != nil {
			continue
		}
		ln := Line{Fields: m}
		ln.Level, _ = m["level"].(string)
		ln.Message, _ = m["message"].(string)
		out = append(out, ln)
	}
	return out
}

// Index is the position among Lines of the first line whose message starts
// with prefix and that has every field of kv (key, value, key, value ...),
// or -1.
func (l *Log) Index(prefix string, kv ...string) int {
	for i, ln := range l.Lines() {
		if prefixed(ln, prefix, kv) {
			return i
		}
	}
	return -1
}

// Find returns the first line that Index would pick.
func (l *Log) Find(prefix string, kv ...string) (Line, bool) {
	for _, ln := range l.Lines() {
		if prefixed(ln, prefix, kv) {
			return ln, true
		}
	}
	return Line{}, false
}

// Count returns how many lines Index's rule matches.
func (l *Log) Count(prefix string, kv ...string) int {
	n := 0
	for _, ln := range l.Lines() {
		if prefixed(ln, prefix, kv) {
			n++
		}
	}
	return n
}

// Has reports whether a line's message is exactly msg.
func (l *Log) Has(msg string) bool {
	for _, ln := range l.Lines() {
		if ln.Message == msg {
			return true
		}
	}
	return false
}

// Match returns the first line whose message matches the regexp re.
func (l *Log) Match(re string) (Line, bool) {
	rx := regexp.MustCompile(re)
	for _, ln := range l.Lines() {
		if rx.MatchString(ln.Message) {
			return ln, true
		}
	}
	return Line{}, false
}

// CountMatch returns how many messages match the regexp re.
func (l *Log) CountMatch(re string) int {
	rx := regexp.MustCompile(re)
	n := 0
	for _, ln := range l.Lines() {
		if rx.MatchString(ln.Message) {
			n++
		}
	}
	return n
}

func prefixed(ln Line, prefix string, kv []string) bool {
	if !strings.HasPrefix(ln.Message, prefix) {
		return false
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if ln.Str(kv[i]) != kv[i+1] {
			return false
		}
	}
	return true
}
