package balancer

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gomcat/gomcat/balancer/balancertest"
	"github.com/gomcat/gomcat/internal/testkit"
	"github.com/gomcat/gomcat/mcast"
)

func TestFromMcast(t *testing.T) {
	m := func(name, url string) mcast.Member { return mcast.Member{Name: name, HTTPURL: url} }
	for _, tc := range []struct {
		name string
		in   mcast.Event
		want MemberEvent
		ok   bool
	}{
		{"added", mcast.Event{Kind: mcast.Added, Member: m("n1", "http://h:1")}, MemberEvent{Kind: MemberAdded, Name: "n1", HTTPURL: "http://h:1"}, true},
		{"added without url", mcast.Event{Kind: mcast.Added, Member: m("n1", "")}, MemberEvent{}, false},
		{"foreign", mcast.Event{Kind: mcast.Added, Member: mcast.Member{Foreign: true, HTTPURL: "http://h:1"}}, MemberEvent{}, false},
		{"replaced", mcast.Event{Kind: mcast.Replaced, Member: m("n2", "http://h:2"), Old: m("n1", "http://h:1")}, MemberEvent{Kind: MemberReplaced, Name: "n2", HTTPURL: "http://h:2", OldName: "n1"}, true},
		{"updated", mcast.Event{Kind: mcast.Updated, Member: m("n1", "http://h:3")}, MemberEvent{Kind: MemberUpdated, Name: "n1", HTTPURL: "http://h:3"}, true},
		{"disappeared", mcast.Event{Kind: mcast.Disappeared, Member: m("n1", "http://h:1")}, MemberEvent{Kind: MemberDisappeared, Name: "n1", HTTPURL: "http://h:1"}, true},
		{"left", mcast.Event{Kind: mcast.Left, Member: m("n1", "")}, MemberEvent{Kind: MemberLeft, Name: "n1"}, true},
	} {
		got, ok := fromMcast(tc.in)
		if ok != tc.ok || got != tc.want {
			t.Errorf("%s: got %+v %v, want %+v %v", tc.name, got, ok, tc.want, tc.ok)
		}
	}
}

// TestObserveMcast: real heartbeats on loopback (TTL 0, random group and
// port) feed the balancer; a node's goodbye drains it.
func TestObserveMcast(t *testing.T) {
	group := fmt.Sprintf("239.255.%d.%d", rand.IntN(256), 1+rand.IntN(254))
	port := 20000 + rand.IntN(40000)
	base := mcast.DefaultLocalConfig()
	base.Address, base.Port = group, port
	store := balancertest.NewStore()
	services := map[string]*mcast.Service{}
	for i, name := range []string{"node1", "node2"} {
		srv := httptest.NewServer(balancertest.Node(name, store))
		t.Cleanup(srv.Close)
		c := base
		c.Local = mcast.LocalMember{Name: name, Host: "127.0.0.1", Port: 4001 + i, HTTPURL: srv.URL}
		s, err := mcast.New(c)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Start(context.Background()); err != nil {
			t.Skipf("multicast on loopback unavailable: %v", err)
		}
		t.Cleanup(func() { _ = s.Stop(context.Background()) })
		services[name] = s
	}
	obs, err := mcast.NewObserver(base)
	if err != nil {
		t.Fatal(err)
	}
	c := testConfig(t)
	c.Discovery = Observe(obs)
	b := startBalancer(t, c)
	waitState(t, b, "node1", StateLive)
	waitState(t, b, "node2", StateLive)
	if code, _, node := get(t, http.DefaultClient, b.testURL()+"/", "Cookie", "JSESSIONID=ABC.node2"); code != 200 || node != "node2" {
		t.Fatalf("routed to %q (%d)", node, code)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := services["node2"].Stop(ctx); err != nil {
		t.Fatal(err)
	}
	testkit.WaitFor(t, "node2 left", func() bool { s := nodeState(b, "node2"); return s == StateLeft || s == StateDraining })
	if _, _, node := get(t, http.DefaultClient, b.testURL()+"/", "Cookie", "JSESSIONID=ABC.node2"); node != "node1" {
		t.Fatalf("after goodbye routed to %q", node)
	}
}
