package mcast

import (
	"errors"
	"fmt"
	"net"
	"testing"
	"time"
)

var t0 = time.UnixMilli(1_700_000_000_000)

type hbOpt func(*Heartbeat, *Payload)

func withDomain(d string) hbOpt { return func(h *Heartbeat, _ *Payload) { h.Domain = []byte(d) } }
func shutdown() hbOpt           { return func(h *Heartbeat, _ *Payload) { h.Command = ShutdownCommand } }
func withURL(u string) hbOpt    { return func(_ *Heartbeat, p *Payload) { p.HTTPURL = u } }
func foreign() hbOpt            { return func(_ *Heartbeat, p *Payload) { p.Name = "" } }
func withAddr(h string, port int) hbOpt {
	return func(hb *Heartbeat, _ *Payload) { hb.Host, hb.Port = net.ParseIP(h).To4(), port }
}

// hb builds a decoded heartbeat for member name with id byte id, started at t0+startedMs.
func hb(t testing.TB, name string, port int, id byte, startedMs int64, opts ...hbOpt) Heartbeat {
	t.Helper()
	h := Heartbeat{Alive: 100, Port: port, SecurePort: -1, UDPPort: -1, Host: net.IPv4(127, 0, 0, 1).To4()}
	h.UniqueID[0] = id
	p := Payload{Protocol: 1, Name: name, StartedAt: t0.UnixMilli() + startedMs}
	for _, o := range opts {
		o(&h, &p)
	}
	if p.Name != "" {
		var err error
		if h.Payload, err = EncodePayload(nil, p); err != nil {
			t.Fatal(err)
		}
	}
	return h
}

func testTable() *table {
	c := DefaultLocalConfig()
	c.Domain = "prod"
	self := Member{Name: "self", Host: net.IPv4(127, 0, 0, 1), Port: 4000, UniqueID: [16]byte{0xee}}
	return newTable(c, &self)
}

func kinds(evs []Event) []Kind {
	var ks []Kind
	for _, e := range evs {
		ks = append(ks, e.Kind)
	}
	return ks
}

func expectKinds(t *testing.T, evs []Event, want ...Kind) {
	t.Helper()
	got := kinds(evs)
	if len(got) != len(want) {
		t.Fatalf("events %v, want %v", got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("events %v, want %v", got, want)
		}
	}
}

func TestTableAddUpdateLeaveExpire(t *testing.T) {
	tab := testTable()
	d := withDomain("prod")
	o, m, evs, _ := tab.receive(hb(t, "n1", 4001, 1, 0, d), t0)
	if o != oNew || m.Name != "n1" || m.StartedAt != t0.UnixMilli() || m.Alive != 100*time.Millisecond {
		t.Fatalf("first heartbeat: %v %+v", o, m)
	}
	expectKinds(t, evs, Added)
	_, _, evs, _ = tab.receive(hb(t, "n1", 4001, 1, 0, d), t0.Add(time.Second))
	expectKinds(t, evs)
	if got := tab.list(false)[0].LastHeard; !got.Equal(t0.Add(time.Second)) {
		t.Fatalf("LastHeard %v not refreshed", got)
	}
	_, _, evs, _ = tab.receive(hb(t, "n1", 4001, 1, 0, d, withURL("http://127.0.0.1:8091")), t0.Add(time.Second))
	expectKinds(t, evs, Updated)

	tab.receive(hb(t, "n2", 4002, 2, 10, d), t0.Add(time.Second))
	expectKinds(t, tab.expire(t0.Add(time.Second+300*time.Millisecond))) // exactly dropTime: kept
	_, _, evs, _ = tab.receive(hb(t, "n2", 4002, 2, 10, d, shutdown()), t0.Add(time.Second))
	expectKinds(t, evs, Left)
	evs = tab.expire(t0.Add(time.Second + 301*time.Millisecond))
	expectKinds(t, evs, Disappeared)
	if evs[0].Member.Name != "n1" || len(tab.members) != 0 {
		t.Fatalf("expired %+v, left %d", evs[0].Member, len(tab.members))
	}
	if o, _, _, _ := tab.receive(hb(t, "n2", 4002, 2, 10, d, shutdown()), t0); o != oUnknownLeft {
		t.Fatalf("second shutdown: %v", o)
	}
}

