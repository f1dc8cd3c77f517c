package backupmgr

import (
	"slices"
	"strings"
	"testing"
)

const hexID = "0123456789ABCDEF0123456789ABCDEF"

// A proxy whose id is in session.NewID's form goes into the dense table
// and comes back equal; anything that would not round-trip stays out.
func TestProxyTablePut(t *testing.T) {
	tb := newProxyTable()
	in := &entry{Entry: Entry{ID: hexID + ".n1", Primary: "n2", Backups: []string{"n3", "n4"}, Ver: 7}, announced: true, touched: t0}
	if !tb.put(in) {
		t.Fatal("put refused a proxy")
	}
	got, ok := tb.get(hexID + ".n1")
	if !ok || got.ID != in.ID || got.Primary != "n2" || !slices.Equal(got.Backups, in.Backups) || got.Ver != 7 ||
		!got.announced || got.local || !got.touched.Equal(t0) {
		t.Fatalf("get: %+v %v", got, ok)
	}
	if _, ok := tb.get(hexID + ".n9"); ok {
		t.Fatal("another route found the slot")
	}
	if tb.put(&entry{Entry: Entry{ID: hexID + ".n9", Primary: "n2"}}) {
		t.Fatal("the same hex digits with another route replaced the slot")
	}
	ids := renderIDs(&tb)
	if len(ids) != 1 || ids[0] != in.ID {
		t.Fatalf("ids %q", ids)
	}
	for _, e := range []*entry{
		{Entry: Entry{ID: hexID, Primary: "n2"}, local: true},
		{Entry: Entry{ID: hexID, Primary: "n2"}, gen: 1},
		{Entry: Entry{ID: hexID, Primary: "n2"}, valVer: 1},
		{Entry: Entry{ID: strings.ToLower(hexID), Primary: "n2"}},
		{Entry: Entry{ID: hexID + ".", Primary: "n2"}},
		{Entry: Entry{ID: hexID[:31], Primary: "n2"}},
		{Entry: Entry{ID: hexID + "x", Primary: "n2"}},
		{Entry: Entry{ID: "x", Primary: "n2"}},
	} {
		fresh := newProxyTable()
		if fresh.put(e) {
			t.Errorf("put took %q local=%v gen=%d valVer=%d", e.ID, e.local, e.gen, e.valVer)
		}
	}
	tb.del(hexID + ".n9")
	if _, ok := tb.get(in.ID); !ok {
		t.Fatal("del of another route removed the slot")
	}
	tb.del(in.ID)
	if len(tb.slots) != 0 {
		t.Fatal("del left the slot")
	}
}

// The core keeps proxies of NewID ids in the dense table and the rest in
// entries; roles arriving for a dense proxy update it in place.
func TestCoreKeepsProxiesDense(t *testing.T) {
	c := coreWith("a", 1, "b", "c", "d")
	id := hexID + ".b"
	c.receive("b", &Message{Kind: KindProxy, Entry: &Entry{ID: id, Primary: "b", Backups: []string{"c"}, Ver: 1}}, t0)
	if len(c.entries) != 0 || len(c.proxies.slots) != 1 {
		t.Fatalf("entries %d, dense %d; want 0, 1", len(c.entries), len(c.proxies.slots))
	}
	c.receive("b", &Message{Kind: KindProxy, Entry: &Entry{ID: id, Primary: "b", Backups: []string{"d"}, Ver: 2}}, t0)
	if e := c.view(id); e == nil || e.Ver != 2 || !slices.Equal(e.Backups, []string{"d"}) || len(c.entries) != 0 {
		t.Fatalf("after new roles: %+v, entries %d", e, len(c.entries))
	}
	if p, b, x := c.roleCounts(); p != 0 || b != 0 || x != 1 {
		t.Fatalf("roles %d %d %d", p, b, x)
	}
	// Named its backup with the value: it leaves the dense table.
	if !c.backup(&Entry{ID: id, Primary: "b", Backups: []string{"a"}, Ver: 3}, 1, t0) || len(c.entries) != 1 || len(c.proxies.slots) != 0 {
		t.Fatalf("backup: entries %d, dense %d", len(c.entries), len(c.proxies.slots))
	}
	// Its primary dies: this member is promoted, as for an *entry.
	effs, moved := c.peerDown("b")
	if moved != 1 || !slices.Contains(kindsOf(effs), effPromoted) {
		t.Fatalf("peerDown: moved %d, %v", moved, kindsOf(effs))
	}
}

// FuzzSplitID: an id splitID accepts renders back to itself.
func FuzzSplitID(f *testing.F) {
	f.Add(hexID + ".node1")
	f.Add(hexID)
	f.Add("abc")
	f.Fuzz(func(t *testing.T, id string) {
		tb := newProxyTable()
		if !tb.put(&entry{Entry: Entry{ID: id, Primary: "p"}}) {
			return
		}
		ids := renderIDs(&tb)
		if len(ids) != 1 || ids[0] != id {
			t.Fatalf("%q rendered as %q", id, ids)
		}
	})
}

// renderIDs returns the id of every slot of t.
func renderIDs(t *proxyTable) []string {
	var ids []string
	for k, s := range t.slots {
		ids = append(ids, t.idOf(k, &s))
	}
	return ids
}
