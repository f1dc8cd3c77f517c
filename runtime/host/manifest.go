package host

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// ManifestName is where a bundle keeps its manifest.
const ManifestName = "META-INF/app.xml"

// Manifest describes a bundle (.gar). On disk, META-INF/app.xml:
//
//		<app path="/shop" name="shop" distributable="true" sessionTimeout="30" version="1.4"/>
//
//	  - path (required): the context path, "/" for ROOT.
//	  - name: the registered Go app to run; empty or absent = static files only.
//	  - distributable: replicate this context's sessions (default false).
//	  - sessionTimeout: idle timeout of sessions in minutes; absent = the host's
//	    default (30); 0 or negative = sessions never expire.
//	  - version: free text shown by `gomcat bundle inspect` and in logs.
type Manifest struct {
	Path          string
	App           string
	Distributable bool
	// SessionTimeout: 0 = not set (host default), negative = never expire.
	SessionTimeout time.Duration
	Version        string
}

type manifestXML struct {
	XMLName        xml.Name   `xml:"app"`
	Path           string     `xml:"path,attr"`
	Name           string     `xml:"name,attr"`
	Distributable  string     `xml:"distributable,attr"`
	SessionTimeout string     `xml:"sessionTimeout,attr"`
	Version        string     `xml:"version,attr"`
	Other          []xml.Attr `xml:",any,attr"`
}

var (
	pathSegment = regexp.MustCompile(`^[A-Za-z0-9._~-]+$`)
	appName     = regexp.MustCompile(`^[A-Za-z0-9._-]+$`)
)

// ValidContextPath reports why p is not a usable context path ("" if it is):
// "/" or "/seg[/seg...]" with segments of [A-Za-z0-9._~-], not "." or "..".
func ValidContextPath(p string) string {
	if p == "/" {
		return ""
	}
	if !strings.HasPrefix(p, "/") || strings.HasSuffix(p, "/") {
		return "must be \"/\" or start with \"/\" and not end with \"/\""
	}
	if len(p) > 255 {
		return "longer than 255 characters"
	}
	for _, seg := range strings.Split(p[1:], "/") {
		if seg == "." || seg == ".." || !pathSegment.MatchString(seg) {
			return fmt.Sprintf("segment %q is not allowed (letters, digits and ._~- only, not . or ..)", seg)
		}
	}
	return ""
}

// Validate checks the manifest's fields.
func (m Manifest) Validate() error {
	if m.Path == "" {
		return fmt.Errorf("%w: attribute path is required", ErrBadManifest)
	}
	if why := ValidContextPath(m.Path); why != "" {
		return fmt.Errorf("%w: path %q: %s", ErrBadManifest, m.Path, why)
	}
	if m.App != "" && !appName.MatchString(m.App) {
		return fmt.Errorf("%w: name %q: letters, digits and ._- only", ErrBadManifest, m.App)
	}
	return nil
}

// ParseManifest decodes META-INF/app.xml. Unknown attributes are returned as
// warnings.
func ParseManifest(data []byte) (Manifest, []string, error) {
	var x manifestXML
	d := xml.NewDecoder(bytes.NewReader(data))
	d.Strict = true
	if err := d.Decode(&x); err != nil {
		return Manifest{}, nil, fmt.Errorf("%w: %v (want <app path=\"/shop\" .../>)", ErrBadManifest, err)
	}
	m := Manifest{Path: strings.TrimSpace(x.Path), App: strings.TrimSpace(x.Name), Version: x.Version}
	var warns []string
	for _, a := range x.Other {
		warns = append(warns, fmt.Sprintf("%s: unknown attribute %q ignored (known: path, name, distributable, sessionTimeout, version)", ManifestName, a.Name.Local))
	}
	switch strings.TrimSpace(x.Distributable) {
	case "", "false":
	case "true":
		m.Distributable = true
	default:
		return Manifest{}, nil, fmt.Errorf("%w: distributable %q: want true or false", ErrBadManifest, x.Distributable)
	}
	if s := strings.TrimSpace(x.SessionTimeout); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n > 1<<20 {
			return Manifest{}, nil, fmt.Errorf("%w: sessionTimeout %q: want whole minutes", ErrBadManifest, x.SessionTimeout)
		}
		m.SessionTimeout = time.Duration(n) * time.Minute
		if n <= 0 {
			m.SessionTimeout = -1
		}
	}
	if err := m.Validate(); err != nil {
		return Manifest{}, nil, err
	}
	return m, warns, nil
}

// Marshal encodes the manifest as META-INF/app.xml.
func (m Manifest) Marshal() []byte {
	var b bytes.Buffer
	b.WriteString(xml.Header)
	b.WriteString("<app")
	attr := func(k, v string) {
		b.WriteString(" " + k + "=\"")
		_ = xml.EscapeText(&b, []byte(v))
		b.WriteString("\"")
	}
	attr("path", m.Path)
	if m.App != "" {
		attr("name", m.App)
	}
	attr("distributable", strconv.FormatBool(m.Distributable))
	switch {
	case m.SessionTimeout < 0:
		attr("sessionTimeout", "-1")
	case m.SessionTimeout > 0:
		attr("sessionTimeout", strconv.Itoa(int(m.SessionTimeout/time.Minute)))
	}
	if m.Version != "" {
		attr("version", m.Version)
	}
	b.WriteString("/>\n")
	return b.Bytes()
}
