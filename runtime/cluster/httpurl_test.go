package cluster_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/gomcat/gomcat/internal/testkit"
	"github.com/gomcat/gomcat/mcast"
	"github.com/gomcat/gomcat/runtime/cluster"
)

// urlOf returns the HTTP URL n's cluster lists for the member named name.
func urlOf(n *node, name string) string {
	for _, m := range n.c.Members() {
		if m.Name == name {
			return m.HTTPURL
		}
	}
	return ""
}

func seesURL(n *node, name, url string) func() bool {
	return func() bool { return urlOf(n, name) == url }
}

// SetHTTPURL before Start replaces Config.HTTPURL; after Start the peers
// learn the new URL: from the next heartbeat with multicast, from an
// announce over the transport with a static membership.
func TestSetHTTPURL(t *testing.T) {
	t.Run("multicast", func(t *testing.T) {
		group, port := testGroup()
		a, b := mcastNode(t, group, port, "a", nil), mcastNode(t, group, port, "b", nil)
		if err := a.c.SetHTTPURL("http://127.0.0.1:8081"); err != nil {
			t.Fatal(err)
		}
		startAll(t, a, b)
		testkit.WaitFor(t, "b sees a", sees(b, "a"))
		if got := urlOf(b, "a"); got != "http://127.0.0.1:8081" {
			t.Fatalf("b lists a at %q, want the URL set before Start", got)
		}
		checkSetHTTPURL(t, a, b)
	})
	t.Run("static", func(t *testing.T) {
		pa, pb := freePort(t), freePort(t)
		a, b := staticNode(t, "a", pa, pb), staticNode(t, "b", pb, pa)
		startAll(t, a)
		startAll(t, b)
		testkit.WaitFor(t, "b sees a", sees(b, "a"))
		checkSetHTTPURL(t, a, b)
	})
}

func checkSetHTTPURL(t *testing.T, a, b *node) {
	t.Helper()
	const url = "http://127.0.0.1:39999"
	if err := a.c.SetHTTPURL(url); err != nil {
		t.Fatal(err)
	}
	if got := a.c.Local().HTTPURL; got != url || a.c.HTTPURL() != url {
		t.Fatalf("a.Local().HTTPURL = %q, HTTPURL() = %q; want %q", got, a.c.HTTPURL(), url)
	}
	testkit.WaitFor(t, "b learns a's new URL", seesURL(b, "a", url))

	// A URL the membership rejects changes nothing.
	if err := a.c.SetHTTPURL("http://bad url/"); !errors.Is(err, mcast.ErrConfig) {
		t.Fatalf("SetHTTPURL(bad) = %v, want mcast.ErrConfig", err)
	}
	if got := a.c.HTTPURL(); got != url {
		t.Fatalf("after a rejected URL: %q", got)
	}
	if err := a.c.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := a.c.SetHTTPURL(url); !errors.Is(err, cluster.ErrClosed) {
		t.Fatalf("SetHTTPURL after Stop = %v, want ErrClosed", err)
	}
}

// The URL set before Start is what the membership advertises.
func TestSetHTTPURLBeforeStart(t *testing.T) {
	c, _, _ := startFake(t, "a", nil)
	if got := c.Local().HTTPURL; got != "" {
		t.Fatalf("Local().HTTPURL = %q", got)
	}
	f := newFake()
	cfg := cluster.DefaultLocalConfig("b")
	cfg.Membership = fakeConfig{f}
	cfg.HTTPURL = "http://127.0.0.1:1"
	b, err := cluster.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.SetHTTPURL("http://127.0.0.1:2"); err != nil {
		t.Fatal(err)
	}
	if err := b.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Stop(context.Background()) })
	if got := f.Local().HTTPURL; !strings.HasSuffix(got, ":2") {
		t.Fatalf("membership built with HTTPURL %q", got)
	}
	// The fake membership has no Update: the cluster still records it.
	if err := b.SetHTTPURL("http://127.0.0.1:3"); err != nil || b.Local().HTTPURL != "http://127.0.0.1:3" {
		t.Fatalf("SetHTTPURL = %v, Local %q", err, b.Local().HTTPURL)
	}
}
