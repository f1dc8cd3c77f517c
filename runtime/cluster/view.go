package cluster

import (
	"net/netip"
	"slices"

	"github.com/gomcat/gomcat/mcast"
)

// view is an immutable snapshot of the members, published by the event
// loop after every change and read without locks by Ports.
type view struct {
	self    mcast.Member
	members []*rec // live and suspect members, oldest first
	byName  map[string]*rec
	byAddr  map[string]*rec
	// staticHosts (static membership only) are the hosts of every entry,
	// members or not: their announces are admitted (admit.go).
	staticHosts map[netip.Addr]bool
	next        chan struct{} // closed when a newer view is published
}

func newView() *view { return &view{next: make(chan struct{})} }

// rec is one member in a view.
type rec struct {
	m       mcast.Member
	addr    string // receiver "host:port", the Sender's key
	gen     uint64 // per name, grows each time the name becomes a member
	suspect bool
}

// publish builds and stores a new view from the table and tells the
// subscribers; inside batch it only marks the view dirty. Event loop only.
func (c *Cluster) publish() {
	if c.batching {
		c.dirty = true
		return
	}
	v := &view{
		self:   c.self,
		byName: make(map[string]*rec, len(c.tab.entries)),
		byAddr: make(map[string]*rec, len(c.tab.entries)),
		next:   make(chan struct{}),
	}
	if c.learn != nil {
		v.staticHosts = make(map[netip.Addr]bool, len(c.tab.entries))
	}
	c.idMu.Lock()
	for _, e := range c.tab.entries {
		if v.staticHosts != nil {
			if a, ok := netip.AddrFromSlice(e.m.Host); ok {
				v.staticHosts[a.Unmap()] = true
			}
		}
		if e.st == statePending {
			continue
		}
		r := &rec{m: e.m, addr: e.addr, gen: e.gen, suspect: e.st != stateLive}
		if id, ok := c.ids[e.addr]; ok && c.learn != nil {
			r.m.UniqueID = id // the peer's own id, for the age order
		}
		v.members = append(v.members, r)
		v.byName[e.m.Name] = r
		v.byAddr[e.addr] = r
	}
	c.idMu.Unlock()
	slices.SortFunc(v.members, func(a, b *rec) int {
		switch {
		case a.m.Older(b.m):
			return -1
		case b.m.Older(a.m):
			return 1
		}
		return 0
	})
	c.store(v, false)
}

// batch runs f publishing once at the end, so a member removed and added
// again under the same name inside f reaches subscribers as one
// MemberReplaced. Event loop only.
func (c *Cluster) batch(f func()) {
	c.batching = true
	f()
	c.batching = false
	if c.dirty {
		c.dirty = false
		c.publish()
	}
}

// names returns the members' names, oldest first.
func (v *view) names() []string {
	out := make([]string, len(v.members))
	for i, r := range v.members {
		out[i] = r.m.Name
	}
	return out
}

// seniors returns the names of the members older than self by (StartedAt,
// UniqueID): values carried in heartbeats, so both sides agree.
func (v *view) seniors() []string {
	var out []string
	for _, r := range v.members {
		if r.m.Older(v.self) {
			out = append(out, r.m.Name)
		}
	}
	return out
}
