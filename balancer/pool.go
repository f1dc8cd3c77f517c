package balancer

import (
	"slices"
	"sync"
	"sync/atomic"
)

// pool is the routing table: node name → current incarnation.
type pool struct {
	mu     sync.RWMutex
	byName map[string]*node
	order  []*node           // sorted by name: stable /status and tie-breaking
	alias  map[string]string // learned jvmRoute → node name (Config.LearnRoutes)

	rr atomic.Uint64 // round robin among equally loaded nodes
}

func newPool() *pool { return &pool{byName: map[string]*node{}, alias: map[string]string{}} }

// maxAliases bounds the learned routes (one per node is the norm).
const maxAliases = 1024

// learn records that route is served by the node named name; it reports
// whether that is new. A route that names a node itself is never aliased.
func (p *pool) learn(route, name string) bool {
	p.mu.RLock()
	same := p.alias[route] == name
	p.mu.RUnlock()
	if same {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.byName[route] != nil || p.alias[route] == name {
		return false
	}
	if _, ok := p.alias[route]; !ok && len(p.alias) >= maxAliases {
		return false
	}
	p.alias[route] = name
	return true
}

func (p *pool) get(name string) *node {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.byName[name]
}

// put installs n (replacing any node of that name) and returns the old one.
func (p *pool) put(n *node) (old *node) {
	p.mu.Lock()
	defer p.mu.Unlock()
	old = p.byName[n.name]
	p.byName[n.name] = n
	p.order = slices.DeleteFunc(p.order, func(x *node) bool { return x.name == n.name })
	i, _ := slices.BinarySearchFunc(p.order, n.name, func(x *node, name string) int {
		switch {
		case x.name < name:
			return -1
		case x.name > name:
			return 1
		}
		return 0
	})
	p.order = slices.Insert(p.order, i, n)
	return old
}

func (p *pool) all() []*node {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return slices.Clone(p.order)
}

func (p *pool) liveCount() int {
	p.mu.RLock()
	defer p.mu.RUnlock()
	c := 0
	for _, n := range p.order {
		if n.live.Load() {
			c++
		}
	}
	return c
}

// pick chooses the node for a request. The first route that names a live
// node (other than skip) wins and routed is true; otherwise the live node
// with the fewest outstanding requests, ties broken round robin. nil when no
// node is live. The caller increments outstanding on the node it uses.
func (p *pool) pick(routes []string, skip *node) (n *node, routed bool) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	for _, rt := range routes {
		n := p.byName[rt]
		if n == nil {
			n = p.byName[p.alias[rt]]
		}
		if n != nil && n != skip && n.live.Load() {
			return n, true
		}
	}
	var (
		tied [8]*node
		ties = tied[:0]
		best int64
	)
	for _, c := range p.order {
		if c == skip || !c.live.Load() {
			continue
		}
		o := c.outstanding.Load()
		switch {
		case len(ties) == 0 || o < best:
			ties, best = append(ties[:0], c), o
		case o == best:
			ties = append(ties, c)
		}
	}
	switch len(ties) {
	case 0:
		return nil, false
	case 1:
		return ties[0], false
	}
	return ties[p.rr.Add(1)%uint64(len(ties))], false
}
