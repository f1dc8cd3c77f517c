package redismgr

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gomcat/gomcat/internal/redistest"
	"github.com/gomcat/gomcat/internal/testkit"
	"github.com/gomcat/gomcat/runtime/session"
)

func TestStorageLayout(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	m := newManager(t, srv, func(c *Config) { c.KeyPrefix = "shop"; c.Route = "n1" })
	s := request(t, m, "", func(s *session.Session) {
		if err := s.Set("cart", []string{"apple"}); err != nil {
			t.Fatal(err)
		}
	})
	if !strings.HasSuffix(s.ID(), ".n1") {
		t.Fatalf("id %q has no route", s.ID())
	}
	rc := rawClient(t, srv)
	ctx := context.Background()
	h, err := rc.HGetAll(ctx, "shop:sessions:"+s.ID()).Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"creationTime", "lastAccessedTime", "maxInactiveInterval", "version", "sessionAttr:cart"} {
		if _, ok := h[f]; !ok {
			t.Errorf("field %s missing: %v", f, h)
		}
	}
	if h["maxInactiveInterval"] != "1800" || h["version"] != "1" {
		t.Errorf("maxInactiveInterval %s version %s", h["maxInactiveInterval"], h["version"])
	}
	want, _ := session.Encode([]string{"apple"})
	if h["sessionAttr:cart"] != string(want) {
		t.Errorf("attribute bytes %x, want the codec's %x", h["sessionAttr:cart"], want)
	}
	ttl, _ := rc.PTTL(ctx, "shop:sessions:"+s.ID()).Result()
	if ttl < 30*time.Minute || ttl > 33*time.Minute {
		t.Errorf("TTL %v, want max-inactive × 1.1 = 33 min", ttl)
	}
}

func TestOtherNodeSeesEveryChange(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	a := newManager(t, srv, nil)
	b := newManager(t, srv, nil)
	s := request(t, a, "", func(s *session.Session) { _ = s.Set("n", 1) })
	id := s.ID()
	for i := 2; i <= 5; i++ {
		w, r := a, b
		if i%2 == 1 {
			w, r = b, a
		}
		request(t, w, id, func(s *session.Session) {
			if v, _ := s.Get("n"); v != int64(i-1) {
				t.Fatalf("step %d: writer read %v, want %d", i, v, i-1)
			}
			_ = s.Set("n", i)
			s.Delete(fmt.Sprint("gone", i-1))
			_ = s.Set(fmt.Sprint("gone", i), true)
		})
		got := request(t, r, id, nil)
		if v, _ := got.Get("n"); v != int64(i) {
			t.Fatalf("step %d: the other node read %v (stale)", i, v)
		}
		if keys := got.Keys(); len(keys) != 2 {
			t.Fatalf("step %d: keys %v", i, keys)
		}
	}
}

func TestRoundTrips(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	sticky := newManager(t, srv, func(c *Config) { c.Sticky = true })
	plain := newManager(t, srv, nil)
	for _, tc := range []struct {
		name        string
		m           *Manager
		read, write int64
	}{{"sticky", sticky, 0, 1}, {"non-sticky", plain, 1, 2}} {
		t.Run(tc.name, func(t *testing.T) {
			// Counted twice: by a client hook, and by the server itself
			// (INFO commandstats: one EVALSHA is one command).
			c := countTrips(tc.m)
			served := serverCommands(t, srv)
			s := request(t, tc.m, "", func(s *session.Session) { _ = s.Set("a", 1) })
			if n, m := c.n.Swap(0), served(); n != 1 || m != 1 {
				t.Errorf("create+set: %d round trips, %d commands served, want 1", n, m)
			}
			request(t, tc.m, s.ID(), func(s *session.Session) { _, _ = s.Get("a") })
			if n, m := c.n.Swap(0), served(); n != tc.read || m != tc.read {
				t.Errorf("read-only request: %d round trips, %d commands served, want %d", n, m, tc.read)
			}
			request(t, tc.m, s.ID(), func(s *session.Session) { _ = s.Set("a", 2); _ = s.Set("b", 3) })
			if n, m := c.n.Swap(0), served(); n != tc.write || m != tc.write {
				t.Errorf("write request: %d round trips, %d commands served, want %d", n, m, tc.write)
			}
		})
	}
}

