package conf

import (
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
)

// Overrides change a loaded model: defaults < server.xml < GOMCAT_*
// environment < command-line flags. A nil field leaves the value alone.
// The caller applies the environment's, then the flags', then Validates.
type Overrides struct {
	// Source names where the values came from in Validate's messages
	// (e.g. "command line"). Default: "override". OverridesFromEnv names
	// each variable instead.
	Source string

	JvmRoute        *string // Engine jvmRoute
	HTTPPort        *int    // primary Connector port
	HTTPAddress     *string // primary Connector address
	ShutdownPort    *int    // Server port (-1 disables)
	ReceiverPort    *int    // cluster Receiver port
	ReceiverAddress *string // cluster Receiver address ("auto" or an IP)
	// Advertise sets the advertise attribute of the Receiver (IP or
	// IP:PORT) and, with its IP only, of the primary Connector.
	Advertise *string
	// Membership replaces the Cluster's membership with a
	// CloudMembershipService of that provider (see CheckMembershipProvider).
	Membership      *string
	McastAddress    *string // Membership address
	McastPort       *int    // Membership port
	McastBind       *string // Membership bind
	McastTTL        *int    // Membership ttl
	Domain          *string // Membership domain
	ClusterKey      []byte  // cluster key (see ParseKey); nil leaves it
	ClusterKeyFile  *string // Cluster keyFile (replaces a key)
	InsecureCluster *bool   // Cluster insecure
	FarmWatch       *bool   // Deployer watchEnabled
	Admin           *string // admin listener "HOST:PORT" or "off" (see ParseAdmin)

	origin map[string]string // field → environment variable
}

// envVars maps environment variables to the Overrides field they set.
var envVars = []struct{ name, field string }{
	{"GOMCAT_JVM_ROUTE", "JvmRoute"},
	{"GOMCAT_HTTP_PORT", "HTTPPort"},
	{"GOMCAT_HTTP_ADDRESS", "HTTPAddress"},
	{"GOMCAT_SHUTDOWN_PORT", "ShutdownPort"},
	{"GOMCAT_RECEIVER_PORT", "ReceiverPort"},
	{"GOMCAT_RECEIVER_ADDRESS", "ReceiverAddress"},
	{"GOMCAT_ADVERTISE", "Advertise"},
	{"GOMCAT_MEMBERSHIP", "Membership"},
	{"GOMCAT_MCAST_ADDRESS", "McastAddress"},
	{"GOMCAT_MCAST_PORT", "McastPort"},
	{"GOMCAT_MCAST_BIND", "McastBind"},
	{"GOMCAT_MCAST_TTL", "McastTTL"},
	{"GOMCAT_DOMAIN", "Domain"},
	{"GOMCAT_CLUSTER_KEY", "ClusterKey"},
	{"GOMCAT_CLUSTER_KEY_FILE", "ClusterKeyFile"},
	{"GOMCAT_INSECURE_CLUSTER", "InsecureCluster"},
	{"GOMCAT_FARM_WATCH", "FarmWatch"},
	{"GOMCAT_ADMIN", "Admin"},
}

// EnvVars lists the environment variables OverridesFromEnv reads.
func EnvVars() []string {
	out := make([]string, len(envVars))
	for i, e := range envVars {
		out[i] = e.name
	}
	return out
}

