package redismgr

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/gomcat/gomcat/internal/redistest"
	"github.com/gomcat/gomcat/internal/testkit"
	"github.com/gomcat/gomcat/runtime/session"
)

// newClusterManager starts a manager on the Redis Cluster rc.
func newClusterManager(t *testing.T, rc *redistest.Cluster, mod func(*Config)) *Manager {
	t.Helper()
	return newManager(t, rc.Nodes[0], func(c *Config) {
		c.Address, c.Cluster = "", rc.Seeds()
		c.Timeout = time.Second
		if mod != nil {
			mod(c)
		}
	})
}

// owner returns the index in rc.Nodes of the running master that holds
// key (-1 when none does): any other node answers MOVED.
func owner(t *testing.T, rc *redistest.Cluster, key string) int {
	t.Helper()
	for i, s := range rc.Nodes {
		if s.PID() == 0 {
			continue
		}
		n, err := rawClient(t, s).Exists(context.Background(), key).Result()
		if err == nil && n == 1 {
			return i
		}
	}
	return -1
}

// subscribed waits until every running master of rc has m's keyspace
// pattern subscribed (PUBSUB NUMPAT counts per node).
func subscribed(t *testing.T, rc *redistest.Cluster) {
	t.Helper()
	testkit.WaitWithin(t, "a keyspace subscription on every master", 20*time.Second, func() bool {
		for _, s := range rc.Nodes {
			if s.Role(t) != "master" {
				continue
			}
			if n, err := rawClient(t, s).Do(context.Background(), "PUBSUB", "NUMPAT").Int(); err != nil || n < 1 {
				return false
			}
			f, _ := rawClient(t, s).ConfigGet(context.Background(), "notify-keyspace-events").Result()
			if !strings.Contains(f["notify-keyspace-events"], "K") {
				return false
			}
		}
		return true
	})
}

// TestCluster: on a three-master Redis Cluster sessions spread over every
// master, a second manager sees every change, renewal moves a session
// between slots (keeping its fields and TTL), and deletions and expiries
// on every master reach the other manager's listeners.
func TestCluster(t *testing.T) {
	rc := redistest.StartCluster(t, 3, 0)
	var destroyedB atomic.Int32
	a := newClusterManager(t, rc, nil)
	b := newClusterManager(t, rc, func(c *Config) {
		c.Sticky = true
		c.Listeners.Destroyed = func(*session.Session) { destroyedB.Add(1) }
	})
	subscribed(t, rc)

	// Enough sessions that every master holds some.
	byOwner := map[int][]string{}
	for i := range 30 {
		id := request(t, a, "", func(s *session.Session) { _ = s.Set("n", i) }).ID()
		o := owner(t, rc, a.Key(id))
		if o < 0 {
			t.Fatalf("session %d is on no master", i)
		}
		byOwner[o] = append(byOwner[o], id)
	}
	if len(byOwner) != 3 {
		t.Fatalf("30 sessions on %d masters, want 3", len(byOwner))
	}
	for o, ids := range byOwner {
		s := request(t, b, ids[0], nil)
		if s == nil {
			t.Fatalf("b cannot load a session of master %d", o)
		}
		if v, _ := s.Get("n"); v == nil {
			t.Fatalf("b loaded a session of master %d without its attribute", o)
		}
	}

	// Renewal: the new key is in another slot almost always; the hash,
	// its fields and TTL move, the old id is gone.
	old := byOwner[0][1]
	var nid string
	request(t, a, old, func(s *session.Session) {
		var err error
		if nid, err = s.RenewID(); err != nil {
			t.Fatal(err)
		}
	})
	if owner(t, rc, a.Key(old)) >= 0 {
		t.Fatal("the old id survived the renewal")
	}
	if owner(t, rc, a.Key(nid)) < 0 {
		t.Fatal("the renewed session is not stored under its new id")
	}
	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: rc.Seeds(), DisableIdentity: true})
	t.Cleanup(func() { _ = cc.Close() })
	if ttl, _ := cc.PTTL(context.Background(), a.Key(nid)).Result(); ttl <= 0 {
		t.Fatalf("renewed key TTL %v, want the session's", ttl)
	}
	if s := request(t, b, nid, nil); s == nil {
		t.Fatal("b cannot load the renewed session")
	} else if v, _ := s.Get("n"); v == nil {
		t.Fatal("the renewed session lost its attribute")
	}
	if err := a.ChangeID(request(t, a, nid, nil), byOwner[1][0]); !errors.Is(err, session.ErrDuplicateID) {
		t.Fatalf("renewal onto a live id: %v", err)
	}

	// A write through a reaches b's sticky copy through the invalidation
	// channel (published on one master, delivered cluster-wide).
	for o, ids := range byOwner {
		request(t, a, ids[0], func(s *session.Session) { _ = s.Set("n", 100+o) })
		testkit.WaitFor(t, "b to see a's write", func() bool {
			s := request(t, b, ids[0], nil)
			v, _ := s.Get("n")
			return v == uint64(100+o) || v == int64(100+o) || v == 100+o
		})
	}

	// A deletion on each master reaches b (sticky: it trusts its copies
	// until an event says otherwise).
	before := destroyedB.Load()
	for _, ids := range byOwner {
		request(t, a, ids[0], func(s *session.Session) { s.Invalidate() })
	}
	testkit.WaitFor(t, "b's Destroyed for a deletion on every master", func() bool { return destroyedB.Load() == before+3 })

	// An expiry on each master does too.
	var exp []string
	for o := range byOwner {
		id := byOwner[o][2]
		request(t, b, id, nil)
		request(t, a, id, func(s *session.Session) { s.SetMaxInactive(time.Second) })
		exp = append(exp, id)
	}
	before = destroyedB.Load()
	testkit.WaitWithin(t, "b's Destroyed for an expiry on every master", 20*time.Second, func() bool { return destroyedB.Load() == before+3 })
	for _, id := range exp {
		if s, _ := b.Load(context.Background(), id); s != nil {
			t.Fatal("an expired session still loads")
		}
	}
}