func TestStickyCacheInvalidatedByOtherWriter(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	a := newManager(t, srv, func(c *Config) { c.Sticky = true })
	b := newManager(t, srv, nil)
	id := request(t, a, "", func(s *session.Session) { _ = s.Set("v", "a") }).ID()
	request(t, b, id, func(s *session.Session) { _ = s.Set("v", "b") })
	testkit.WaitFor(t, "a's near-cache to see b's write", func() bool {
		v, _ := request(t, a, id, nil).Get("v")
		return v == "b"
	})
}

func TestTouchWindow(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	clock := testkit.NewClock(time.Now())
	m := newManager(t, srv, func(c *Config) { c.Sticky = true; c.MaxInactive = 100 * time.Second; c.Now = clock.Now })
	c := countTrips(m)
	id := request(t, m, "", nil).ID()
	rc := rawClient(t, srv)
	key := m.Key(id)
	before, _ := rc.HGet(context.Background(), key, "lastAccessedTime").Result()
	c.n.Store(0)
	clock.Add(9 * time.Second) // inside the 10 s window
	request(t, m, id, nil)
	if n := c.n.Swap(0); n != 0 {
		t.Fatalf("read inside the touch window: %d round trips", n)
	}
	clock.Add(2 * time.Second) // past it
	rc.PExpire(context.Background(), key, 5*time.Second)
	request(t, m, id, nil)
	if n := c.n.Swap(0); n != 1 {
		t.Fatalf("read past the touch window: %d round trips, want 1", n)
	}
	after, _ := rc.HGet(context.Background(), key, "lastAccessedTime").Result()
	ttl, _ := rc.PTTL(context.Background(), key).Result()
	if after == before || ttl < 100*time.Second {
		t.Fatalf("touch: lastAccessedTime %s → %s, TTL %v (want refreshed to 110 s)", before, after, ttl)
	}
}

