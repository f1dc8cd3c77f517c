package balancer

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/gomcat/gomcat/balancer/balancertest"
	"github.com/gomcat/gomcat/internal/testkit"
	"github.com/rs/zerolog"
)

// benchGets runs small GETs with a session cookie against url from parallel
// clients and reports req/s and p50/p99 latency.
func benchGets(b *testing.B, url string) {
	tr := &http.Transport{MaxIdleConnsPerHost: 256, DisableCompression: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	var (
		mu  sync.Mutex
		all []time.Duration
	)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		var cookie string
		lat := make([]time.Duration, 0, 4096)
		for pb.Next() {
			req, _ := http.NewRequest(http.MethodGet, url, nil)
			if cookie != "" {
				req.Header.Set("Cookie", "JSESSIONID="+cookie)
			}
			t0 := time.Now()
			resp, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			lat = append(lat, time.Since(t0))
			if resp.StatusCode != 200 {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
			for _, c := range resp.Cookies() {
				if c.Name == "JSESSIONID" {
					cookie = c.Value
				}
			}
		}
		mu.Lock()
		all = append(all, lat...)
		mu.Unlock()
	})
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(len(all))/elapsed.Seconds(), "req/s")
	b.ReportMetric(float64(balancertest.Percentile(all, 0.50).Microseconds()), "p50-µs")
	b.ReportMetric(float64(balancertest.Percentile(all, 0.99).Microseconds()), "p99-µs")
}

// BenchmarkProxyDirect: straight to one fake node (the baseline).
func BenchmarkProxyDirect(b *testing.B) {
	srv := httptest.NewServer(balancertest.Node("node1", balancertest.NewStore()))
	defer srv.Close()
	benchGets(b, srv.URL+"/app")
}

// BenchmarkProxyBalancer: through the balancer to two fake nodes.
func BenchmarkProxyBalancer(b *testing.B) {
	store := balancertest.NewStore()
	var bes []Backend
	for _, name := range []string{"node1", "node2"} {
		srv := httptest.NewServer(balancertest.Node(name, store))
		defer srv.Close()
		bes = append(bes, Backend{Name: name, URL: srv.URL})
	}
	c := DefaultConfig()
	c.Listen, c.AdminListen = "127.0.0.1:0", ""
	c.Backends = bes
	c.Health.Path = "/healthz"
	c.Logger = zerolog.Nop()
	lb, err := New(c)
	if err != nil {
		b.Fatal(err)
	}
	if err := lb.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	defer lb.Stop(context.Background())
	testkit.WaitFor(b, "nodes live", func() bool { return lb.pool.liveCount() >= 2 })
	benchGets(b, "http://"+lb.Addr().String()+"/app")
}