// TestClusterFailover: a master with a replica is killed under writes; the
// replica is promoted, the manager follows it, no acknowledged write is
// lost (WAIT before the kill), and the promoted master's keyspace events
// reach the listeners (its subscription is made when it becomes master).
func TestClusterFailover(t *testing.T) {
	rc := redistest.StartCluster(t, 3, 1)
	var destroyed atomic.Int32
	m := newClusterManager(t, rc, func(c *Config) {
		c.Sticky = true
		c.Listeners.Destroyed = func(*session.Session) { destroyed.Add(1) }
	})
	other := newClusterManager(t, rc, nil)
	subscribed(t, rc)
	var ids []string
	var victim int = -1
	for len(ids) < 40 || victim < 0 {
		id := request(t, m, "", func(s *session.Session) { _ = s.Set("a", 1) }).ID()
		ids = append(ids, id)
		if o := owner(t, rc, m.Key(id)); o == 0 {
			victim = len(ids) - 1
		}
	}
	master := rc.Nodes[0]
	if n, err := rawClient(t, master).Do(context.Background(), "WAIT", 1, 5000).Int(); err != nil || n != 1 {
		t.Fatalf("WAIT: %d replicas, %v", n, err)
	}
	master.Kill()
	writeResumes(t, m, ids[victim])
	// Every session is readable through the other manager too, once its
	// client has followed the failover (an error is "not yet"; a session
	// missing is a loss).
	for _, id := range ids {
		testkit.WaitWithin(t, "the other manager to read every session", 40*time.Second, func() bool {
			s, err := other.Load(context.Background(), id)
			if err == nil && s == nil {
				t.Fatalf("session %s lost in the failover", session.LogID(id))
			}
			return err == nil
		})
	}
	// The promoted master's events: the other manager deletes the victim,
	// whose slot the promoted replica now holds.
	subscribed(t, rc)
	before := destroyed.Load()
	request(t, other, ids[victim], func(s *session.Session) { s.Invalidate() })
	testkit.WaitWithin(t, "Destroyed from the promoted master's event", 20*time.Second, func() bool { return destroyed.Load() == before+1 })
}