func TestExpiryFiresDestroyed(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	var destroyed atomic.Int32
	a := newManager(t, srv, func(c *Config) {
		c.Listeners.Destroyed = func(*session.Session) { destroyed.Add(1) }
	})
	s, _ := a.Create(context.Background())
	s.SetMaxInactive(time.Second)
	if err := a.RequestCompleted(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	rc := rawClient(t, srv)
	flags, _ := rc.ConfigGet(context.Background(), "notify-keyspace-events").Result()
	if !strings.Contains(flags["notify-keyspace-events"], "K") {
		t.Fatalf("notify-keyspace-events %q: the manager did not enable them", flags)
	}
	testkit.WaitFor(t, "the expiry event to fire Destroyed", func() bool { return destroyed.Load() == 1 })
	if a.Count() != 0 {
		t.Fatalf("near-cache still holds %d", a.Count())
	}
	if got, _ := a.Load(context.Background(), s.ID()); got != nil {
		t.Fatal("expired session loaded")
	}
}

func TestRenew(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	a := newManager(t, srv, nil)
	b := newManager(t, srv, nil)
	var renamed atomic.Int32
	old := request(t, a, "", func(s *session.Session) { _ = s.Set("k", "v") }).ID()
	request(t, b, old, nil) // b caches it
	var nid string
	request(t, a, old, func(s *session.Session) {
		var err error
		if nid, err = s.RenewID(); err != nil {
			t.Fatal(err)
		}
		renamed.Add(1)
	})
	rc := rawClient(t, srv)
	if n, _ := rc.Exists(context.Background(), a.Key(old)).Result(); n != 0 {
		t.Fatal("old key still exists")
	}
	testkit.WaitFor(t, "b to drop the old id", func() bool { s, _ := b.Load(context.Background(), old); return s == nil })
	s := request(t, b, nid, nil)
	if v, _ := s.Get("k"); v != "v" {
		t.Fatalf("renamed session lost its attribute: %v", v)
	}
	// A new, never written session renames locally.
	fresh, _ := a.Create(context.Background())
	if err := a.ChangeID(fresh, session.NewID("")); err != nil {
		t.Fatal(err)
	}
	if err := a.RequestCompleted(context.Background(), fresh); err != nil {
		t.Fatal(err)
	}
	if n, _ := rc.Exists(context.Background(), a.Key(fresh.ID())).Result(); n != 1 {
		t.Fatal("renamed new session not stored under its new id")
	}
	// Renaming onto an existing id is refused.
	if err := a.ChangeID(request(t, a, nid, nil), fresh.ID()); !errors.Is(err, session.ErrDuplicateID) {
		t.Fatalf("rename onto a live id: %v", err)
	}
}

func TestInvalidate(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	var destroyedB atomic.Int32
	a := newManager(t, srv, nil)
	b := newManager(t, srv, func(c *Config) {
		c.Listeners.Destroyed = func(*session.Session) { destroyedB.Add(1) }
	})
	id := request(t, a, "", nil).ID()
	request(t, b, id, nil)
	request(t, a, id, func(s *session.Session) { s.Invalidate() })
	if n, _ := rawClient(t, srv).Exists(context.Background(), a.Key(id)).Result(); n != 0 {
		t.Fatal("key survived invalidate")
	}
	testkit.WaitFor(t, "b's Destroyed from the del event", func() bool { return destroyedB.Load() == 1 })
	// A write of a session invalidated elsewhere does not resurrect it.
	s := request(t, a, "", nil)
	held, _ := b.Load(context.Background(), s.ID())
	request(t, a, s.ID(), func(s *session.Session) { s.Invalidate() })
	_ = held.Set("late", 1)
	if err := b.RequestCompleted(context.Background(), held); err != nil {
		t.Fatal(err)
	}
	if n, _ := rawClient(t, srv).Exists(context.Background(), a.Key(s.ID())).Result(); n != 0 {
		t.Fatal("a late write resurrected an invalidated session")
	}
}

func TestConcurrentRequestsOfOneSession(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	nodes := []*Manager{newManager(t, srv, nil), newManager(t, srv, nil), newManager(t, srv, func(c *Config) { c.Sticky = true })}
	id := request(t, nodes[0], "", nil).ID()
	var wg sync.WaitGroup
	for g := range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m := nodes[g%len(nodes)]
			for i := range 10 {
				s, err := m.Load(context.Background(), id)
				if err != nil || s == nil {
					t.Errorf("load: %v %v", s, err)
					return
				}
				s.Access(time.Now())
				_ = s.Set(fmt.Sprintf("g%d-%d", g, i), i)
				s.EndAccess()
				if err := m.RequestCompleted(context.Background(), s); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	h, _ := rawClient(t, srv).HGetAll(context.Background(), nodes[0].Key(id)).Result()
	n := 0
	for k := range h {
		if strings.HasPrefix(k, attrPrefix) {
			n++
		}
	}
	// Two requests of one node share its cached session: one write may
	// carry both their changes. Every write bumped the version once.
	var writes uint64
	for _, m := range nodes {
		writes += m.Stats().Writes
	}
	if n != 120 || h["version"] != fmt.Sprint(writes) {
		t.Fatalf("%d attributes, version %s; want 120 and %d (the writes)", n, h["version"], writes)
	}
}

func TestLimits(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	m := newManager(t, srv, func(c *Config) { c.MaxSessionSize = 1000 })
	s := request(t, m, "", func(s *session.Session) {
		if err := s.Set("big", strings.Repeat("x", 2000)); !errors.Is(err, session.ErrTooLarge) {
			t.Fatalf("oversized attribute: %v", err)
		}
		_ = s.Set("ok", strings.Repeat("y", 500))
	})
	h, _ := rawClient(t, srv).HGetAll(context.Background(), m.Key(s.ID())).Result()
	if _, ok := h["sessionAttr:big"]; ok {
		t.Fatal("refused attribute stored")
	}
	if got, err := m.Load(context.Background(), strings.Repeat("a", 300)); got != nil || err != nil {
		t.Fatalf("overlong id: %v %v", got, err)
	}
	// A large session (1 MiB in 64 attributes) round-trips.
	big := newManager(t, srv, nil)
	v := strings.Repeat("z", 16<<10)
	id := request(t, big, "", func(s *session.Session) {
		for i := range 64 {
			_ = s.Set(fmt.Sprint("a", i), v)
		}
	}).ID()
	other := newManager(t, srv, nil)
	got := request(t, other, id, nil)
	if len(got.Keys()) != 64 || got.Size() < 1<<20 {
		t.Fatalf("large session: %d keys, %d bytes", len(got.Keys()), got.Size())
	}
	// A corrupt hash is refused and counted, not loaded.
	rc := rawClient(t, srv)
	rc.HSet(context.Background(), m.Key("bad"), "version", "1", "sessionAttr:x", "\xff\xff")
	if s, err := other.Load(context.Background(), "bad"); s != nil || err != nil {
		t.Fatalf("corrupt hash: %v %v", s, err)
	}
	if other.Stats().BadHashes != 1 {
		t.Fatal("corrupt hash not counted")
	}
}

func TestWriteModes(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	whole := newManager(t, srv, func(c *Config) { c.WriteMode = WriteWhole })
	immediate := newManager(t, srv, func(c *Config) { c.FlushMode = FlushImmediate })
	rc := rawClient(t, srv)
	ctx := context.Background()

	id := request(t, whole, "", func(s *session.Session) { _ = s.Set("a", 1); _ = s.Set("b", 2) }).ID()
	rc.HSet(ctx, whole.Key(id), "sessionAttr:stray", "\x01") // another writer's field
	request(t, whole, id, func(s *session.Session) { _ = s.Set("a", 3) })
	h, _ := rc.HGetAll(ctx, whole.Key(id)).Result()
	if _, ok := h["sessionAttr:stray"]; ok || h["sessionAttr:b"] == "" {
		t.Fatalf("whole write: %v", h)
	}

	s, err := immediate.Create(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := rc.Exists(ctx, immediate.Key(s.ID())).Result(); n != 1 {
		t.Fatal("immediate: new session not written at Create")
	}
	_ = s.Set("now", 1)
	if v, _ := rc.HExists(ctx, immediate.Key(s.ID()), "sessionAttr:now").Result(); !v {
		t.Fatal("immediate: attribute not written at Set")
	}
}

func TestRedisDown(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{Persist: true})
	m := newManager(t, srv, nil)
	id := request(t, m, "", func(s *session.Session) { _ = s.Set("a", 1) }).ID()
	h := session.MiddlewareWith(m, session.MiddlewareOptions{}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := session.Ensure(r)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		_ = s.Set("b", 2)
	}))
	get := func() *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("GET", "/", nil)
		req.AddCookie(&http.Cookie{Name: "JSESSIONID", Value: id})
		h.ServeHTTP(rec, req)
		return rec
	}
	srv.Kill()
	start := time.Now()
	if rec := get(); rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("redis down: status %d", rec.Code)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("503 took %v, not bounded by the timeout", d)
	}
	s, _ := m.Create(context.Background())
	_ = s.Set("x", 1)
	if err := m.RequestCompleted(context.Background(), s); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("write with redis down: %v", err)
	}
	if m.Stats().Failures < 2 {
		t.Fatalf("failures not counted: %+v", m.Stats())
	}
	srv.Restart()
	testkit.WaitFor(t, "recovery after restart", func() bool { return get().Code == http.StatusOK })
	got := request(t, newManager(t, srv, nil), id, nil)
	if v, _ := got.Get("a"); v != int64(1) {
		t.Fatalf("session after restart: %v", v)
	}
	if v, _ := got.Get("b"); v != int64(2) {
		t.Fatalf("write after recovery missing: %v", v)
	}
}