// OverridesFromEnv reads the GOMCAT_* variables (see EnvVars) through
// getenv (os.Getenv in production). Empty variables are unset. Values are
// checked for form (numbers, port ranges, jvmRoute characters, multicast
// address, hex key, booleans); every bad variable is reported, as *Error
// values naming the variable.
func OverridesFromEnv(getenv func(string) string) (Overrides, error) {
	o := Overrides{origin: map[string]string{}}
	var errs []error
	bad := func(name, f string, args ...any) {
		errs = append(errs, &Error{File: name, Msg: fmt.Sprintf(f, args...)})
	}
	port := func(name, v string, min int, allowed string) *int {
		n, err := strconv.Atoi(v)
		if err != nil || n < min || n > 65535 {
			bad(name, "%q is not a port (%s)", v, allowed)
			return nil
		}
		return &n
	}
	for _, e := range envVars {
		v := strings.TrimSpace(getenv(e.name))
		if v == "" {
			continue
		}
		o.origin[e.field] = e.name
		switch e.field {
		case "JvmRoute":
			if !ValidRoute(v) {
				bad(e.name, "%q is not a jvmRoute (letters, digits, '_' and '-')", v)
				continue
			}
			o.JvmRoute = &v
		case "HTTPPort":
			o.HTTPPort = port(e.name, v, 0, "0..65535")
		case "ShutdownPort":
			o.ShutdownPort = port(e.name, v, -1, "-1 disables, 0..65535")
		case "ReceiverPort":
			o.ReceiverPort = port(e.name, v, 0, "0..65535")
		case "McastPort":
			o.McastPort = port(e.name, v, 1, "1..65535")
		case "HTTPAddress", "McastBind":
			if net.ParseIP(v) == nil && !validHostname(v) {
				bad(e.name, "%q is not an IP address or host name", v)
				continue
			}
			if e.field == "HTTPAddress" {
				o.HTTPAddress = &v
			} else {
				o.McastBind = &v
			}
		case "ReceiverAddress":
			if v != "auto" && net.ParseIP(v) == nil && !validHostname(v) {
				bad(e.name, "%q is not an IP address, host name or \"auto\"", v)
				continue
			}
			o.ReceiverAddress = &v
		case "Membership":
			if err := CheckMembershipProvider(v); err != nil {
				bad(e.name, "%v", err)
				continue
			}
			o.Membership = &v
		case "Advertise":
			if err := CheckAdvertise(v); err != nil {
				bad(e.name, "%v", err)
				continue
			}
			o.Advertise = &v
		case "McastAddress":
			if ip := net.ParseIP(v); ip == nil || ip.To4() == nil || !ip.IsMulticast() {
				bad(e.name, "%q is not an IPv4 multicast address (224.0.0.0 to 239.255.255.255)", v)
				continue
			}
			o.McastAddress = &v
		case "McastTTL":
			n, err := strconv.Atoi(v)
			if err != nil || n < -1 || n > 255 {
				bad(e.name, "%q is not a TTL (-1 for the system default, 0..255)", v)
				continue
			}
			o.McastTTL = &n
		case "Domain":
			o.Domain = &v
		case "ClusterKey":
			k, err := ParseKey(v)
			if err != nil {
				bad(e.name, "%v", err) // never echo the key
				continue
			}
			o.ClusterKey = k
		case "ClusterKeyFile":
			o.ClusterKeyFile = &v
		case "InsecureCluster":
			b, err := strconv.ParseBool(v)
			if err != nil {
				bad(e.name, "%q is not a boolean (true or false)", v)
				continue
			}
			o.InsecureCluster = &b
		case "FarmWatch":
			b, err := strconv.ParseBool(v)
			if err != nil {
				bad(e.name, "%q is not a boolean (true or false)", v)
				continue
			}
			o.FarmWatch = &b
		case "Admin":
			if _, _, err := ParseAdmin(v); err != nil {
				bad(e.name, "%v", err)
				continue
			}
			o.Admin = &v
		}
	}
	return o, errors.Join(errs...)
}

