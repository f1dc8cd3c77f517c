package host

import (
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/rs/zerolog"
)

// AppContext is what a Factory is told about the context it serves.
type AppContext struct {
	// Name is the registered app name.
	Name string
	// Path is the context path: "/" for ROOT, else "/shop". The app's handler
	// sees request paths with this prefix removed ("/shop/cart" → "/cart");
	// it builds links with Path (see Link).
	Path string
	// DocBase is the absolute directory of the context's static files, or ""
	// when it has none. Static serves it safely.
	DocBase string
	// WorkDir is a private scratch directory for this context (created).
	WorkDir string
	// Host is the virtual host name ("localhost").
	Host string
	// JvmRoute is this node's name, the suffix of its session ids ("" if unset).
	JvmRoute string
	// Distributable reports whether sessions of this context are replicated
	// (once clustering is active); values must then survive a CBOR round trip.
	Distributable bool
	// SessionTimeout is the idle timeout of new sessions (negative: never).
	SessionTimeout time.Duration
	// Params are the context's init parameters (server.xml <Parameter>).
	Params map[string]string
	// Logger is the node's logger with component=app, app and context set.
	Logger zerolog.Logger
	// ActiveSessions returns the number of live sessions of this context on
	// this node. Never nil.
	ActiveSessions func() int
}

// Link returns p (which starts with "/") prefixed with the context path.
func (a AppContext) Link(p string) string {
	if a.Path == "/" || a.Path == "" {
		return p
	}
	return a.Path + p
}

// Factory builds an app's handler for one context. It is called once per
// deployment (and again on redeploy). If the returned handler implements
// io.Closer, Close is called after the context has been undeployed and its
// in-flight requests have finished.
type Factory func(ctx AppContext) (http.Handler, error)

var registry = struct {
	mu  sync.RWMutex
	fns map[string]Factory
}{fns: map[string]Factory{}}

// Register makes an app available by name to every Context in the process,
// like database/sql drivers; call it from an init function or from main
// before the node starts. It panics if name is empty, f is nil or the name is
// already registered.
func Register(name string, f Factory) {
	if name == "" || f == nil {
		panic("host: Register with empty name or nil factory")
	}
	registry.mu.Lock()
	defer registry.mu.Unlock()
	if _, dup := registry.fns[name]; dup {
		panic(fmt.Sprintf("host: Register called twice for app %q", name))
	}
	registry.fns[name] = f
}

// Apps returns the registered app names, sorted.
func Apps() []string {
	registry.mu.RLock()
	defer registry.mu.RUnlock()
	names := make([]string, 0, len(registry.fns))
	for n := range registry.fns {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

func lookupApp(name string) (Factory, bool) {
	registry.mu.RLock()
	defer registry.mu.RUnlock()
	f, ok := registry.fns[name]
	return f, ok
}