// TestRedisSlow: a server that stops answering (SIGSTOP) costs a request
// a 503 within the timeout (300 ms here, one retry), counted; once it
// answers again the same session is served.
func TestRedisSlow(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	m := newManager(t, srv, nil)
	id := request(t, m, "", func(s *session.Session) { _ = s.Set("a", 1) }).ID()
	srv.Pause()
	defer srv.Resume()
	failures := m.Stats().Failures
	start := time.Now()
	_, err := m.Load(context.Background(), id)
	if took := time.Since(start); !errors.Is(err, ErrUnavailable) || took > 3*time.Second {
		t.Fatalf("load from a silent server: %v after %v, want ErrUnavailable within the timeout", err, took)
	}
	if m.Stats().Failures == failures {
		t.Error("the timeout was not counted")
	}
	srv.Resume()
	testkit.WaitFor(t, "served again", func() bool {
		s, err := m.Load(context.Background(), id)
		return err == nil && s != nil
	})
}

// TestStartWithRedisDown: a manager whose server is unreachable starts
// anyway (its requests answer 503), serves once the server is up, and
// enables the keyspace notifications then, and again after a restart
// that lost them (CONFIG SET does not survive one).
func TestStartWithRedisDown(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	srv.Kill()
	m := newManager(t, srv, nil)
	if _, err := m.Load(context.Background(), session.NewID("")); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("load with the server down: %v, want ErrUnavailable", err)
	}
	notify := func() bool {
		c := rawClient(t, srv)
		v, err := c.ConfigGet(context.Background(), "notify-keyspace-events").Result()
		f := v["notify-keyspace-events"]
		return err == nil && strings.Contains(f, "K") && strings.Contains(f, "x") && strings.Contains(f, "g")
	}
	for _, step := range []string{"first start", "restart"} {
		srv.Restart()
		testkit.WaitFor(t, "served and notifications enabled after the "+step, func() bool {
			s, err := m.Create(context.Background())
			if err != nil {
				return false
			}
			_ = s.Set("a", 1)
			return m.RequestCompleted(context.Background(), s) == nil && notify()
		})
	}
}

