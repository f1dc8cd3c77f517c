package conf

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// errorLines flattens an errors.Join tree into one message per line.
func errorLines(err error) []string {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []string
		for _, e := range j.Unwrap() {
			out = append(out, errorLines(e)...)
		}
		return out
	}
	return []string{err.Error()}
}

// dump renders everything a configuration produces: warnings, errors from
// reading, errors from Validate, and the effective model.
func dump(s *Server, warns []Warning, err error) []byte {
	var b bytes.Buffer
	b.WriteString("-- warnings --\n")
	for _, w := range warns {
		b.WriteString(w.String() + "\n")
	}
	b.WriteString("-- errors --\n")
	for _, l := range errorLines(err) {
		b.WriteString(l + "\n")
	}
	if s == nil {
		return b.Bytes()
	}
	b.WriteString("-- validate --\n")
	for _, l := range errorLines(s.Validate()) {
		b.WriteString(l + "\n")
	}
	b.WriteString("-- model --\n")
	s.Describe(&b)
	return b.Bytes()
}

func checkGolden(t *testing.T, golden string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./conf -run Golden -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (run with -update to accept):\n--- got ---\n%s", golden, got)
	}
}

func TestGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/*.xml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata: %v", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			s, warns, err := Parse(filepath.Base(file), data)
			checkGolden(t, strings.TrimSuffix(file, ".xml")+".golden", dump(s, warns, err))
		})
	}
}

func TestGoldenLoad(t *testing.T) {
	s, warns, err := Load(filepath.Join("testdata", "home"))
	checkGolden(t, filepath.Join("testdata", "home.golden"), dump(s, warns, err))
}

func TestLoadMissing(t *testing.T) {
	_, _, err := Load(t.TempDir())
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Load(empty home) = %v, want fs.ErrNotExist", err)
	}
}