// Apply sets every non-nil override on s. It returns a warning for each
// override that has nothing to change (a cluster setting without a
// <Cluster>, an HTTP setting without a Connector, …). Validate afterwards.
func (s *Server) Apply(o Overrides) []Warning {
	var warns []Warning
	src := func(field string) Pos {
		if name, ok := o.origin[field]; ok {
			return Pos{File: name}
		}
		if o.Source != "" {
			return Pos{File: o.Source}
		}
		return Pos{File: "override"}
	}
	missing := func(field, what string) {
		p := src(field)
		warns = append(warns, Warning{File: p.File, Msg: fmt.Sprintf("ignored: the configuration has no %s", what)})
	}
	setStr := func(n *Node, attr, field string, dst *string, v *string) {
		if v != nil {
			*dst = *v
			n.mark(attr, src(field), attr)
		}
	}
	setInt := func(n *Node, attr, field string, dst *int, v *int) {
		if v != nil {
			*dst = *v
			n.mark(attr, src(field), attr)
		}
	}

	setInt(&s.Node, "port", "ShutdownPort", &s.Port, o.ShutdownPort)
	if o.Admin != nil {
		s.applyAdmin(*o.Admin, src("Admin"))
	}
	if e := s.Engine(); e != nil {
		setStr(&e.Node, "jvmRoute", "JvmRoute", &e.JvmRoute, o.JvmRoute)
	} else if o.JvmRoute != nil {
		missing("JvmRoute", "<Engine>")
	}
	if c := s.Connector(); c != nil {
		setInt(&c.Node, "port", "HTTPPort", &c.Port, o.HTTPPort)
		setStr(&c.Node, "address", "HTTPAddress", &c.Address, o.HTTPAddress)
		if o.Advertise != nil {
			ip := advertiseIP(*o.Advertise) // the receiver's port is not the connector's
			setStr(&c.Node, "advertise", "Advertise", &c.Advertise, &ip)
		}
	} else {
		if o.HTTPPort != nil {
			missing("HTTPPort", "HTTP <Connector>")
		}
		if o.HTTPAddress != nil {
			missing("HTTPAddress", "HTTP <Connector>")
		}
	}

	c := s.Cluster()
	if c == nil {
		for field, set := range map[string]bool{
			"ReceiverPort": o.ReceiverPort != nil, "ReceiverAddress": o.ReceiverAddress != nil, "Advertise": o.Advertise != nil && s.Connector() == nil,
			"McastAddress": o.McastAddress != nil, "McastPort": o.McastPort != nil,
			"McastBind": o.McastBind != nil, "McastTTL": o.McastTTL != nil, "Domain": o.Domain != nil,
			"ClusterKey": o.ClusterKey != nil, "FarmWatch": o.FarmWatch != nil,
			"ClusterKeyFile": o.ClusterKeyFile != nil, "InsecureCluster": o.InsecureCluster != nil,
			"Membership": o.Membership != nil,
		} {
			if set {
				missing(field, "<Cluster>")
			}
		}
		sortWarnings(warns)
		return warns
	}
	setInt(&c.Receiver.Node, "port", "ReceiverPort", &c.Receiver.Port, o.ReceiverPort)
	setStr(&c.Receiver.Node, "address", "ReceiverAddress", &c.Receiver.Address, o.ReceiverAddress)
	setStr(&c.Receiver.Node, "advertise", "Advertise", &c.Receiver.Advertise, o.Advertise)
	m := &c.Membership
	if o.Membership != nil {
		if m.ClassName != CloudMembershipService {
			m.ClassName, m.Members = CloudMembershipService, nil
			if !m.Has("connectTimeout") {
				m.ConnectTimeout = DefaultCloudConnectTimeout
			}
		}
		m.MembershipProvider = *o.Membership
		m.mark("membershipProviderClassName", src("Membership"), "membershipProviderClassName")
		m.mark("className", src("Membership"), "className")
	}
	setStr(&m.Node, "address", "McastAddress", &m.Address, o.McastAddress)
	setInt(&m.Node, "port", "McastPort", &m.Port, o.McastPort)
	setStr(&m.Node, "bind", "McastBind", &m.Bind, o.McastBind)
	setInt(&m.Node, "ttl", "McastTTL", &m.TTL, o.McastTTL)
	setStr(&m.Node, "domain", "Domain", &m.Domain, o.Domain)
	// A key given here replaces server.xml's key or keyFile, and so does a
	// key file (both given here: the key, as ParseKey's caller decided).
	if o.ClusterKeyFile != nil {
		c.KeyFile, c.Key = *o.ClusterKeyFile, nil
		c.mark("keyFile", src("ClusterKeyFile"), "keyFile")
	}
	if o.ClusterKey != nil {
		c.Key, c.KeyFile = append([]byte(nil), o.ClusterKey...), ""
		c.mark("key", src("ClusterKey"), "key")
	}
	if o.InsecureCluster != nil {
		c.Insecure = *o.InsecureCluster
		c.mark("insecure", src("InsecureCluster"), "insecure")
	}
	if o.FarmWatch != nil {
		if c.Deployer == nil {
			missing("FarmWatch", "<Deployer> in its <Cluster>")
		} else {
			c.Deployer.WatchEnabled = *o.FarmWatch
			c.Deployer.mark("watchEnabled", src("FarmWatch"), "watchEnabled")
		}
	}
	return warns
}

// advertiseIP is the IP of an advertise value ("IP" or "IP:PORT").
func advertiseIP(a string) string {
	if ip, _, err := SplitAdvertise(a); err == nil {
		return ip.String()
	}
	return a // refused by Validate
}

func sortWarnings(ws []Warning) {
	slices.SortFunc(ws, func(a, b Warning) int { return strings.Compare(a.String(), b.String()) })
}
