package kubernetes

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// Default service account paths, mounted in every pod by Kubernetes.
const (
	DefaultTokenFile     = "/var/run/secrets/kubernetes.io/serviceaccount/token"
	DefaultCAFile        = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt"
	DefaultNamespaceFile = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"
	// DefaultNamespace is Tomcat's fallback when nothing names a namespace.
	DefaultNamespace = "tomcat"
)

// Config says which API to ask and for which pods.
type Config struct {
	// Protocol is "https" or "http" (http sends no token). Default: "https".
	Protocol string
	// Host is the API server's host name or IP (IPv6 without brackets).
	// Required (in a pod: KUBERNETES_SERVICE_HOST).
	Host string
	// APIPort is the API server's port. Default: 443.
	APIPort int
	// APIVersion is the path's version. Default: "v1".
	APIVersion string
	// Namespace whose pods are listed. Required.
	Namespace string
	// Labels is the label selector ("app=gomcat,tier=web"); empty lists
	// every pod of the namespace. Default: "".
	Labels string
	// TokenFile holds the bearer token; re-read on every request. Empty
	// sends no token. Default: DefaultTokenFile.
	TokenFile string
	// CAFile holds the PEM certificates that verify the API server.
	// Required with https. Default: DefaultCAFile.
	CAFile string
	// Port is the members' receiver port put in each target; 0 means the
	// cluster's own receiver port (Tomcat's rule). Default: 0.
	Port int
	// ConnectTimeout bounds the TCP connect and TLS handshake. Default: 1 s.
	ConnectTimeout time.Duration
	// ReadTimeout bounds the wait for the answer after connecting, headers
	// and body. Default: 1 s.
	ReadTimeout time.Duration
	// MaxBody is the largest answer read, in bytes. Default: 8 MiB (~4000
	// pods).
	MaxBody int64
	// RetryMin is the first back-off after a failure, doubled on each
	// further failure up to RetryMax. Defaults: 1 s, 30 s.
	RetryMin, RetryMax time.Duration
}

// DefaultConfig is the configuration of a pod with the service account
// mounted, except Host and Namespace (see FromEnv).
func DefaultConfig() Config {
	return Config{
		Protocol:       "https",
		APIPort:        443,
		APIVersion:     "v1",
		TokenFile:      DefaultTokenFile,
		CAFile:         DefaultCAFile,
		ConnectTimeout: time.Second,
		ReadTimeout:    time.Second,
		MaxBody:        8 << 20,
		RetryMin:       time.Second,
		RetryMax:       30 * time.Second,
	}
}

// Validate reports every problem of c.
func (c Config) Validate() error {
	var errs []error
	bad := func(f string, a ...any) { errs = append(errs, fmt.Errorf("kubernetes: "+f, a...)) }
	if c.Protocol != "https" && c.Protocol != "http" {
		bad("protocol %q: want https or http", c.Protocol)
	}
	if c.Host == "" {
		bad("no API host (set KUBERNETES_SERVICE_HOST)")
	}
	if c.APIPort <= 0 || c.APIPort > 65535 {
		bad("API port %d: want 1-65535", c.APIPort)
	}
	if c.APIVersion == "" || strings.ContainsAny(c.APIVersion, "/?#") {
		bad("API version %q", c.APIVersion)
	}
	if c.Namespace == "" || strings.ContainsAny(c.Namespace, "/?#%") {
		bad("namespace %q", c.Namespace)
	}
	if c.Protocol == "https" && c.CAFile == "" {
		bad("https needs a CA file")
	}
	if c.Port < 0 || c.Port > 65535 {
		bad("port %d: want 0-65535", c.Port)
	}
	if c.ConnectTimeout <= 0 || c.ReadTimeout <= 0 {
		bad("connectTimeout %s, readTimeout %s: want > 0", c.ConnectTimeout, c.ReadTimeout)
	}
	if c.MaxBody < 1024 {
		bad("maxBody %d: want >= 1024", c.MaxBody)
	}
	if c.RetryMin <= 0 || c.RetryMax < c.RetryMin {
		bad("retry %s..%s: want 0 < min <= max", c.RetryMin, c.RetryMax)
	}
	return errors.Join(errs...)
}

// FromEnv is DefaultConfig with Tomcat's environment variables applied
// (getenv is os.Getenv outside tests). For each setting the
// OPENSHIFT_KUBE_PING_ name wins over the KUBERNETES_ one:
//
//	namespace   OPENSHIFT_KUBE_PING_NAMESPACE, KUBERNETES_NAMESPACE, else the
//	            service account's namespace file, else "tomcat"
//	labels      …_LABELS
//	host, port  OPENSHIFT_KUBE_PING_MASTER_HOST/_PORT, KUBERNETES_SERVICE_HOST/_PORT
//	protocol    …_MASTER_PROTOCOL      version  …_API_VERSION
//	token, CA   …_SA_TOKEN_FILE, …_CA_CERT_FILE
//
// It fails only on a malformed port; Validate reports what is missing.
func FromEnv(getenv func(string) string) (Config, error) {
	c := DefaultConfig()
	env := func(openshift, kubernetes string) string {
		if v := getenv("OPENSHIFT_KUBE_PING_" + openshift); v != "" {
			return v
		}
		return getenv("KUBERNETES_" + kubernetes)
	}
	c.Namespace = env("NAMESPACE", "NAMESPACE")
	if c.Namespace == "" {
		if b, err := os.ReadFile(DefaultNamespaceFile); err == nil {
			c.Namespace = strings.TrimSpace(string(b))
		}
	}
	if c.Namespace == "" {
		c.Namespace = DefaultNamespace
	}
	c.Labels = env("LABELS", "LABELS")
	c.Host = env("MASTER_HOST", "SERVICE_HOST")
	if p := env("MASTER_PORT", "SERVICE_PORT"); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil {
			return c, fmt.Errorf("kubernetes: API port %q: %w", p, err)
		}
		c.APIPort = n
	}
	if v := env("MASTER_PROTOCOL", "MASTER_PROTOCOL"); v != "" {
		c.Protocol = v
	}
	if v := env("API_VERSION", "API_VERSION"); v != "" {
		c.APIVersion = v
	}
	if v := env("SA_TOKEN_FILE", "SA_TOKEN_FILE"); v != "" {
		c.TokenFile = v
	}
	if v := env("CA_CERT_FILE", "CA_CERT_FILE"); v != "" {
		c.CAFile = v
	}
	return c, nil
}