// A wrong password is a configuration error: Start fails and says so.
func TestStartRefused(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{Extra: []string{"requirepass s3cret"}})
	cfg := DefaultConfig("localhost#/t", srv.URL())
	cfg.Password = "wrong"
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Start(context.Background()); err == nil {
		_ = m.Stop(context.Background())
		t.Fatal("Start with a wrong password succeeded")
	}
}

func TestSentinelFailover(t *testing.T) {
	master := redistest.Start(t, redistest.Options{})
	replica := redistest.Start(t, redistest.Options{ReplicaOf: "127.0.0.1 " + fmt.Sprint(master.Port)})
	var sentinels []string
	for range 3 {
		sentinels = append(sentinels, redistest.StartSentinel(t, "gm", master.Addr(), 2).Addr())
	}
	m := newManager(t, master, func(c *Config) {
		c.Address, c.Sentinel, c.MasterName = "", sentinels, "gm"
		c.Timeout = 500 * time.Millisecond
	})
	id := request(t, m, "", func(s *session.Session) { _ = s.Set("a", 1) }).ID()
	rc := rawClient(t, master)
	if n, err := rc.Do(context.Background(), "WAIT", 1, 5000).Int(); err != nil || n != 1 {
		t.Fatalf("WAIT: %d replicas, %v", n, err)
	}
	master.Kill()
	writeResumes(t, m, id)
	h, _ := rawClient(t, replica).HGetAll(context.Background(), m.Key(id)).Result()
	if h["sessionAttr:after"] == "" || h["sessionAttr:a"] == "" {
		t.Fatalf("after failover the promoted replica holds %v", h)
	}
}

