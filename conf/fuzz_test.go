package conf

import (
	"io"
	"os"
	"path/filepath"
	"testing"
)

func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.xml")
	more, _ := filepath.Glob("testdata/home/conf/Catalina/localhost/*.xml")
	for _, file := range append(files, more...) {
		if data, err := os.ReadFile(file); err == nil {
			f.Add(data)
		}
	}
	if data, err := Template(DefaultTemplateParams()); err == nil {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, _, _ := Parse("fuzz.xml", data)
		if s != nil {
			_ = s.Validate()
			s.Describe(io.Discard)
			s.Apply(Overrides{})
		}
		_, _, _ = ParseContext("fuzz.xml", data)
	})
}
