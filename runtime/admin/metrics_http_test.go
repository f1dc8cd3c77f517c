package admin

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestStatusWriterKeepsInterfaces(t *testing.T) {
	hm := NewHTTPMetrics(func() []string { return []string{"/"} })
	var flushed bool
	h := hm.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusAccepted)
		if f, ok := w.(http.Flusher); ok {
			f.Flush()
			flushed = true
		}
		if _, ok := w.(http.Hijacker); !ok {
			t.Error("the wrapped writer hides http.Hijacker")
		}
		if err := http.NewResponseController(w).Flush(); err != nil {
			t.Errorf("ResponseController.Flush: %v", err)
		}
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/x", nil))
	if !flushed || !rec.Flushed || rec.Code != http.StatusAccepted {
		t.Fatalf("flushed %v, recorder flushed %v, code %d", flushed, rec.Flushed, rec.Code)
	}
	if n := hm.counters("/").codes[http.StatusAccepted].Load(); n != 1 {
		t.Fatalf("202 counted %d times", n)
	}
}

// BenchmarkHTTPMetrics is the middleware's cost per request (compare with
// BenchmarkHTTPBare).
func BenchmarkHTTPMetrics(b *testing.B) {
	hm := NewHTTPMetrics(func() []string { return []string{"/", "/shop"} })
	benchHandler(b, hm.Wrap(okHandler))
}

func BenchmarkHTTPBare(b *testing.B) { benchHandler(b, okHandler) }

var okHandler = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(200) })

type nopWriter struct{ h http.Header }

func (w nopWriter) Header() http.Header       { return w.h }
func (nopWriter) Write(b []byte) (int, error) { return len(b), nil }
func (nopWriter) WriteHeader(int)             {}

func benchHandler(b *testing.B, h http.Handler) {
	req := httptest.NewRequest("GET", "/shop/cart", nil)
	w := nopWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(w, req)
	}
}