// serverCommands returns a function that reports the commands srv
// served to clients since the last call, as MONITOR shows them: a script
// is one command (what it calls inside is marked "lua" and not counted).
// Each call ends with an ECHO of a fresh marker and reads up to it.
// Figures: go test -run TestRoundTrips -v ./redismgr
func serverCommands(t *testing.T, srv *redistest.Server) func() int64 {
	t.Helper()
	mon, err := net.Dial("tcp", srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = mon.Close() })
	br := bufio.NewReader(mon)
	if _, err := mon.Write([]byte("MONITOR\r\n")); err != nil {
		t.Fatal(err)
	}
	if line, err := br.ReadString('\n'); err != nil || !strings.HasPrefix(line, "+OK") {
		t.Fatalf("MONITOR: %q %v", line, err)
	}
	rc := rawClient(t, srv)
	seq := 0
	served := func() int64 {
		seq++
		mark := fmt.Sprintf("gomcat-test-mark-%d", seq)
		if err := rc.Echo(context.Background(), mark).Err(); err != nil {
			t.Fatal(err)
		}
		_ = mon.SetReadDeadline(time.Now().Add(10 * time.Second))
		var n int64
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				t.Fatalf("MONITOR: %v", err)
			}
			switch {
			case strings.Contains(line, mark):
				return n
			case strings.Contains(line, " lua] "), strings.Contains(line, `"echo" "gomcat-test-mark-`):
			default:
				n++
			}
		}
	}
	served() // the marker client's own connection setup (HELLO)
	return served
}

// TestPut: a record from another manager replaces what Redis holds (no
// field of the old session survives), keeps its id and attributes, gets
// the TTL it has left, and drops other nodes' cached copies; Delete
// removes it; a record already past its timeout is not stored.
func TestPut(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	m := newManager(t, srv, func(c *Config) { c.Sticky = true })
	other := newManager(t, srv, func(c *Config) { c.Sticky = true })
	rc := rawClient(t, srv)
	ctx := context.Background()
	s := request(t, m, "", func(s *session.Session) { _ = s.Set("old", 1); _ = s.Set("keep", "a") })
	request(t, other, s.ID(), nil) // cached on other

	src, _ := session.NewLocal(session.DefaultConfig())
	ls, _ := src.Create(ctx)
	_ = ls.Set("keep", "b")
	_ = ls.Set("n", 7)
	rec := ls.Snapshot()
	rec.ID = s.ID()
	rec.LastAccessed = time.Now().Add(-10 * time.Minute).UnixNano()
	if err := m.Put(ctx, rec); err != nil {
		t.Fatal(err)
	}
	ttl, _ := rc.PTTL(ctx, m.Key(s.ID())).Result()
	full := session.DefaultMaxInactive * 11 / 10
	if ttl <= 0 || ttl > full-9*time.Minute {
		t.Errorf("TTL after Put of a session idle 10 min = %v, want about %v", ttl, full-10*time.Minute)
	}
	testkit.WaitFor(t, "other's cached copy dropped", func() bool {
		got := request(t, other, s.ID(), nil)
		v, _ := got.Get("keep")
		return v == "b"
	})
	got := request(t, other, s.ID(), nil)
	if _, ok := got.Get("old"); ok {
		t.Error("an attribute of the replaced session survived Put")
	}
	if v, _ := got.Get("n"); v != uint64(7) && v != int64(7) && v != 7 {
		t.Errorf("n = %v (%T)", v, v)
	}

	if err := m.Delete(ctx, s.ID()); err != nil {
		t.Fatal(err)
	}
	if n, _ := rc.Exists(ctx, m.Key(s.ID())).Result(); n != 0 {
		t.Error("Delete left the hash")
	}
	rec.ID, rec.LastAccessed = session.NewID(""), time.Now().Add(-time.Hour).UnixNano()
	if err := m.Put(ctx, rec); err != nil {
		t.Fatal(err)
	}
	if n, _ := rc.Exists(ctx, m.Key(rec.ID)).Result(); n != 0 {
		t.Error("Put stored a record past its timeout")
	}
}
