package conf

//go:generate go test -run TestReference -update-reference .

import (
	"fmt"
	"io"
	"slices"
	"strings"
)

// Reference writes the configuration reference (docs/config.md): every
// element and attribute Gomcat reads from server.xml, with its Tomcat 5.5
// aliases, default, unit, allowed range and meaning, generated from the
// specs (specs.go). Attributes Tomcat knows that have no effect in Gomcat
// are listed per element (they are accepted with a warning).
func Reference(w io.Writer) {
	fmt.Fprint(w, `# server.xml reference

Generated from conf/specs.go by `+"`go generate ./conf`"+` (do not edit).
Every attribute Gomcat reads, per element: its Tomcat 5.5 (or older
Tomcat) aliases, default, unit, allowed range (checked by `+"`gomcat configtest`"+`
and at start) and meaning. Durations are whole numbers in the unit shown.
Attributes marked "(Gomcat)" are extensions Tomcat would warn about.
`)
	for _, s := range allSpecs {
		r := s.reference()
		title := r.title
		if title == "" {
			title = r.element
		}
		fmt.Fprintf(w, "\n## %s\n\n%s\n", title, cell(r.doc))
		if len(r.rows) > 0 {
			fmt.Fprint(w, "\n| attribute | 5.5 / old names | default | unit | range | meaning |\n| --- | --- | --- | --- | --- | --- |\n")
			for _, row := range r.rows {
				fmt.Fprintf(w, "| `%s` | %s | %s | %s | %s | %s |\n", row.name, code(row.aliases), cell(row.def), row.unit, row.rng, cell(row.doc))
			}
		}
		if len(r.inert) > 0 {
			slices.Sort(r.inert)
			fmt.Fprintf(w, "\nAccepted and ignored (no effect in Gomcat): %s.\n", strings.Join(r.inert, ", "))
		}
	}
	fmt.Fprint(w, "\n## Interceptor\n\nInside &lt;Channel&gt;, by className. Their attributes are kept as written (configtest shows them); the defaults:\n\n| className | attribute | default |\n| --- | --- | --- |\n")
	classes := make([]string, 0, len(interceptorDefaults))
	for c := range interceptorDefaults {
		classes = append(classes, c)
	}
	slices.Sort(classes)
	for _, c := range classes {
		attrs := make([]string, 0, len(interceptorDefaults[c]))
		for a := range interceptorDefaults[c] {
			attrs = append(attrs, a)
		}
		slices.Sort(attrs)
		if len(attrs) == 0 {
			fmt.Fprintf(w, "| %s | (none) | |\n", c)
		}
		for _, a := range attrs {
			fmt.Fprintf(w, "| %s | `%s` | %s |\n", c, a, cell(interceptorDefaults[c][a]))
		}
	}
}

// code formats a comma list of names as code spans.
func code(list string) string {
	if list == "" {
		return ""
	}
	parts := strings.Split(list, ", ")
	for i, p := range parts {
		parts[i] = "`" + p + "`"
	}
	return strings.Join(parts, ", ")
}

// cell escapes a table cell.
func cell(s string) string {
	return strings.NewReplacer("|", `\|`, "<", "&lt;", ">", "&gt;").Replace(s)
}
