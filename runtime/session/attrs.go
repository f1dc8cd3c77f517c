package session

import (
	"slices"
	"strings"
)

// attr is one attribute: its name and CBOR bytes.
type attr struct {
	name  string
	value []byte
}

// attrs is a session's attributes sorted by name, found by binary search.
// A session holds few: one attribute costs 48 bytes here where a Go map
// costs ~400 (its header and a first group of 8 slots).
type attrs []attr

func (a attrs) find(name string) (int, bool) {
	return slices.BinarySearchFunc(a, name, func(x attr, n string) int { return strings.Compare(x.name, n) })
}

func (a attrs) get(name string) ([]byte, bool) {
	if i, ok := a.find(name); ok {
		return a[i].value, true
	}
	return nil, false
}

// set stores value under name and returns the value it replaced.
func (a *attrs) set(name string, value []byte) (old []byte, had bool) {
	i, ok := a.find(name)
	if ok {
		old, (*a)[i].value = (*a)[i].value, value
		return old, true
	}
	if *a == nil {
		*a = make(attrs, 0, 1) // the usual session: one attribute, no spare room
	}
	*a = slices.Insert(*a, i, attr{name, value})
	return nil, false
}

// del removes name and returns its value.
func (a *attrs) del(name string) (old []byte, had bool) {
	i, ok := a.find(name)
	if !ok {
		return nil, false
	}
	old = (*a)[i].value
	*a = slices.Delete(*a, i, i+1)
	return old, true
}

// attrsOf takes m's entries, sorted.
func attrsOf(m map[string][]byte) attrs {
	if len(m) == 0 {
		return nil
	}
	a := make(attrs, 0, len(m))
	for k, v := range m {
		a = append(a, attr{k, v})
	}
	slices.SortFunc(a, func(x, y attr) int { return strings.Compare(x.name, y.name) })
	return a
}
