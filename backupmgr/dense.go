package backupmgr

import (
	"math"
	"slices"
	"time"
)

// proxyTable keeps the entries of a member that holds no value for them
// (proxies: most of the map once the cluster has more than a few members)
// in a dense form: the key is the 16 bytes behind session.NewID's 32
// uppercase hex digits, the route and the owners are indexes into a table
// of interned names, the touch time is Unix nanoseconds. A slot holds no
// pointer, so the garbage collector does not scan the table and a proxy
// costs about a third of an *entry (BenchmarkProxyEntryMemory).
//
// Only what round-trips exactly goes in (put): an id in NewID's form
// (32 uppercase hex digits, optionally "." and a non-empty route), a
// proxy without value history (gen and valVer 0), names that fit the
// table; the core keeps everything else as an *entry. Interned names are
// never released: they are member names and routes, a handful per
// cluster, at most math.MaxUint16.
type proxyTable struct {
	slots map[[16]byte]proxySlot
	names []string          // names[0] is "" (no route, no primary)
	index map[string]uint16 // name → its index in names
}

// proxySlot is one dense entry.
type proxySlot struct {
	ver       uint64
	touched   int64 // Unix ns; 0: the zero time
	route     uint16
	primary   uint16
	backups   [MaxBackups]uint16
	nb        uint8
	announced bool
}

func newProxyTable() proxyTable {
	return proxyTable{slots: make(map[[16]byte]proxySlot), names: []string{""}, index: map[string]uint16{"": 0}}
}

// splitID returns the key and the route of an id in session.NewID's form.
func splitID(id string) (k [16]byte, route string, ok bool) {
	if len(id) < 32 || len(id) == 33 || len(id) > 32 && id[32] != '.' {
		return k, "", false
	}
	for i := range k {
		hi, ok1 := unhex(id[2*i])
		lo, ok2 := unhex(id[2*i+1])
		if !ok1 || !ok2 {
			return k, "", false
		}
		k[i] = hi<<4 | lo
	}
	if len(id) > 32 {
		route = id[33:]
	}
	return k, route, true
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

const upperHex = "0123456789ABCDEF"

// idOf renders the id of key k and slot s (the inverse of splitID).
func (t *proxyTable) idOf(k [16]byte, s *proxySlot) string {
	route := t.names[s.route]
	n := 32
	if route != "" {
		n += 1 + len(route)
	}
	b := make([]byte, 32, n)
	for i, c := range k {
		b[2*i], b[2*i+1] = upperHex[c>>4], upperHex[c&0x0f]
	}
	if route != "" {
		b = append(append(b, '.'), route...)
	}
	return string(b)
}

// intern returns name's index, adding it; false when the table is full.
func (t *proxyTable) intern(name string) (uint16, bool) {
	if i, ok := t.index[name]; ok {
		return i, true
	}
	if len(t.names) > math.MaxUint16 {
		return 0, false
	}
	i := uint16(len(t.names))
	t.names = append(t.names, name)
	t.index[name] = i
	return i, true
}

// peek returns id's slot.
func (t *proxyTable) peek(id string) (proxySlot, bool) {
	k, route, ok := splitID(id)
	if !ok {
		return proxySlot{}, false
	}
	s, ok := t.slots[k]
	if !ok || t.names[s.route] != route {
		return proxySlot{}, false
	}
	return s, true
}

// get returns id's entry, materialized (a copy: changes need put).
func (t *proxyTable) get(id string) (*entry, bool) {
	s, ok := t.peek(id)
	if !ok {
		return nil, false
	}
	e := &entry{Entry: Entry{ID: id, Primary: t.names[s.primary], Ver: s.ver}, announced: s.announced}
	if s.nb > 0 {
		e.Backups = make([]string, s.nb)
		for i := range e.Backups {
			e.Backups[i] = t.names[s.backups[i]]
		}
	}
	e.touched = s.touchedAt()
	return e, true
}

// touchedAt is the slot's touch time.
func (s *proxySlot) touchedAt() time.Time {
	if s.touched == 0 {
		return time.Time{}
	}
	return time.Unix(0, s.touched)
}

// put stores e when it fits the dense form (see proxyTable) and reports
// whether it did.
func (t *proxyTable) put(e *entry) bool {
	if e.local || e.gen != 0 || e.valVer != 0 || len(e.Backups) > MaxBackups {
		return false
	}
	k, route, ok := splitID(e.ID)
	if !ok {
		return false
	}
	if old, taken := t.slots[k]; taken && t.names[old.route] != route {
		return false // the same hex digits with another route: kept apart
	}
	s := proxySlot{ver: e.Ver, announced: e.announced, nb: uint8(len(e.Backups))}
	if !e.touched.IsZero() {
		s.touched = e.touched.UnixNano()
	}
	var ok1, ok2 bool
	s.route, ok1 = t.intern(route)
	s.primary, ok2 = t.intern(e.Primary)
	if !ok1 || !ok2 {
		return false
	}
	for i, b := range e.Backups {
		if s.backups[i], ok = t.intern(b); !ok {
			return false
		}
	}
	t.slots[k] = s
	return true
}

// del removes id's slot, if any.
func (t *proxyTable) del(id string) {
	if _, ok := t.peek(id); ok {
		k, _, _ := splitID(id)
		delete(t.slots, k)
	}
}

// lookup returns name's index without adding it.
func (t *proxyTable) lookup(name string) (uint16, bool) {
	i, ok := t.index[name]
	return i, ok
}

// holds reports whether the member with index i is s's primary or a backup.
func (s *proxySlot) holds(i uint16) bool {
	return s.primary == i || slices.Contains(s.backups[:s.nb], i)
}
