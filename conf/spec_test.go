package conf

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var updateReference = flag.Bool("update-reference", false, "rewrite ../docs/config.md")

// TestReference fails when docs/config.md is not what the specs generate.
func TestReference(t *testing.T) {
	var b bytes.Buffer
	Reference(&b)
	file := filepath.Join("..", "docs", "config.md")
	if *updateReference {
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := os.ReadFile(file)
	if err != nil || !bytes.Equal(got, b.Bytes()) {
		t.Fatalf("docs/config.md is out of date with conf/specs.go (%v): run go generate ./conf", err)
	}
}

// TestSpecsComplete checks every spec: defaults decode, each name is
// known once per element (names, aliases and ignored ones), and every
// attribute has a doc line.
func TestSpecsComplete(t *testing.T) {
	for _, s := range allSpecs {
		r := s.reference()
		seen := map[string]bool{}
		for _, row := range r.rows {
			if row.doc == "" {
				t.Errorf("%s %s: no doc line", r.element, row.name)
			}
			names := []string{row.name}
			if row.aliases != "" {
				names = append(names, strings.Split(row.aliases, ", ")...)
			}
			for _, n := range names {
				if seen[n] {
					t.Errorf("%s: %s named twice", r.element, n)
				}
				seen[n] = true
			}
		}
		for _, n := range r.inert {
			if seen[n] {
				t.Errorf("%s: %s is both an attribute and ignored", r.title+r.element, n)
			}
		}
	}
}

// TestSendAllSessionsSizeLimit: deltamgr refuses chunks above 1<<20
// sessions, so Validate does too, naming the line (configtest used to
// pass it and the context was then silently absent).
func TestSendAllSessionsSizeLimit(t *testing.T) {
	data := []byte(`<Server port="8005">
  <Service name="Catalina">
    <Connector port="8080"/>
    <Engine name="Catalina" defaultHost="localhost" jvmRoute="n1">
      <Cluster className="SimpleTcpCluster">
        <Manager className="DeltaManager" sendAllSessionsSize="2000000"/>
      </Cluster>
      <Host name="localhost"/>
    </Engine>
  </Service>
</Server>`)
	s, _, err := Parse("t.xml", data)
	if err != nil {
		t.Fatal(err)
	}
	got := errorLines(s.Validate())
	want := "t.xml:6: element <Manager> attribute sendAllSessionsSize: 2000000 is not allowed (at most 1048576 sessions per message)"
	if len(got) != 1 || got[0] != want {
		t.Fatalf("Validate = %q, want [%q]", got, want)
	}
}