func TestTableReplace(t *testing.T) {
	d := withDomain("prod")
	t.Run("same name, new address", func(t *testing.T) {
		tab := testTable()
		tab.receive(hb(t, "n1", 4001, 1, 0, d), t0)
		o, m, evs, _ := tab.receive(hb(t, "n1", 4009, 2, 50, d), t0)
		old, _ := tab.claimed(m.identity())
		if o != oProbe || old.Port != 4001 || len(evs) != 0 {
			t.Fatalf("takeover claim: %v, probe %v, events %v; want a probe of 4001 first", o, old.Port, kinds(evs))
		}
		_, refused, evs := tab.settle(claimantID(4009, 2), errRefused, t0)
		if refused {
			t.Fatal("claimant refused although the old receiver is gone")
		}
		expectKinds(t, evs, Replaced)
		if evs[0].Old.UniqueID[0] != 1 || evs[0].Member.UniqueID[0] != 2 || len(tab.members) != 1 {
			t.Fatalf("replace: %+v, %d members", evs[0], len(tab.members))
		}
		// The superseded incarnation keeps talking: ignored, not flapping.
		if o, _, evs, _ := tab.receive(hb(t, "n1", 4001, 1, 0, d), t0); o != oConflict || len(evs) != 0 {
			t.Fatalf("old incarnation: %v %v", o, kinds(evs))
		}
	})
	t.Run("same address, new name", func(t *testing.T) {
		tab := testTable()
		tab.receive(hb(t, "n1", 4001, 1, 0, d), t0)
		_, _, evs, _ := tab.receive(hb(t, "n7", 4001, 2, 50, d), t0)
		expectKinds(t, evs, Replaced)
	})
	t.Run("two rivals", func(t *testing.T) {
		tab := testTable()
		tab.receive(hb(t, "n1", 4001, 1, 0, d), t0)
		tab.receive(hb(t, "n2", 4002, 2, 0, d), t0)
		if o, _, _, _ := tab.receive(hb(t, "n1", 4002, 3, 50, d), t0); o != oProbe {
			t.Fatalf("takeover claim: %v, want oProbe", o)
		}
		_, _, evs := tab.settle(claimantID(4002, 3), errRefused, t0)
		expectKinds(t, evs, Replaced, Disappeared)
		if evs[0].Old.Name != "n1" || evs[1].Member.Name != "n2" {
			t.Fatalf("replace %+v, then %+v", evs[0].Old, evs[1].Member)
		}
	})
}

func TestTableIgnores(t *testing.T) {
	tab := testTable()
	d := withDomain("prod")
	tests := []struct {
		name string
		h    Heartbeat
		want outcome
	}{
		{"other domain", hb(t, "n1", 4001, 1, 0, withDomain("test")), oOtherDomain},
		{"no domain", hb(t, "n1", 4001, 1, 0), oOtherDomain},
		{"self", hb(t, "self", 4000, 0xee, 0, d), oSelf},
		{"our name", hb(t, "self", 4005, 5, 0, d), oConflict},
		{"our address", hb(t, "x", 4000, 6, 0, d), oConflict},
		{"bad payload", func() Heartbeat { h := hb(t, "n1", 4001, 1, 0, d); h.Payload = []byte("GOMCAT\x01\xff"); return h }(), oBadPayload},
	}
	for _, tt := range tests {
		if o, _, evs, _ := tab.receive(tt.h, t0); o != tt.want || len(evs) != 0 {
			t.Errorf("%s: %v %v, want %v", tt.name, o, kinds(evs), tt.want)
		}
	}
	if len(tab.members) != 0 {
		t.Fatalf("%d members after ignored heartbeats", len(tab.members))
	}
	tab.anyDomain = true
	if o, _, _, _ := tab.receive(hb(t, "n1", 4001, 1, 0, withDomain("test")), t0); o != oNew {
		t.Fatalf("AnyDomain: %v", o)
	}
}

