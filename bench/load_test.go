package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeStore is the example app's sessions, shared by fake nodes.
type fakeStore struct {
	mu       sync.Mutex
	sessions map[string]map[string]string
	visible  map[string]time.Time // session id → when a peer may see it
}

func newFakeStore() *fakeStore {
	return &fakeStore{sessions: map[string]map[string]string{}, visible: map[string]time.Time{}}
}

// fakeApp serves /set, /get and /count like the example app. A peer
// (lag > 0) sees a session's values only lag after the last write.
func fakeApp(st *fakeStore, lag time.Duration, sets *atomic.Int64) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/set", func(w http.ResponseWriter, r *http.Request) {
		st.mu.Lock()
		defer st.mu.Unlock()
		id := ""
		if c, err := r.Cookie(CookieName); err == nil && st.sessions[c.Value] != nil {
			id = c.Value
		} else {
			b := make([]byte, 16)
			_, _ = rand.Read(b)
			id = strings.ToUpper(hex.EncodeToString(b)) + ".fake"
			st.sessions[id] = map[string]string{}
			http.SetCookie(w, &http.Cookie{Name: CookieName, Value: id, Path: "/", HttpOnly: true})
		}
		st.sessions[id][r.URL.Query().Get("k")] = r.URL.Query().Get("v")
		st.visible[id] = time.Now().Add(lag)
		if sets != nil {
			sets.Add(1)
		}
		fmt.Fprintf(w, "ok %s\n", id)
	})
	mux.HandleFunc("/get", func(w http.ResponseWriter, r *http.Request) {
		st.mu.Lock()
		defer st.mu.Unlock()
		c, err := r.Cookie(CookieName)
		if err != nil || st.sessions[c.Value] == nil || (lag > 0 && time.Now().Before(st.visible[c.Value])) {
			http.Error(w, "missing", http.StatusNotFound)
			return
		}
		v, ok := st.sessions[c.Value][r.URL.Query().Get("k")]
		if !ok {
			http.Error(w, "missing", http.StatusNotFound)
			return
		}
		fmt.Fprintln(w, v)
	})
	mux.HandleFunc("/count", func(w http.ResponseWriter, r *http.Request) {
		st.mu.Lock()
		defer st.mu.Unlock()
		fmt.Fprintln(w, strconv.Itoa(len(st.sessions)))
	})
	return mux
}

func TestRunAgainstHTTPServer(t *testing.T) {
	var sets atomic.Int64
	st := newFakeStore()
	srv := httptest.NewServer(fakeApp(st, 0, &sets))
	defer srv.Close()
	c := NewClient(8)
	defer c.CloseIdleConnections()

	res, err := Run(context.Background(), Load{Concurrency: 8, Duration: time.Second}, setOps(c, srv.URL, 256, 1))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("/set on httptest: %s in %v", throughputValue(res), res.Elapsed)
	if res.Errors != 0 || res.Requests == 0 || res.FirstErr != nil {
		t.Fatalf("requests %d, errors %d (%v)", res.Requests, res.Errors, res.FirstErr)
	}
	// 8 setup requests (one per worker, each a session) + the measured ones.
	if got := sets.Load(); got != res.Requests+8 {
		t.Errorf("server saw %d /set, want %d", got, res.Requests+8)
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if n := len(st.sessions); n != 8 {
		t.Errorf("%d sessions, want one per worker (8): the cookie was not kept", n)
	}
	if res.Latency.Count() != res.Requests || res.Elapsed < time.Second || res.Rate() <= 0 {
		t.Errorf("latency count %d, elapsed %v, rate %v", res.Latency.Count(), res.Elapsed, res.Rate())
	}
	// Every stored value has the requested size and they differ.
	for _, kv := range st.sessions {
		if len(kv["k"]) != 256 {
			t.Errorf("value of %d bytes, want 256", len(kv["k"]))
		}
	}
}

func TestRunRequestBudget(t *testing.T) {
	st := newFakeStore()
	srv := httptest.NewServer(fakeApp(st, 0, nil))
	defer srv.Close()
	c := NewClient(16)
	defer c.CloseIdleConnections()
	res, err := Run(context.Background(), Load{Concurrency: 16, Requests: 1000}, fillOps(c, srv.URL, 64, 2))
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests != 1000 || res.Errors != 0 {
		t.Fatalf("requests %d errors %d (%v), want 1000 and 0", res.Requests, res.Errors, res.FirstErr)
	}
	if n, err := count(context.Background(), c, srv.URL); err != nil || n != 1000 {
		t.Errorf("count = %d, %v; want 1000 sessions (one per fill request)", n, err)
	}
}

func TestRunCountsErrorsAndStopsOnCancel(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "nope", http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	c := NewClient(2)
	defer c.CloseIdleConnections()
	res, err := Run(context.Background(), Load{Concurrency: 2, Requests: 10}, func(int) (Op, error) {
		a := newAgent(c)
		return func(ctx context.Context) error { return a.expect(ctx, srv.URL+"/set?k=a&v=b", "ok ") }, nil
	})
	if err != nil || res.Errors != 10 || res.Requests != 0 || res.FirstErr == nil || !strings.Contains(res.FirstErr.Error(), "503") {
		t.Fatalf("err %v, result %+v", err, res)
	}

	ctx, cancel := context.WithCancel(context.Background())
	var calls atomic.Int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, err = Run(ctx, Load{Concurrency: 3, Duration: time.Hour}, func(int) (Op, error) {
			return func(context.Context) error {
				if calls.Add(1) == 100 {
					cancel()
				}
				return nil
			}, nil
		})
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not stop on cancel")
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}

	_, err = Run(context.Background(), Load{Concurrency: 1, Requests: 1}, func(int) (Op, error) { return nil, errors.New("boom") })
	if err == nil || !strings.Contains(err.Error(), "boom") {
		t.Errorf("setup error: %v", err)
	}
	if _, err := Run(context.Background(), Load{Concurrency: 0, Duration: time.Second}, nil); err == nil {
		t.Error("concurrency 0 accepted")
	}
}

func TestStamp(t *testing.T) {
	v := []byte("xxxxxxxxxx")
	stamp(v, 35)
	if string(v) != "zxxxxxxxxx" {
		t.Errorf("stamp 35 = %q", v)
	}
	stamp(v, 36*36)
	if string(v) != "100xxxxxxx" {
		t.Errorf("stamp 1296 = %q", v)
	}
	short := []byte("ab")
	stamp(short, 36*36*36-1) // "zzz": only the last digits fit
	if string(short) != "zz" {
		t.Errorf("stamp into 2 bytes = %q", short)
	}
}
