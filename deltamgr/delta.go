package deltamgr

import (
	"bytes"
	"slices"
	"time"

	"github.com/gomcat/gomcat/runtime/session"
)

// Delta is what one request changed in a session: Tomcat's DeltaRequest.
// It is pure data: Diff and Apply have no clock, goroutines or I/O.
//
// Attrs holds only the last action per attribute name, in order of last touch
// (Tomcat's coalescing with recordAllActions=false).
type Delta struct {
	Attrs          []AttrOp      `cbor:"1,keyasint,omitempty"`
	MaxInactive    time.Duration `cbor:"2,keyasint,omitempty"` // <= 0 never expires
	MaxInactiveSet bool          `cbor:"3,keyasint,omitempty"`
	Principal      string        `cbor:"4,keyasint,omitempty"`
	AuthType       string        `cbor:"5,keyasint,omitempty"`
	PrincipalSet   bool          `cbor:"6,keyasint,omitempty"`
	New            bool          `cbor:"7,keyasint,omitempty"` // the session was created by this request
}

// AttrOp sets (Value) or removes (Removed) one attribute. Value is the
// attribute's CBOR encoding as the session stores it.
type AttrOp struct {
	_       struct{} `cbor:",toarray"`
	Name    string
	Value   []byte
	Removed bool
}

// Empty reports whether d carries no change at all.
func (d *Delta) Empty() bool {
	return len(d.Attrs) == 0 && !d.MaxInactiveSet && !d.PrincipalSet && !d.New
}

// Set records an attribute write, coalescing with earlier actions on the same name.
func (d *Delta) Set(name string, value []byte) {
	d.record(AttrOp{Name: name, Value: value})
}

// Remove records an attribute removal, coalescing with earlier actions on the same name.
func (d *Delta) Remove(name string) {
	d.record(AttrOp{Name: name, Removed: true})
}

// record drops any earlier action on the same name and appends op (Tomcat's
// DeltaRequest.addAction with recordAllActions=false).
func (d *Delta) record(op AttrOp) {
	d.Attrs = slices.DeleteFunc(d.Attrs, func(a AttrOp) bool { return a.Name == op.Name })
	d.Attrs = append(d.Attrs, op)
}

// FromChanges builds a delta from what session.TakeChanges returned.
func FromChanges(c session.Changes) Delta {
	d := Delta{
		MaxInactiveSet: c.MaxInactiveSet,
		PrincipalSet:   c.PrincipalSet,
		New:            c.New,
	}
	if c.MaxInactiveSet {
		d.MaxInactive = c.MaxInactive
	}
	if c.PrincipalSet {
		d.Principal, d.AuthType = c.Principal, c.AuthType
	}
	if len(c.Attrs) > 0 {
		d.Attrs = make([]AttrOp, 0, len(c.Attrs))
		for _, a := range c.Attrs {
			d.record(AttrOp{Name: a.Name, Value: a.Value, Removed: a.Removed})
		}
	}
	return d
}

// Changes converts d back into the form session.Apply takes.
func (d *Delta) Changes() session.Changes {
	c := session.Changes{
		MaxInactiveSet: d.MaxInactiveSet,
		PrincipalSet:   d.PrincipalSet,
		New:            d.New,
	}
	if d.MaxInactiveSet {
		c.MaxInactive = d.MaxInactive
	}
	if d.PrincipalSet {
		c.Principal, c.AuthType = d.Principal, d.AuthType
	}
	if len(d.Attrs) > 0 {
		c.Attrs = make([]session.AttrChange, len(d.Attrs))
		for i, a := range d.Attrs {
			c.Attrs[i] = session.AttrChange{Name: a.Name, Value: a.Value, Removed: a.Removed}
		}
	}
	return c
}

// Diff returns the delta that turns old into new: the attributes added,
// replaced or removed (in name order), max-inactive and principal when they differ.
// Identity and timestamps are not part of a delta.
func Diff(old, new session.Record) Delta {
	var d Delta
	names := make([]string, 0, len(old.Attrs)+len(new.Attrs))
	for k := range old.Attrs {
		names = append(names, k)
	}
	for k := range new.Attrs {
		if _, ok := old.Attrs[k]; !ok {
			names = append(names, k)
		}
	}
	slices.Sort(names)
	for _, k := range names {
		ov, inOld := old.Attrs[k]
		nv, inNew := new.Attrs[k]
		switch {
		case inNew && (!inOld || !bytes.Equal(ov, nv)):
			d.Attrs = append(d.Attrs, AttrOp{Name: k, Value: nv})
		case inOld && !inNew:
			d.Attrs = append(d.Attrs, AttrOp{Name: k, Removed: true})
		}
	}
	if old.MaxInactive != new.MaxInactive {
		d.MaxInactiveSet = true
		d.MaxInactive = new.MaxInactive
	}
	if old.Principal != new.Principal || old.AuthType != new.AuthType {
		d.PrincipalSet = true
		d.Principal, d.AuthType = new.Principal, new.AuthType
	}
	return d
}

// Apply returns r with d applied; r is not modified.
func Apply(r session.Record, d Delta) session.Record {
	out := r
	out.Attrs = make(map[string][]byte, len(r.Attrs)+len(d.Attrs))
	for k, v := range r.Attrs {
		out.Attrs[k] = v
	}
	for _, a := range d.Attrs {
		if a.Removed {
			delete(out.Attrs, a.Name)
			continue
		}
		out.Attrs[a.Name] = a.Value
	}
	if d.MaxInactiveSet {
		out.MaxInactive = d.MaxInactive
	}
	if d.PrincipalSet {
		out.Principal, out.AuthType = d.Principal, d.AuthType
	}
	return out
}
