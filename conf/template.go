package conf

import (
	"bytes"
	"embed"
	"encoding/xml"
	"errors"
	"fmt"
	"path/filepath"
	"text/template"
)

//go:embed defaults/server.xml defaults/ROOT.xml
var defaultFiles embed.FS

// TemplateParams fill the init template (gomcat init).
type TemplateParams struct {
	JvmRoute     string // Engine jvmRoute. Default: "node1".
	HTTPPort     int    // Default: 8080.
	ShutdownPort int    // -1 disables. Default: 8005.
	ReceiverPort int    // Default: 4000.
	McastAddress string // Default: "228.0.0.4".
	McastPort    int    // Default: 45564.
	// McastBind is the multicast interface address. Default: "127.0.0.1"
	// (loopback only: a demo never talks to the LAN).
	McastBind string
	McastTTL  int    // Default: 0 (heartbeats never leave the host).
	Domain    string // membership domain. Default: "".
	// ClusterKey is a hex key (see ParseKey); set, the template enables
	// the EncryptInterceptor with it. Default: "" (commented example).
	ClusterKey string
	// KeyFile is the Cluster's keyFile (from gomcat keygen). Default: "".
	KeyFile string
	// Insecure writes insecure="true" on the Cluster. Default: false.
	Insecure  bool
	FarmWatch bool // Deployer watchEnabled. Default: false.
	// Advertise is the Receiver's advertise attribute (IP or IP:PORT);
	// its IP is the Connector's. Default: "" (none).
	Advertise string
	// AdminAddress and AdminPort place the admin listener (metrics,
	// health, status page, sessions). AdminPort -1 leaves it out; 0 with
	// the defaults means HTTPPort+1000 (8080 → 9080, 8091 → 9091).
	// Default: "127.0.0.1", 0.
	AdminAddress string
	AdminPort    int
	// Home makes the farm and appBase directories absolute under it.
	// Default: "" (relative to the home at run time).
	Home string
	// Standalone leaves the <Cluster> block out: a node whose sessions
	// stay local (the baseline of "gomcat bench replication"). The
	// cluster fields above are then unused. Default: false.
	Standalone bool
}

// DefaultTemplateParams returns the values "gomcat init" uses unless told
// otherwise: a loopback-only single node called node1.
func DefaultTemplateParams() TemplateParams {
	return TemplateParams{
		JvmRoute:     "node1",
		HTTPPort:     DefaultHTTPPort,
		ShutdownPort: DefaultShutdownPort,
		ReceiverPort: DefaultReceiverPort,
		McastAddress: DefaultMcastAddress,
		McastPort:    DefaultMcastPort,
		McastBind:    "127.0.0.1",
		McastTTL:     0,
		AdminAddress: "127.0.0.1",
	}
}

// templateView is what the template sees: strings already XML-escaped.
type templateView struct {
	JvmRoute, McastAddress, McastBind, Domain, ClusterKey string
	KeyFile                                               string
	Insecure                                              bool
	HTTPPort, ShutdownPort, ReceiverPort, McastPort       int
	McastTTL                                              int
	FarmWatch, Standalone                                 bool
	AdminAddress                                          string
	AdminPort                                             int
	Advertise, AdvertiseIP                                string
	home                                                  string
}

// Dir renders a directory below the home (relative when Home is "").
func (v templateView) Dir(rel string) string {
	if v.home == "" {
		return rel
	}
	return escapeAttr(filepath.Join(v.home, filepath.FromSlash(rel)))
}

func escapeAttr(s string) string {
	var b bytes.Buffer
	_ = xml.EscapeText(&b, []byte(s)) // writes to a buffer: cannot fail
	return b.String()
}

var serverTemplate = template.Must(template.ParseFS(defaultFiles, "defaults/server.xml"))

// Template renders conf/server.xml for "gomcat init". The result is parsed
// and validated before it is returned, so bad parameters come back as an
// error wrapping ErrTemplate with Validate's messages.
func Template(p TemplateParams) ([]byte, error) {
	v := templateView{
		JvmRoute: escapeAttr(p.JvmRoute), McastAddress: escapeAttr(p.McastAddress),
		McastBind: escapeAttr(p.McastBind), Domain: escapeAttr(p.Domain), ClusterKey: escapeAttr(p.ClusterKey),
		KeyFile: escapeAttr(p.KeyFile), Insecure: p.Insecure,
		HTTPPort: p.HTTPPort, ShutdownPort: p.ShutdownPort, ReceiverPort: p.ReceiverPort,
		McastPort: p.McastPort, McastTTL: p.McastTTL, FarmWatch: p.FarmWatch, Standalone: p.Standalone, home: p.Home,
		AdminAddress: escapeAttr(p.AdminAddress), AdminPort: p.AdminPort,
		Advertise: escapeAttr(p.Advertise), AdvertiseIP: escapeAttr(advertiseIP(p.Advertise)),
	}
	if v.AdminAddress == "" {
		v.AdminAddress = "127.0.0.1"
	}
	if v.AdminPort == 0 {
		v.AdminPort = p.HTTPPort + 1000
		if p.HTTPPort == 0 || v.AdminPort > 65535 {
			v.AdminPort = 0 // a free port; the bound one is in logs/gomcat.json
		}
	}
	var b bytes.Buffer
	if err := serverTemplate.Execute(&b, v); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrTemplate, err)
	}
	s, _, err := Parse("server.xml", b.Bytes())
	if err == nil {
		err = s.Validate()
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrTemplate, err)
	}
	return b.Bytes(), nil
}

// InitFiles returns every file "gomcat init" writes, keyed by the path
// relative to the home: conf/server.xml and the ROOT context descriptor
// conf/Catalina/localhost/ROOT.xml (the "example" app at "/").
func InitFiles(p TemplateParams) (map[string][]byte, error) {
	server, err := Template(p)
	if err != nil {
		return nil, err
	}
	root, err := defaultFiles.ReadFile("defaults/ROOT.xml")
	if err != nil {
		return nil, errors.Join(ErrTemplate, err)
	}
	return map[string][]byte{
		"conf/server.xml":                  server,
		"conf/Catalina/localhost/ROOT.xml": root,
	}, nil
}
