package backupmgr

import (
	"slices"
	"time"
)

// core is the pure map: every session id this member knows, with its roles
// (primary, backups), and the members known to run this context. It does no
// I/O and reads no clock: each input (a request completed, a message, a
// member up or down, a tick with the time) returns the effects the shell
// carries out. Not safe for concurrent use (the Manager's mu guards it).
type core struct {
	self  string
	n     int // backups per session
	peers []string
	rr    int // round-robin cursor over peers
	// entries are the ids kept in full: those this member holds a value
	// for, and every id proxies cannot take. proxies holds the others
	// densely (dense.go). An id is in one of them at most.
	entries map[string]*entry
	proxies proxyTable
	hot     []string // ids taken out of proxies or added to entries by the current input (settle)

	rebalance int           // sessions moved per second to a new member (0: off)
	budget    float64       // rebalancing moves allowed now
	lastTick  time.Time     // time of the previous tick
	idle      time.Duration // proxies untouched this long are forgotten (0: never)
	access    time.Duration // ACCESS is sent when the last message is older (0: never)
}

// entry is one id's roles plus this member's bookkeeping.
type entry struct {
	Entry
	local     bool      // this member holds the value (primary or backup)
	announced bool      // primary: the members were told (first completed request)
	touched   time.Time // last message or request for it
	gen       uint64    // generation of the value held or last sent
	valVer    uint64    // the roles' Ver the value was sent under: (valVer, gen) orders values
}

type effectKind uint8

const (
	effSend      effectKind = iota + 1 // send msg to each member of to, async
	effReplicate                       // send the value with the entry's roles to each of to (MapSendOptions)
	effDrop                            // this member no longer holds id's value: drop it, silently
	effForget                          // id is gone (removed, orphaned): drop value and entry, silently
	effPromoted                        // this member became id's primary
	effLost                            // every copy of id died (reported by one member)
)

// effect is one thing for the shell to do.
type effect struct {
	kind effectKind
	id   string
	to   []string
	msg  *Message
	wait bool // effSend: with MapSendOptions (the receiver processed it on return)
}

func newCore(self string, backups, rebalance int, idle, access time.Duration) *core {
	return &core{self: self, n: backups, rebalance: rebalance, idle: idle, access: access,
		entries: make(map[string]*entry), proxies: newProxyTable()}
}

// get returns id's entry to read or change; an entry kept in proxies
// moves to entries until the input ends (settle). nil if unknown.
func (c *core) get(id string) *entry {
	if e := c.entries[id]; e != nil {
		return e
	}
	e, ok := c.proxies.get(id)
	if !ok {
		return nil
	}
	c.proxies.del(id)
	c.add(id, e)
	return e
}

// view returns id's entry only to read it (a copy for a proxy). nil if unknown.
func (c *core) view(id string) *entry {
	if e := c.entries[id]; e != nil {
		return e
	}
	e, _ := c.proxies.get(id)
	return e
}

// add stores a new entry for id.
func (c *core) add(id string, e *entry) {
	c.entries[id] = e
	c.hot = append(c.hot, id)
}

// del forgets id's entry.
func (c *core) del(id string) {
	delete(c.entries, id)
	c.proxies.del(id)
}

// settle ends an input: the entries it took out of proxies or added go
// (back) there when they fit. Every input that may call get or add
// defers it.
func (c *core) settle() {
	for _, id := range c.hot {
		if e := c.entries[id]; e != nil && e.ID == id && c.proxies.put(e) {
			delete(c.entries, id)
		}
	}
	c.hot = c.hot[:0]
}

// each calls f with every entry (copies for proxies), in no order.
func (c *core) each(f func(id string, e *entry)) {
	for id, e := range c.entries {
		f(id, e)
	}
	for k, s := range c.proxies.slots {
		id := c.proxies.idOf(k, &s)
		e, _ := c.proxies.get(id)
		f(id, e)
	}
}

func (c *core) isPeer(name string) bool {
	_, ok := slices.BinarySearch(c.peers, name)
	return ok
}