func TestTableForeign(t *testing.T) {
	tab := testTable()
	d := withDomain("prod")
	o, m, evs, _ := tab.receive(hb(t, "", 4001, 1, 0, d, foreign()), t0)
	if o != oForeignNew || !m.Foreign || len(evs) != 0 || m.StartedAt != t0.UnixMilli()-100 {
		t.Fatalf("first: %v %+v %v", o, m, kinds(evs))
	}
	if o, _, _, _ := tab.receive(hb(t, "", 4001, 1, 0, d, foreign()), t0); o != oForeign {
		t.Fatalf("again: %v", o)
	}
	if len(tab.list(false)) != 0 || len(tab.list(true)) != 1 || !tab.list(true)[0].Foreign {
		t.Fatal("foreign member must be listed only on request")
	}
	// A restarted Tomcat on the same address replaces silently; logged again (new id).
	if o, _, _, _ := tab.receive(hb(t, "", 4001, 2, 0, d, foreign()), t0); o != oForeignNew || len(tab.foreign) != 1 {
		t.Fatalf("restart: %v, %d", o, len(tab.foreign))
	}
	expectKinds(t, tab.expire(t0.Add(time.Second)))
	if len(tab.foreign) != 0 {
		t.Fatal("foreign member not expired")
	}
	tab.receive(hb(t, "", 4001, 3, 0, d, foreign()), t0)
	if _, _, evs, _ := tab.receive(hb(t, "", 4001, 3, 0, d, foreign(), shutdown()), t0); len(evs) != 0 || len(tab.foreign) != 0 {
		t.Fatal("foreign shutdown must remove silently")
	}
}

func TestTableOrder(t *testing.T) {
	tab := testTable()
	d := withDomain("prod")
	tab.receive(hb(t, "young", 4003, 3, 300, d), t0)
	tab.receive(hb(t, "tie-b", 4002, 9, 100, d), t0)
	tab.receive(hb(t, "tie-a", 4004, 4, 100, d), t0)
	tab.receive(hb(t, "old", 4001, 1, 0, d), t0)
	var names []string
	for _, m := range tab.list(false) {
		names = append(names, m.Name)
	}
	want := []string{"old", "tie-a", "tie-b", "young"}
	for i := range want {
		if names[i] != want[i] {
			t.Fatalf("order %v, want %v", names, want)
		}
	}
	if !tab.list(false)[0].Older(tab.list(false)[1]) {
		t.Fatal("Older disagrees with the list order")
	}
}

func TestMemberString(t *testing.T) {
	m := Member{Name: "node1", Domain: "prod", Host: net.IPv4(127, 0, 0, 1), Port: 4001, UniqueID: [16]byte{0xab},
		HTTPURL: "http://127.0.0.1:8091", Alive: 1017 * time.Millisecond}
	want := "tcp://127.0.0.1:4001,node1,domain=prod,id=ab000000000000000000000000000000,http=http://127.0.0.1:8091,alive=1017"
	if got := m.String(); got != want {
		t.Fatalf("String()\n got %s\nwant %s", got, want)
	}
	m.Host = net.ParseIP("fd00::2")
	if got := m.Addr(); got != "[fd00::2]:4001" {
		t.Fatalf("Addr() = %s", got)
	}
}

func TestEmitterDropsOldest(t *testing.T) {
	e := newEmitter(2)
	for i := range 5 {
		e.emit(Event{Kind: Added, Member: Member{Port: i}})
	}
	if got := e.dropped.Load(); got != 3 {
		t.Fatalf("dropped %d, want 3", got)
	}
	if a, b := <-e.ch, <-e.ch; a.Member.Port != 3 || b.Member.Port != 4 {
		t.Fatalf("kept %d, %d; want the newest 3, 4", a.Member.Port, b.Member.Port)
	}
	e.close()
	e.close()
	e.emit(Event{}) // after close: ignored, no panic
	if _, ok := <-e.ch; ok {
		t.Fatal("channel not closed")
	}
}

