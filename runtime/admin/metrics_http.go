package admin

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// HTTPMetrics counts the requests of a node's connectors by context and
// status code, with a latency histogram per context. The request path pays
// an atomic add and a histogram observation; the counters are turned into
// metrics at scrape time. Safe for concurrent use.
type HTTPMetrics struct {
	duration *prometheus.HistogramVec
	requests *prometheus.Desc
	paths    func() []string
	now      func() time.Time

	cache    atomic.Pointer[contextCache]
	contexts sync.Map // context path → *contextCounters
}

// contextCounters are one context's counters.
type contextCounters struct {
	path  string
	codes [600]atomic.Uint64 // by status code; 0 holds codes outside 100..599
	dur   prometheus.Observer
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
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: ns, Subsystem: "http", Name: "request_duration_seconds",
			Help:    "Time from the request's arrival to the end of its handler, by context path.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"context"}),
		requests: prometheus.NewDesc(ns+"_http_requests_total",
			"HTTP requests served by the connectors, by context path and status code.", []string{"context", "code"}, nil),
		paths: paths,
		now:   time.Now,
	}
}

// Collectors are the collectors to register.
func (m *HTTPMetrics) Collectors() []prometheus.Collector {
	return []prometheus.Collector{m.duration, httpRequests{m}}
}

// Wrap instruments next (the Engine).
func (m *HTTPMetrics) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := m.now()
		cc := m.counters(m.contextOf(r.URL.Path, start))
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		code := sw.code
		if code == 0 {
			code = http.StatusOK
		}
		if code < 100 || code >= len(cc.codes) {
			code = 0
		}
		cc.codes[code].Add(1)
		cc.dur.Observe(m.now().Sub(start).Seconds())
	})
}

func (m *HTTPMetrics) counters(path string) *contextCounters {
	if v, ok := m.contexts.Load(path); ok {
		return v.(*contextCounters)
	}
	cc := &contextCounters{path: path, dur: m.duration.WithLabelValues(path)}
	v, _ := m.contexts.LoadOrStore(path, cc)
	return v.(*contextCounters)
}

// contextOf is the longest deployed context path that prefixes p, or
// "other" (not even ROOT deployed), so labels stay bounded.
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

// httpRequests exports the request counters.
type httpRequests struct{ m *HTTPMetrics }

func (h httpRequests) Describe(ch chan<- *prometheus.Desc) { ch <- h.m.requests }

func (h httpRequests) Collect(ch chan<- prometheus.Metric) {
	h.m.contexts.Range(func(_, v any) bool {
		cc := v.(*contextCounters)
		for code := range cc.codes {
			if n := cc.codes[code].Load(); n > 0 {
				label := strconv.Itoa(code)
				if code == 0 {
					label = "other"
				}
				ch <- prometheus.MustNewConstMetric(h.m.requests, prometheus.CounterValue, float64(n), cc.path, label)
			}
		}
		return true
	})
}

// statusWriter records the response's status code. It keeps what the
// handler may need from the connection: Flush, Hijack (WebSockets),
// ReadFrom (sendfile) and Unwrap for http.ResponseController.
type statusWriter struct {
	http.ResponseWriter
	code int // first final status written; 0 = none yet
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 && code >= 200 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) ReadFrom(r io.Reader) (int64, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	if rf, ok := w.ResponseWriter.(io.ReaderFrom); ok {
		return rf.ReadFrom(r)
	}
	return io.Copy(writerOnly{w.ResponseWriter}, r)
}

func (w *statusWriter) Flush() { _ = http.NewResponseController(w.ResponseWriter).Flush() }

func (w *statusWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if w.code == 0 {
		w.code = http.StatusSwitchingProtocols
	}
	return http.NewResponseController(w.ResponseWriter).Hijack()
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// writerOnly hides ReadFrom, so io.Copy does not loop back into it.
type writerOnly struct{ io.Writer }
