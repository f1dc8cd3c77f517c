package conf

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Load reads home/conf/server.xml and the context descriptors
// home/conf/<Engine>/<Host>/*.xml (ROOT.xml is "/", foo.xml "/foo",
// foo#bar.xml "/foo/bar"). Like Parse it fills defaults, returns warnings,
// collects every problem and does not Validate. A missing server.xml is an
// error that wraps fs.ErrNotExist.
func Load(home string) (*Server, []Warning, error) {
	file := filepath.Join(home, "conf", "server.xml")
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, nil, fmt.Errorf("conf: %w", err)
	}
	s, warns, err := Parse(file, data)
	if s == nil {
		return nil, warns, err
	}
	s.Home = home
	errs := []error{err}
	for _, svc := range s.Services {
		if svc.Engine == nil {
			continue
		}
		for _, h := range svc.Engine.Hosts {
			dir := filepath.Join(home, "conf", svc.Engine.Name, h.Name)
			w, err := loadDescriptors(dir, h)
			warns = append(warns, w...)
			errs = append(errs, err)
		}
	}
	return s, warns, errors.Join(errs...)
}

// loadDescriptors appends the contexts described in dir to h. A missing
// directory is not an error.
func loadDescriptors(dir string, h *Host) ([]Warning, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("conf: %w", err)
	}
	var (
		warns []Warning
		errs  []error
	)
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		if !e.IsDir() && strings.HasSuffix(e.Name(), ".xml") {
			names = append(names, e.Name())
		}
	}
	slices.Sort(names)
	for _, name := range names {
		file := filepath.Join(dir, name)
		data, err := os.ReadFile(file)
		if err != nil {
			errs = append(errs, fmt.Errorf("conf: %w", err))
			continue
		}
		c, w, err := ParseContext(file, data)
		warns = append(warns, w...)
		errs = append(errs, err)
		if c != nil {
			h.Contexts = append(h.Contexts, c)
		}
	}
	return warns, errors.Join(errs...)
}

// ParseContext reads a context descriptor. Its path comes from the file
// name (ROOT.xml → "/", foo#bar.xml → "/foo/bar"); a path attribute is
// ignored with a warning, as in Tomcat. docBase defaults to the file's
// base name, relative to the Host's appBase.
func ParseContext(file string, data []byte) (*Context, []Warning, error) {
	base := strings.TrimSuffix(filepath.Base(file), ".xml")
	if strings.Contains(base, "##") {
		return nil, nil, &Error{File: file, Msg: "parallel deployment versions (name##version.xml) are not supported; name the file after the context path only"}
	}
	if base == "" || strings.ContainsAny(base, "/\\") || !validContextPath(pathFromFile(base)) {
		return nil, nil, &Error{File: file, Msg: "file name does not map to a context path (ROOT.xml, name.xml or a#b.xml)"}
	}
	root, err := parseTree(file, data)
	if err != nil {
		return nil, nil, err
	}
	p := &parser{}
	if root.name != "Context" {
		return nil, nil, &Error{File: file, Line: root.pos.Line, Element: root.name, Msg: "the root element of a context descriptor must be <Context>"}
	}
	c := p.context(root, base)
	return c, p.warns, errors.Join(p.errs...)
}