var errRefused = errors.New("connection refused")

// claimantID is the identity hb gives a heartbeat from port with id.
func claimantID(port int, id byte) identity {
	return Member{Host: net.IPv4(127, 0, 0, 1).To4(), Port: port, UniqueID: [16]byte{id}}.identity()
}

// A heartbeat that claims a live member's name from another address (a
// newer start time) is a name takeover until the old member's receiver
// stops answering: it is ignored, probed again only after DropTime.
func TestTableTakeoverNeedsAFailedProbe(t *testing.T) {
	d := withDomain("prod")
	tab := testTable()
	tab.receive(hb(t, "n1", 4001, 1, 0, d), t0)
	claim := hb(t, "n1", 4666, 66, 50, d)
	o, m, _, _ := tab.receive(claim, t0)
	if old, _ := tab.claimed(m.identity()); o != oProbe || old.UniqueID[0] != 1 {
		t.Fatalf("claim: %v %+v, want a probe of the old n1", o, old)
	}
	if o, _, _, _ := tab.receive(claim, t0.Add(50*time.Millisecond)); o != oChallenge {
		t.Fatalf("claim while probing: %v, want oChallenge", o)
	}
	if _, refused, evs := tab.settle(claimantID(4666, 66), nil, t0.Add(100*time.Millisecond)); !refused || len(evs) != 0 {
		t.Fatalf("old n1 answers: refused %v, events %v", refused, kinds(evs))
	}
	tab.receive(hb(t, "n1", 4001, 1, 0, d), t0.Add(200*time.Millisecond)) // the real n1 goes on
	if o, _, _, _ := tab.receive(claim, t0.Add(300*time.Millisecond)); o != oChallenge {
		t.Fatalf("claim within DropTime of a refusal: %v, want oChallenge", o)
	}
	if ms := tab.list(false); len(ms) != 1 || ms[0].UniqueID[0] != 1 {
		t.Fatalf("members %+v, want only the real n1", ms)
	}
	if o, _, _, _ := tab.receive(claim, t0.Add(401*time.Millisecond)); o != oProbe {
		t.Fatalf("claim after DropTime: %v, want a new probe", o)
	}
	// Claims are bounded like members.
	tab.maxMembers = 2
	for i := range 5 {
		tab.receive(hb(t, "n1", 5000+i, byte(100+i), 50, d), t0.Add(time.Second))
	}
	if len(tab.challenges) > 2 {
		t.Fatalf("%d challenges kept, cap 2", len(tab.challenges))
	}
}

func TestTableCaps(t *testing.T) {
	d := withDomain("prod")
	tab := testTable()
	tab.maxMembers = 3
	for i := range 10 {
		o, _, _, _ := tab.receive(hb(t, fmt.Sprintf("f%d", i), 5000+i, byte(10+i), 0, d), t0)
		if want := oNew; i >= 3 {
			if o != oCapped {
				t.Fatalf("member %d: %v, want oCapped", i, o)
			}
		} else if o != want {
			t.Fatalf("member %d: %v", i, o)
		}
	}
	if len(tab.members) != 3 {
		t.Fatalf("%d members, cap 3", len(tab.members))
	}
	// Known members still refresh; after one leaves a new one fits.
	if o, _, _, _ := tab.receive(hb(t, "f0", 5000, 10, 0, d), t0.Add(time.Second)); o != oKnown {
		t.Fatalf("known member at the cap: %v", o)
	}
	tab.receive(hb(t, "f1", 5001, 11, 0, d, shutdown()), t0.Add(time.Second))
	if o, _, _, _ := tab.receive(hb(t, "f9", 5009, 19, 0, d), t0.Add(time.Second)); o != oNew {
		t.Fatalf("new member below the cap: %v", o)
	}
	for i := range 10 { // foreign (Tomcat) members: the same cap
		tab.receive(hb(t, "", 6000+i, byte(50+i), 0, d), t0)
	}
	if len(tab.foreign) != 3 {
		t.Fatalf("%d foreign members, cap 3", len(tab.foreign))
	}
}
