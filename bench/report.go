package bench

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Report is the outcome of a bench: rows of figures grouped in sections,
// with the machine they were measured on.
type Report struct {
	Title    string
	Command  string // how it was run, for the record; "" to omit
	Machine  Machine
	Sections []Section
	Notes    []string
}

// Section is a group of rows under a heading.
type Section struct {
	Name string
	Rows []Row
}

// Row is one figure. Goal and Verdict may be empty.
type Row struct {
	Metric  string
	Value   string
	Goal    string
	Verdict string // VerdictMet, VerdictMissed or ""
}

// Verdicts of a Row against its goal.
const (
	VerdictMet    = "ok"
	VerdictMissed = "MISSED"
)

// verdict is VerdictMet when ok.
func verdict(ok bool) string {
	if ok {
		return VerdictMet
	}
	return VerdictMissed
}

// Add appends a row to the section called name, creating it last.
func (r *Report) Add(section string, row Row) {
	for i := range r.Sections {
		if r.Sections[i].Name == section {
			r.Sections[i].Rows = append(r.Sections[i].Rows, row)
			return
		}
	}
	r.Sections = append(r.Sections, Section{Name: section, Rows: []Row{row}})
}

// Note appends a line printed under the table.
func (r *Report) Note(format string, args ...any) {
	r.Notes = append(r.Notes, fmt.Sprintf(format, args...))
}

// Missed counts the rows that missed their goal.
func (r *Report) Missed() int {
	n := 0
	for _, s := range r.Sections {
		for _, row := range s.Rows {
			if row.Verdict == VerdictMissed {
				n++
			}
		}
	}
	return n
}

// WriteTo prints the report as an aligned plain-text table.
func (r *Report) WriteTo(w io.Writer) (int64, error) {
	var b strings.Builder
	b.WriteString(r.Title + "\n")
	if r.Command != "" {
		b.WriteString("command  " + r.Command + "\n")
	}
	b.WriteString("machine  " + r.Machine.String() + "\n\n")
	// Columns are aligned over all sections; section names stand alone.
	wm, wv := len("METRIC"), len("VALUE")
	for _, sec := range r.Sections {
		for _, row := range sec.Rows {
			wm = max(wm, 2+utf8.RuneCountInString(row.Metric))
			wv = max(wv, utf8.RuneCountInString(row.Value))
		}
	}
	pad := func(s string, w int) string { return s + strings.Repeat(" ", w-utf8.RuneCountInString(s)+2) }
	b.WriteString(pad("METRIC", wm) + pad("VALUE", wv) + "GOAL\n")
	for _, sec := range r.Sections {
		b.WriteString(sec.Name + "\n")
		for _, row := range sec.Rows {
			goal := strings.TrimSpace(row.Goal + "  " + row.Verdict)
			b.WriteString(pad("  "+row.Metric, wm) + pad(row.Value, wv) + goal + "\n")
		}
	}
	if len(r.Notes) > 0 {
		b.WriteString("\n")
		for _, n := range r.Notes {
			b.WriteString("- " + n + "\n")
		}
	}
	lines := strings.Split(b.String(), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	n, err := io.WriteString(w, strings.Join(lines, "\n"))
	return int64(n), err
}

// FormatDuration prints d with three significant digits in the unit that
// suits it: "87.3 µs", "1.42 ms", "2.05 s".
func FormatDuration(d time.Duration) string {
	switch {
	case d < time.Microsecond:
		return fmt.Sprintf("%d ns", d.Nanoseconds())
	case d < time.Millisecond:
		return sig3(float64(d)/float64(time.Microsecond)) + " µs"
	case d < time.Second:
		return sig3(float64(d)/float64(time.Millisecond)) + " ms"
	default:
		return sig3(d.Seconds()) + " s"
	}
}

// sig3 prints x (>= 1) with three significant digits, more if it is 1000
// or above: 1.23, 12.3, 123, 1234.
func sig3(x float64) string {
	switch {
	case x < 10:
		return strconv.FormatFloat(x, 'f', 2, 64)
	case x < 100:
		return strconv.FormatFloat(x, 'f', 1, 64)
	default:
		return strconv.FormatFloat(math.Round(x), 'f', 0, 64)
	}
}

// FormatCount prints n with thousands separators: 1234567 → "1,234,567".
func FormatCount(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// FormatRate prints requests per second, rounded: "12,345 req/s".
func FormatRate(r float64) string {
	return FormatCount(int64(math.Round(r))) + " req/s"
}

// FormatBytes prints a size in B, KiB, MiB or GiB.
func FormatBytes(n int64) string {
	const unit = 1024
	if n < unit && n > -unit {
		return fmt.Sprintf("%d B", n)
	}
	f := float64(n)
	for _, u := range []string{"KiB", "MiB", "GiB"} {
		f /= unit
		if math.Abs(f) < unit || u == "GiB" {
			if math.Abs(f) >= 100 {
				return fmt.Sprintf("%.0f %s", f, u)
			}
			return fmt.Sprintf("%.1f %s", f, u)
		}
	}
	return fmt.Sprintf("%d B", n) // not reached
}

// throughputValue is "12,345 req/s · p50 1.23 ms · p99 4.56 ms".
func throughputValue(r *Result) string {
	s := r.Latency.Summary()
	v := fmt.Sprintf("%s · p50 %s · p99 %s", FormatRate(r.Rate()), FormatDuration(s.P50), FormatDuration(s.P99))
	if r.Errors > 0 {
		v += fmt.Sprintf(" · %s errors", FormatCount(r.Errors))
	}
	return v
}
