package balancer

import "context"

// EventKind says what happened to a node. Append only.
type EventKind int

// Discovery event kinds.
const (
	// NodeUp: the node exists at URL (new, restarted, or moved). It takes new
	// requests unless health checks or recent connection failures say otherwise.
	NodeUp EventKind = iota + 1
	// NodeDown: the node is gone (expired, or removed); no new requests.
	NodeDown
	// NodeLeaving: the node said goodbye; in-flight requests finish, no new ones.
	NodeLeaving
)

func (k EventKind) String() string {
	switch k {
	case NodeUp:
		return "up"
	case NodeDown:
		return "down"
	case NodeLeaving:
		return "leaving"
	}
	return "unknown"
}

// Event is one change of one node as a Discovery sees it.
type Event struct {
	Kind EventKind
	Name string // the node's jvmRoute
	URL  string // http://host:port or host:port; NodeUp only
	// Checked asks the balancer to health-check the node actively: it starts
	// down and goes live after its first good check (static backends).
	Checked bool
}

// Discovery supplies the balancer's nodes.
type Discovery interface {
	// Run reports changes through emit until ctx ends, then returns nil; it
	// blocks. It returns an error only when discovery cannot go on. emit is
	// never called concurrently by one Run and returns quickly.
	Run(ctx context.Context, emit func(Event)) error
}

// Static returns a Discovery of fixed backends, each health-checked actively
// (Config.Health: GET Path every Interval, Fall/Rise).
func Static(backends []Backend) Discovery { return static(backends) }

type static []Backend

func (s static) Run(ctx context.Context, emit func(Event)) error {
	for _, b := range s {
		emit(Event{Kind: NodeUp, Name: b.Name, URL: b.URL, Checked: true})
	}
	<-ctx.Done()
	return nil
}