// holds reports whether name is id's primary or one of its backups.
func (e *Entry) holds(name string) bool {
	return e.Primary == name || slices.Contains(e.Backups, name)
}

// others returns the peers that hold no copy of e.
func (c *core) others(e *Entry) []string {
	var out []string
	for _, p := range c.peers {
		if !e.holds(p) {
			out = append(out, p)
		}
	}
	return out
}

// pick returns up to k peers, round-robin, that do not hold e. Each
// member's round starts at the member after itself in name order, so
// members that create as many sessions spread their backups evenly (all
// starting at the first name would leave the last one without backups
// until the cursors wrap).
func (c *core) pick(e *Entry, k int) []string {
	var out []string
	after, _ := slices.BinarySearch(c.peers, c.self)
	for i := 0; i < len(c.peers) && len(out) < k; i++ {
		p := c.peers[(after+c.rr+i)%len(c.peers)]
		if !e.holds(p) && !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	if len(c.peers) > 0 {
		c.rr = (c.rr + 1) % len(c.peers)
	}
	return out
}

// topUp gives e (primary here) backups up to n and returns the new ones.
func (c *core) topUp(e *entry) []string {
	if len(e.Backups) >= c.n {
		return nil
	}
	add := c.pick(&e.Entry, c.n-len(e.Backups))
	e.Backups = append(e.Backups, add...)
	return add
}

func proxyMsg(e *Entry) *Message {
	cp := e.clone()
	return &Message{Kind: KindProxy, Entry: &cp}
}

func (e *Entry) clone() Entry {
	c := *e
	c.Backups = slices.Clone(e.Backups)
	return c
}

// publish returns the effects that tell everyone e's new roles: the value
// to the backups in fresh (they do not hold it yet), the roles to the rest.
func (c *core) publish(e *entry, fresh []string) []effect {
	var out []effect
	if len(fresh) > 0 {
		out = append(out, effect{kind: effReplicate, id: e.ID, to: fresh})
	}
	var rest []string
	for _, p := range c.peers {
		if !slices.Contains(fresh, p) {
			rest = append(rest, p)
		}
	}
	if len(rest) > 0 {
		out = append(out, effect{kind: effSend, id: e.ID, to: rest, msg: proxyMsg(&e.Entry)})
	}
	return out
}

// created registers a new primary session; nothing is sent until its
// first request completes.
func (c *core) created(id string, now time.Time) {
	defer c.settle()
	e := &entry{Entry: Entry{ID: id, Primary: c.self, Ver: 1}, local: true, touched: now}
	c.topUp(e)
	c.add(id, e)
}

// completed is the end of a request on id's primary: the first one
// announces the session (value to the backups, roles to the others), a
// later one with changes sends the value to the backups only, one without
// changes only an ACCESS when the copies would otherwise expire.
func (c *core) completed(id string, changed bool, now time.Time) []effect {
	defer c.settle()
	e := c.get(id)
	if e == nil || e.Primary != c.self {
		return nil
	}
	last := e.touched
	e.touched = now
	switch {
	case !e.announced:
		e.announced = true
		return c.publish(e, e.Backups)
	case changed:
		if len(e.Backups) == 0 {
			return nil
		}
		return []effect{{kind: effReplicate, id: id, to: slices.Clone(e.Backups)}}
	case c.access > 0 && now.Sub(last) >= c.access && len(c.peers) > 0:
		return []effect{{kind: effSend, id: id, to: slices.Clone(c.peers),
			msg: &Message{Kind: KindAccess, Entry: &Entry{ID: id}, Accessed: now.UnixNano()}}}
	}
	e.touched = last
	return nil
}

// removed is the expiry or invalidation of id here: everyone forgets it.
func (c *core) removed(id string) []effect {
	e := c.view(id)
	if e == nil {
		return nil
	}
	c.del(id)
	if !e.announced && e.Primary == c.self || len(c.peers) == 0 {
		return nil
	}
	return []effect{{kind: effSend, id: id, to: slices.Clone(c.peers),
		msg: &Message{Kind: KindRemove, Entry: &Entry{ID: id}}}}
}

// renamed moves id to newID here and tells everyone.
func (c *core) renamed(old, newID string) []effect {
	defer c.settle()
	e := c.view(old)
	if e == nil || c.view(newID) != nil {
		return nil
	}
	c.del(old)
	e.ID = newID
	c.add(newID, e)
	if !e.announced || len(c.peers) == 0 {
		return nil
	}
	return []effect{{kind: effSend, id: newID, to: slices.Clone(c.peers),
		msg: &Message{Kind: KindRename, Entry: &Entry{ID: old}, NewID: newID}}}
}

// role is what this member is for id.
type role uint8

const (
	roleNone role = iota
	rolePrimary
	roleBackup // holds the value, another member is primary
	roleProxy  // knows the holders only
)

// lookup returns this member's role for id and, for a proxy, the holders
// to retrieve from (backups first: the primary may be the reason for the
// failover).
func (c *core) lookup(id string) (role, []string) {
	e := c.view(id)
	switch {
	case e == nil:
		return roleNone, nil
	case e.Primary == c.self:
		return rolePrimary, nil
	case e.local:
		return roleBackup, nil
	}
	var from []string
	for _, b := range e.Backups {
		if b != c.self && c.isPeer(b) {
			from = append(from, b)
		}
	}
	if e.Primary != "" && c.isPeer(e.Primary) {
		from = append(from, e.Primary)
	}
	return roleProxy, from
}

// takeOver makes this member id's primary: a request for it arrived here
// (failover, or no stickiness). got is the roles as known by the member the
// value (generation gen) was retrieved from (nil when this member was a
// backup already).
// The previous holders stay backups, preferred in order (primary first:
// it holds the newest value), so usually nothing but roles travels.
func (c *core) takeOver(id string, got *Entry, gen uint64, now time.Time) []effect {
	defer c.settle()
	e := c.get(id)
	if got != nil {
		if e == nil {
			e = &entry{}
			c.add(id, e)
		}
		if got.Ver > e.Ver || e.Primary == "" {
			e.Entry = got.clone()
		}
		e.gen = max(e.gen, gen)
	}
	if e == nil {
		return nil
	}
	var keep, prev []string
	for _, h := range append([]string{e.Primary}, e.Backups...) {
		if h != c.self && h != "" && c.isPeer(h) {
			prev = append(prev, h)
		}
		if h != c.self && h != "" && c.isPeer(h) && !slices.Contains(keep, h) && len(keep) < c.n {
			keep = append(keep, h)
		}
	}
	e.ID = id
	e.Primary, e.Backups = c.self, keep
	// +2: a takeover by a request wins over a concurrent relocation by
	// the old primary (+1) from the same version.
	e.Ver += 2
	e.local, e.announced, e.touched = true, true, now
	fresh := c.topUp(e)
	out := []effect{{kind: effPromoted, id: id}}
	// The previous holders learn the new roles before the request goes
	// on: a retrieval by a third member then never gets a stale value.
	var tell []string
	for _, h := range prev {
		if !slices.Contains(fresh, h) {
			tell = append(tell, h)
		}
	}
	if len(tell) > 0 {
		out = append(out, effect{kind: effSend, id: id, to: tell, msg: proxyMsg(&e.Entry), wait: true})
	}
	for _, f := range c.publish(e, fresh) {
		if f.kind == effSend {
			f.to = slices.DeleteFunc(f.to, func(p string) bool { return slices.Contains(tell, p) })
			if len(f.to) == 0 {
				continue
			}
		}
		out = append(out, f)
	}
	return out
}

// accept reports whether roles r replace what this member knows of r.ID:
// a higher Ver, or the same Ver with a primary that sorts first (two sides
// of a healed partition that both promoted agree on one); never roles whose
// primary is not running the context.
func (c *core) accept(r *Entry) bool {
	if r.Primary != c.self && !c.isPeer(r.Primary) {
		return false // a late message naming a member gone
	}
	e := c.view(r.ID)
	return e == nil || r.Ver > e.Ver || r.Ver == e.Ver && (e.Primary == "" || r.Primary <= e.Primary)
}

// applyRoles installs r; effects drop this member's value when it no
// longer holds one.
func (c *core) applyRoles(r *Entry, now time.Time) []effect {
	if !c.accept(r) {
		return nil
	}
	e := c.get(r.ID)
	if e == nil {
		e = &entry{}
		c.add(r.ID, e)
	}
	wasLocal := e.local
	e.Entry = r.clone()
	e.touched = now
	e.announced = true
	e.local = wasLocal && r.holds(c.self)
	if wasLocal && !e.local {
		return []effect{{kind: effDrop, id: r.ID}}
	}
	return nil
}

// backup is the value of r.ID (generation gen) arriving for this member
// to hold; it reports whether to store it (an older generation than the
// one held, or roles this member is not part of, are not).
func (c *core) backup(r *Entry, gen uint64, now time.Time) bool {
	defer c.settle()
	if !r.holds(c.self) || r.Primary == c.self || !c.accept(r) {
		return false
	}
	// Values are ordered by (roles version, generation): a new primary
	// (higher Ver) may restart from a lower generation than a concurrent
	// one had reached.
	if e := c.view(r.ID); e != nil && e.local && (r.Ver < e.valVer || r.Ver == e.valVer && gen <= e.gen) {
		return false
	}
	c.applyRoles(r, now)
	e := c.get(r.ID)
	e.local, e.gen, e.valVer = true, gen, r.Ver
	return true
}

// replaceBackup swaps failed, a backup of id (primary here) a send to
// which failed, for another member, and returns it (nil when none is
// left). The membership reports the member gone later; meanwhile the
// session is not left with a dead backup.
func (c *core) replaceBackup(id, failed string, tried []string) []string {
	defer c.settle()
	e := c.get(id)
	if e == nil || e.Primary != c.self {
		return nil
	}
	e.Backups = slices.DeleteFunc(e.Backups, func(b string) bool { return b == failed })
	probe := e.Entry.clone()
	probe.Backups = append(probe.Backups, tried...)
	add := c.pick(&probe, 1)
	if len(add) == 0 {
		return nil
	}
	e.Backups = append(e.Backups, add...)
	e.Ver++
	return add
}

// nextGen returns the generation of the value about to be sent for id.
func (c *core) nextGen(id string) (Entry, uint64, bool) {
	defer c.settle()
	e := c.get(id)
	if e == nil || e.Primary != c.self {
		return Entry{}, 0, false
	}
	e.gen++
	e.valVer = e.Ver
	return e.clone(), e.gen, true
}

// primaryCount returns how many sessions this member is primary for.
func (c *core) primaryCount() int {
	n := 0
	for _, e := range c.entries {
		if e.Primary == c.self {
			n++
		}
	}
	if self, ok := c.proxies.lookup(c.self); ok {
		for _, s := range c.proxies.slots {
			if s.primary == self {
				n++
			}
		}
	}
	return n
}

// roleCounts returns how many entries this member is primary, backup and
// proxy for.
func (c *core) roleCounts() (primaries, backups, proxies int) {
	for _, e := range c.entries {
		switch {
		case e.Primary == c.self:
			primaries++
		case slices.Contains(e.Backups, c.self):
			backups++
		default:
			proxies++
		}
	}
	self, ok := c.proxies.lookup(c.self)
	for _, s := range c.proxies.slots {
		switch {
		case ok && s.primary == self:
			primaries++
		case ok && slices.Contains(s.backups[:s.nb], self):
			backups++
		default:
			proxies++
		}
	}
	return primaries, backups, proxies
}

// forget drops id's entry (a backup value expired here).
func (c *core) forget(id string) { c.del(id) }

// receive handles a map message about roles (the values of BACKUP and
// RETRIEVE are the shell's).
func (c *core) receive(from string, m *Message, now time.Time) []effect {
	defer c.settle()
	switch m.Kind {
	case KindProxy:
		if m.Entry != nil {
			return c.applyRoles(m.Entry, now)
		}
	case KindState:
		var out []effect
		for i := range m.Entries {
			out = append(out, c.applyRoles(&m.Entries[i], now)...)
		}
		return out
	case KindRemove:
		if m.Entry != nil {
			if e := c.view(m.Entry.ID); e != nil && e.Primary != c.self {
				c.del(m.Entry.ID)
				return []effect{{kind: effForget, id: m.Entry.ID}}
			}
		}
	case KindAccess:
		if m.Entry != nil {
			if e := c.get(m.Entry.ID); e != nil {
				e.touched = now
			}
		}
	case KindRename:
		if m.Entry != nil {
			if e := c.view(m.Entry.ID); e != nil && c.view(m.NewID) == nil && e.Primary != c.self {
				c.del(m.Entry.ID)
				e.ID = m.NewID
				c.add(m.NewID, e)
			}
		}
	}
	return nil
}

// peerUp adds a member running this context. With tell, it is sent this
// member's primary entries (it asked with INIT). Primaries short of
// backups get the new member as one at once.
func (c *core) peerUp(name string, tell bool) []effect {
	defer c.settle()
	var out []effect
	if name == c.self {
		return nil
	}
	if !c.isPeer(name) {
		i, _ := slices.BinarySearch(c.peers, name)
		c.peers = slices.Insert(c.peers, i, name)
	}
	if tell {
		out = append(out, effect{kind: effSend, to: []string{name},
			msg: &Message{Kind: KindState, Entries: c.primaries()}})
	}
	for _, id := range c.sortedWhere(func(e *entry) bool { return e.Primary == c.self }, c.primarySlot()) {
		e := c.get(id)
		if e.Primary != c.self || !e.announced || len(e.Backups) >= c.n {
			continue
		}
		if fresh := c.topUp(e); len(fresh) > 0 {
			e.Ver++
			out = append(out, c.publish(e, fresh)...)
		}
	}
	return out
}

// primaries returns this member's primary entries, sorted by id.
func (c *core) primaries() []Entry {
	var out []Entry
	for _, id := range c.sortedWhere(func(e *entry) bool { return e.Primary == c.self }, c.primarySlot()) {
		if e := c.view(id); e.Primary == c.self && e.announced {
			out = append(out, e.clone())
		}
	}
	return out
}

// sortedWhere returns, sorted, the ids of the entries keep accepts and of
// the proxies keepSlot accepts: the loops over the map visit only the
// entries they may change (same order as over every id, without
// rendering every dense id).
func (c *core) sortedWhere(keep func(e *entry) bool, keepSlot func(s *proxySlot) bool) []string {
	var ids []string
	for id, e := range c.entries {
		if keep(e) {
			ids = append(ids, id)
		}
	}
	for k, s := range c.proxies.slots {
		if keepSlot(&s) {
			ids = append(ids, c.proxies.idOf(k, &s))
		}
	}
	slices.Sort(ids)
	return ids
}

// primarySlot accepts the proxies naming this member as primary.
func (c *core) primarySlot() func(s *proxySlot) bool {
	self, ok := c.proxies.lookup(c.self)
	return func(s *proxySlot) bool { return ok && s.primary == self }
}

// reporter reports whether this member reports lost sessions: the first
// by name of the members running the context, so each loss counts once.
func (c *core) reporter() bool {
	return len(c.peers) == 0 || c.self < c.peers[0]
}

// peerDown removes a member that left or died. Every member computes the
// same promotion (the first live backup becomes primary); the new primary
// also picks new backups and publishes them, a primary that lost a backup
// picks another, entries with no copy left are forgotten and their loss
// reported once. It returns the effects and how many entries changed.
func (c *core) peerDown(name string) ([]effect, int) {
	defer c.settle()
	i, ok := slices.BinarySearch(c.peers, name)
	if !ok {
		return nil, 0
	}
	c.peers = slices.Delete(c.peers, i, i+1)
	if len(c.peers) > 0 {
		c.rr %= len(c.peers)
	} else {
		c.rr = 0
	}
	var out []effect
	moved := 0
	gone, interned := c.proxies.lookup(name)
	for _, id := range c.sortedWhere(func(e *entry) bool { return e.holds(name) }, func(s *proxySlot) bool { return interned && s.holds(gone) }) {
		e := c.get(id)
		if !e.holds(name) {
			continue
		}
		moved++
		e.Backups = slices.DeleteFunc(e.Backups, func(b string) bool { return b == name })
		promoted := false
		if e.Primary == name {
			e.Primary = ""
			for len(e.Backups) > 0 && e.Primary == "" {
				if b := e.Backups[0]; b == c.self || c.isPeer(b) {
					e.Primary = b
				}
				e.Backups = e.Backups[1:]
			}
			// A bystander's promotion is a guess, not a version: the new
			// primary's announcement (Ver+1) replaces it.
			promoted = true
		}
		if e.Primary == "" {
			c.del(id)
			out = append(out, effect{kind: effForget, id: id})
			if c.reporter() {
				out = append(out, effect{kind: effLost, id: id})
			}
			continue
		}
		if e.Primary != c.self {
			continue
		}
		if promoted {
			if !e.local {
				// Named backup but the value never arrived: lost.
				c.del(id)
				out = append(out, effect{kind: effForget, id: id}, effect{kind: effLost, id: id},
					effect{kind: effSend, id: id, to: slices.Clone(c.peers), msg: &Message{Kind: KindRemove, Entry: &Entry{ID: id}}})
				continue
			}
			e.announced = true
			out = append(out, effect{kind: effPromoted, id: id})
		}
		e.Ver++
		out = append(out, c.publish(e, c.topUp(e))...)
	}
	return out, moved
}

// tick runs the periodic work at now: proxies idle past the limit are
// forgotten, and up to the rebalancing budget of this member's primaries
// move a backup from the most loaded backup member to the least loaded.
func (c *core) tick(now time.Time) []effect {
	defer c.settle()
	var out []effect
	if c.idle > 0 {
		idle := func(e *entry) bool { return !e.local && now.Sub(e.touched) >= c.idle }
		for _, id := range c.sortedWhere(idle, func(s *proxySlot) bool { return now.Sub(s.touchedAt()) >= c.idle }) {
			c.del(id)
			out = append(out, effect{kind: effForget, id: id})
		}
	}
	if c.rebalance > 0 && !c.lastTick.IsZero() {
		c.budget += now.Sub(c.lastTick).Seconds() * float64(c.rebalance)
		if max := float64(c.rebalance) * 10; c.budget > max {
			c.budget = max
		}
	}
	c.lastTick = now
	return append(out, c.balance()...)
}

// balance moves backups of this member's primaries while one peer backs
// more than one over the even share and another less, within budget.
func (c *core) balance() []effect {
	if len(c.peers) < 2 || c.budget < 1 {
		return nil
	}
	load := make(map[string]int, len(c.peers))
	var mine []*entry
	for _, id := range c.sortedWhere(func(e *entry) bool { return e.Primary == c.self }, c.primarySlot()) {
		e := c.get(id)
		if e.Primary != c.self || !e.announced {
			continue
		}
		mine = append(mine, e)
		for _, b := range e.Backups {
			load[b]++
		}
	}
	var out []effect
	for _, e := range mine {
		if c.budget < 1 {
			break
		}
		lo, hi := c.extremes(load)
		if load[hi]-load[lo] <= 1 {
			break
		}
		j := slices.Index(e.Backups, hi)
		if j < 0 || e.holds(lo) {
			continue
		}
		e.Backups[j] = lo
		e.Ver++
		load[hi]--
		load[lo]++
		c.budget--
		out = append(out, c.publish(e, []string{lo})...)
	}
	return out
}

// extremes returns the least and the most loaded peers (first by name on ties).
func (c *core) extremes(load map[string]int) (lo, hi string) {
	lo, hi = c.peers[0], c.peers[0]
	for _, p := range c.peers[1:] {
		if load[p] < load[lo] {
			lo = p
		}
		if load[p] > load[hi] {
			hi = p
		}
	}
	return lo, hi
}
