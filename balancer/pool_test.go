package balancer

import (
	"net/url"
	"testing"
)

func testPool(t *testing.T, names ...string) (*pool, map[string]*node) {
	t.Helper()
	c := DefaultConfig()
	p := newPool()
	m := map[string]*node{}
	for _, name := range names {
		n := newNode(name, &url.URL{Scheme: "http", Host: "127.0.0.1:1"}, false, false, &c, nil)
		n.mu.Lock()
		n.update()
		n.mu.Unlock()
		p.put(n)
		m[name] = n
	}
	return p, m
}

func setDown(n *node) {
	n.mu.Lock()
	n.present = false
	n.update()
	n.mu.Unlock()
}

func TestPickRoute(t *testing.T) {
	p, m := testPool(t, "node1", "node2", "node3")
	m["node1"].outstanding.Store(100)
	if n, routed := p.pick([]string{"node1"}, nil); n != m["node1"] || !routed {
		t.Fatalf("route node1 → %v routed=%v", n.name, routed)
	}
	// first route naming a live node wins
	setDown(m["node1"])
	if n, routed := p.pick([]string{"nodeX", "node1", "node3", "node2"}, nil); n != m["node3"] || !routed {
		t.Fatalf("got %s routed=%v, want node3", n.name, routed)
	}
	// unknown or dead route → least outstanding
	m["node2"].outstanding.Store(5)
	m["node3"].outstanding.Store(2)
	if n, routed := p.pick([]string{"node1", "zzz"}, nil); n != m["node3"] || routed {
		t.Fatalf("got %s routed=%v, want node3 by load", n.name, routed)
	}
	// skip excludes a node even when routed to it
	if n, _ := p.pick([]string{"node3"}, m["node3"]); n != m["node2"] {
		t.Fatalf("skip: got %s, want node2", n.name)
	}
}

func TestPickLeastOutstanding(t *testing.T) {
	p, m := testPool(t, "a", "b", "c")
	m["a"].outstanding.Store(3)
	m["b"].outstanding.Store(1)
	m["c"].outstanding.Store(2)
	for range 5 {
		if n, _ := p.pick(nil, nil); n != m["b"] {
			t.Fatalf("got %s, want b", n.name)
		}
	}
	// ties are shared round robin
	m["a"].outstanding.Store(1)
	seen := map[string]int{}
	for range 10 {
		n, _ := p.pick(nil, nil)
		seen[n.name]++
	}
	if seen["a"] != 5 || seen["b"] != 5 || seen["c"] != 0 {
		t.Fatalf("tie spread = %v, want a:5 b:5", seen)
	}
}

func TestPickNoneLive(t *testing.T) {
	p, m := testPool(t, "a", "b")
	setDown(m["a"])
	if n, _ := p.pick(nil, m["b"]); n != nil {
		t.Fatalf("got %s, want none", n.name)
	}
	m["b"].mu.Lock()
	m["b"].leaving = true
	m["b"].update()
	m["b"].mu.Unlock()
	if n, _ := p.pick([]string{"b"}, nil); n != nil {
		t.Fatalf("draining node picked")
	}
	if p.liveCount() != 0 {
		t.Fatalf("liveCount = %d", p.liveCount())
	}
}
