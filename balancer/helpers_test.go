package balancer

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"sync"
	"testing"
	"time"

	"github.com/gomcat/gomcat/internal/testkit"
	"github.com/rs/zerolog"
)

// testConfig is DefaultConfig with loopback ports picked by the OS and fast health checks.
func testConfig(t *testing.T, backends ...Backend) Config {
	t.Helper()
	c := DefaultConfig()
	c.Listen = "127.0.0.1:0"
	c.AdminListen = "127.0.0.1:0"
	c.Backends = backends
	c.Health.Path = "/healthz"
	c.Health.Interval = 20 * time.Millisecond
	c.Health.Timeout = 500 * time.Millisecond
	c.Logger = zerolog.New(zerolog.NewTestWriter(t))
	return c
}

// startBalancer starts a Balancer and stops it at cleanup.
func startBalancer(t *testing.T, c Config) *Balancer {
	t.Helper()
	b, err := New(c)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if err := b.Start(context.Background()); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := b.Stop(ctx); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})
	return b
}

func (b *Balancer) testURL() string { return "http://" + b.Addr().String() }

func nodeState(b *Balancer, name string) State {
	for _, n := range b.Nodes() {
		if n.Name == name {
			return n.State
		}
	}
	return ""
}

func waitState(t *testing.T, b *Balancer, name string, want State) {
	t.Helper()
	testkit.WaitFor(t, name+" "+string(want), func() bool { return nodeState(b, name) == want })
}

func newJarClient(t *testing.T) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	tr := &http.Transport{DisableCompression: true}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Jar: jar, Transport: tr, Timeout: 10 * time.Second}
}

// get does a GET and returns status, body and the X-Node header.
func get(t *testing.T, c *http.Client, url string, hdr ...string) (int, string, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Add(hdr[i], hdr[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), resp.Header.Get("X-Node")
}

// fakeMembers is a MemberSource driven by the test.
type fakeMembers struct {
	ch chan MemberEvent
	mu sync.Mutex
	m  map[string]MemberEvent
}

func newFakeMembers() *fakeMembers {
	return &fakeMembers{ch: make(chan MemberEvent, 16), m: map[string]MemberEvent{}}
}

func (f *fakeMembers) Start(context.Context) error { return nil }
func (f *fakeMembers) Stop(context.Context) error  { return nil }
func (f *fakeMembers) Events() <-chan MemberEvent  { return f.ch }
func (f *fakeMembers) Members() []MemberEvent {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []MemberEvent
	for _, e := range f.m {
		out = append(out, e)
	}
	return out
}

func (f *fakeMembers) send(e MemberEvent) {
	f.mu.Lock()
	switch e.Kind {
	case MemberAdded, MemberReplaced, MemberUpdated:
		f.m[e.Name] = MemberEvent{Kind: MemberAdded, Name: e.Name, HTTPURL: e.HTTPURL}
	default:
		delete(f.m, e.Name)
	}
	f.mu.Unlock()
	f.ch <- e
}
