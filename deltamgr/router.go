package deltamgr

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
)

// Router is the node's inbound side for session messages (Tomcat's
// ClusterSessionListener): one per node, registered with the cluster on
// channel 1. It decodes each message and hands it to the Manager whose name
// is the message's context name. Safe for concurrent use.
type Router struct {
	log zerolog.Logger
	cl  atomic.Pointer[clusterRef]

	mu       sync.RWMutex
	managers map[string]*Manager
}

type clusterRef struct{ c Cluster }

// NewRouter returns an empty router. Bind it to the cluster port whose
// inbound side calls Deliver, then Add the managers before starting them.
func NewRouter(log zerolog.Logger) *Router {
	return &Router{
		log:      log.With().Str("component", "deltamgr").Logger(),
		managers: make(map[string]*Manager),
	}
}

// Bind sets the cluster the router answers through (replies to GET_ALL for
// contexts this node does not have). Call it once the port exists; until then
// such requests are only logged.
func (r *Router) Bind(c Cluster) { r.cl.Store(&clusterRef{c}) }

// Add registers m under its name. Inbound messages for it are routed from now on.
func (r *Router) Add(m *Manager) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.managers[m.cfg.Name]; ok {
		return ErrDuplicateContext
	}
	r.managers[m.cfg.Name] = m
	m.setRouter(r)
	return nil
}

// Remove unregisters the manager named name (Manager.Stop does it too).
func (r *Router) Remove(name string) {
	r.mu.Lock()
	delete(r.managers, name)
	r.mu.Unlock()
}

// removeIf unregisters m if it is still the manager registered under its name.
func (r *Router) removeIf(m *Manager) {
	r.mu.Lock()
	if r.managers[m.cfg.Name] == m {
		delete(r.managers, m.cfg.Name)
	}
	r.mu.Unlock()
}

// Manager returns the manager registered under name, or nil.
func (r *Router) Manager(name string) *Manager {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.managers[name]
}

// Deliver handles one inbound message from member from. It is the function
// to register with the cluster port for channel 1. It returns an error only
// for bytes that are not a session message or when the manager failed to
// process a message (sync senders see it); it may block while a manager
// applies a state-transfer chunk. Safe for concurrent use.
func (r *Router) Deliver(ctx context.Context, from string, msg []byte) error {
	m, err := Decode(msg)
	if err != nil {
		r.log.Debug().Err(err).Str("peer", from).Int("bytes", len(msg)).Msg("undecodable session message")
		return err
	}
	if !m.Kind.Known() {
		r.log.Debug().Str("peer", from).Int("kind", int(m.Kind)).Msg("ignoring session message of unknown kind")
		return nil
	}
	mgr := r.Manager(m.Context)
	if mgr == nil {
		r.log.Warn().Str("peer", from).Str("kind", m.Kind.String()).
			Msgf("Context manager doesn't exist:[%s]", m.Context)
		if m.Kind == KindGetAllSessions {
			r.replyNoContextManager(ctx, from, m)
		}
		return nil
	}
	return mgr.receive(ctx, from, m, len(msg))
}

// replyNoContextManager answers a GET_ALL_SESSIONS for a context this node lacks.
func (r *Router) replyNoContextManager(ctx context.Context, to string, req *Message) {
	ref := r.cl.Load()
	if ref == nil {
		return
	}
	b, err := Encode(&Message{
		Kind:      KindAllSessionNoContextManager,
		Context:   req.Context,
		SessionID: "NO-CONTEXT-MANAGER",
		Timestamp: time.Now().UnixMilli(),
		Transfer:  req.Transfer,
	})
	if err == nil {
		err = ref.c.Send(ctx, to, b, OptionsAsync)
	}
	if err != nil {
		r.log.Warn().Err(err).Str("peer", to).Msg("cannot answer get-all for unknown context")
	}
}
