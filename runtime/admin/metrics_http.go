package admin

import (
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// HTTPMetrics counts the requests of a node's connectors by context and
// status code, with a latency histogram per context. Safe for concurrent use.
type HTTPMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	paths    func() []string
	now      func() time.Time

	cache    atomic.Pointer[contextCache]
	handlers sync.Map // context path → *instrumented
}

// instrumented is next wrapped for one context (labels curried once).
type instrumented struct {
	h   http.Handler
	dur prometheus.Observer
}

// contextCache is the sorted list of context paths (longest first) and
// when it was read; refreshed at most once a second.
type contextCache struct {
	at    time.Time
	paths []string
}

// NewHTTPMetrics returns the metrics; paths lists the deployed context
// paths (read at most once a second).
func NewHTTPMetrics(paths func() []string) *HTTPMetrics {
	return &HTTPMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Subsystem: "http", Name: "requests_total",
			Help: "HTTP requests served by the connectors, by context path and status code.",
		}, []string{"context", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: ns, Subsystem: "http", Name: "request_duration_seconds",
			Help:    "Time from the request's arrival to the end of its handler, by context path.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"context"}),
		paths: paths,
		now:   time.Now,
	}
}

// Collectors are the collectors to register.
func (m *HTTPMetrics) Collectors() []prometheus.Collector {
	return []prometheus.Collector{m.requests, m.duration}
}

// Wrap instruments next (the Engine).
func (m *HTTPMetrics) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := m.now()
		ctxPath := m.contextOf(r.URL.Path, start)
		var in *instrumented
		if v, ok := m.handlers.Load(ctxPath); ok {
			in = v.(*instrumented)
		} else {
			in = &instrumented{
				h:   promhttp.InstrumentHandlerCounter(m.requests.MustCurryWith(prometheus.Labels{"context": ctxPath}), next),
				dur: m.duration.WithLabelValues(ctxPath),
			}
			if v, loaded := m.handlers.LoadOrStore(ctxPath, in); loaded {
				in = v.(*instrumented)
			}
		}
		in.h.ServeHTTP(w, r)
		in.dur.Observe(m.now().Sub(start).Seconds())
	})
}

// contextOf is the longest deployed context path that prefixes p, or "/"
// ("other" when even ROOT is not deployed), so labels stay bounded.
func (m *HTTPMetrics) contextOf(p string, now time.Time) string {
	c := m.cache.Load()
	if c == nil || now.Sub(c.at) > time.Second {
		paths := slices.Clone(m.paths())
		slices.SortFunc(paths, func(a, b string) int { return len(b) - len(a) })
		c = &contextCache{at: now, paths: paths}
		m.cache.Store(c)
	}
	for _, cp := range c.paths {
		if cp == "/" || p == cp || strings.HasPrefix(p, cp+"/") {
			return cp
		}
	}
	return "other"
}
