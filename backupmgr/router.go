package backupmgr

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/rs/zerolog"

	"github.com/gomcat/gomcat/deltamgr"
)

// Router is the node's inbound side for map messages: one per node,
// registered with the cluster on a channel of its own. It decodes each
// message and hands it to the Manager named by its context; it answers
// MSG_INIT for a context this node does not run with NO_CONTEXT (so the
// asker does not wait for it). Safe for concurrent use.
type Router struct {
	log     zerolog.Logger
	cl      atomic.Pointer[Cluster]
	refused atomic.Uint64

	mu       sync.RWMutex
	managers map[string]*Manager
}

// NewRouter returns an empty router.
func NewRouter(log zerolog.Logger) *Router {
	return &Router{log: log.With().Str("component", "backupmgr").Logger(), managers: make(map[string]*Manager)}
}

// Bind sets the cluster the router answers through.
func (r *Router) Bind(c Cluster) { r.cl.Store(&c) }

// Add registers m under its name.
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

// removeIf unregisters m if it is still registered under its name.
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

// Refused returns how many messages did not decode.
func (r *Router) Refused() uint64 { return r.refused.Load() }

// Deliver handles one inbound message from member from (the function to
// register for the channel). It returns an error for bytes that are not a
// map message (counted in Refused).
func (r *Router) Deliver(ctx context.Context, from string, b []byte) error {
	m, err := Decode(b)
	if err != nil {
		r.refused.Add(1)
		r.log.Debug().Err(err).Str("peer", from).Int("bytes", len(b)).Msg("undecodable map message")
		return err
	}
	if !m.Kind.Known() {
		return nil
	}
	mgr := r.Manager(m.Context)
	if mgr == nil {
		if m.Kind == KindInit {
			if c := r.cl.Load(); c != nil {
				if out, err := Encode(&Message{Kind: KindNoContext, Context: m.Context}); err == nil {
					_ = (*c).Send(ctx, from, out, deltamgr.OptionsAsync)
				}
			}
		}
		return nil
	}
	return mgr.receive(ctx, from, m, len(b))
}
