package host

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"syscall"
)

var (
	// ErrUnknownApp: a context names an app that is not registered.
	ErrUnknownApp = errors.New("host: unknown app")
	// ErrBadManifest: a bundle's META-INF/app.xml is missing or invalid.
	ErrBadManifest = errors.New("host: bad bundle manifest")
	// ErrUnsafeEntry: a bundle entry would escape its directory, is absolute,
	// a link or a special file, or is duplicated.
	ErrUnsafeEntry = errors.New("host: unsafe bundle entry")
	// ErrBundleTooLarge: a bundle exceeds one of the BundleLimits.
	ErrBundleTooLarge = errors.New("host: bundle too large")
	// ErrNotBundle: the file is not a zip archive.
	ErrNotBundle = errors.New("host: not a bundle (zip archive)")
	// ErrContextExists: Deploy of a path that is already deployed.
	ErrContextExists = errors.New("host: context already deployed")
	// ErrNoContext: Undeploy or Redeploy of a path that is not deployed.
	ErrNoContext = errors.New("host: no such context")
	// ErrClosed: the host or connector has been stopped.
	ErrClosed = errors.New("host: closed")
	// ErrPortInUse: a connector's port is taken by another process.
	ErrPortInUse = errors.New("address already in use")
)

// BundleError names the bundle and entry a problem was found in.
type BundleError struct {
	File  string // bundle file, "" if read from memory
	Entry string // zip entry name, "" for the archive as a whole
	Msg   string // what is wrong
	Err   error  // a sentinel: ErrUnsafeEntry, ErrBundleTooLarge, ...
}

func (e *BundleError) Error() string {
	s := "bundle"
	if e.File != "" {
		s += " " + e.File
	}
	if e.Entry != "" {
		s += ": entry " + strconv.Quote(e.Entry)
	}
	return s + ": " + e.Msg
}

func (e *BundleError) Unwrap() error { return e.Err }

// ListenError is a connector (or the shutdown port, or an admin listener)
// failing to listen. Its message names the element, port and address:
// "Connector port 8091 on 127.0.0.1: address already in use" ("on all
// interfaces" for an empty or unspecified address).
type ListenError struct {
	Element string // "Connector", "Server" (shutdown port)
	Addr    string // host:port tried
	Port    int
	Err     error
}

func (e *ListenError) Error() string {
	where := "all interfaces"
	if h, _, err := net.SplitHostPort(e.Addr); err == nil {
		if ip := net.ParseIP(h); h != "" && (ip == nil || !ip.IsUnspecified()) {
			where = h
		}
	}
	if errors.Is(e.Err, syscall.EADDRINUSE) {
		return fmt.Sprintf("%s port %d on %s: address already in use", e.Element, e.Port, where)
	}
	return fmt.Sprintf("%s port %d on %s: %v", e.Element, e.Port, where, e.Err)
}

// Unwrap returns the cause and, for a port in use, ErrPortInUse.
func (e *ListenError) Unwrap() []error {
	if errors.Is(e.Err, syscall.EADDRINUSE) {
		return []error{e.Err, ErrPortInUse}
	}
	return []error{e.Err}
}
