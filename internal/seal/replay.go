package seal

import "container/heap"

// replayCache remembers nonces seen within the window. Not safe for
// concurrent use: Sealer.mu guards it.
type replayCache struct {
	max     int
	seen    map[[NonceSize]byte]struct{}
	byTime  tsHeap
	floor   int64 // newest timestamp evicted for room; anything ≤ it is rejected
	evicted bool
}

type entry struct {
	nonce [NonceSize]byte
	ts    int64
}

type tsHeap []entry

func (h tsHeap) Len() int           { return len(h) }
func (h tsHeap) Less(i, j int) bool { return h[i].ts < h[j].ts }
func (h tsHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *tsHeap) Push(x any)        { *h = append(*h, x.(entry)) }
func (h *tsHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}

func newReplayCache(max int) replayCache {
	return replayCache{max: max, seen: make(map[[NonceSize]byte]struct{})}
}

// check records nonce/ts or reports ErrReplay. Entries older than oldest
// (now − window) are dropped first: the window check rejects them anyway.
func (c *replayCache) check(nonce [NonceSize]byte, ts, oldest int64) error {
	for len(c.byTime) > 0 && c.byTime[0].ts < oldest {
		e := heap.Pop(&c.byTime).(entry)
		delete(c.seen, e.nonce)
	}
	if c.evicted && ts <= c.floor {
		return ErrReplay
	}
	if _, dup := c.seen[nonce]; dup {
		return ErrReplay
	}
	for len(c.byTime) >= c.max {
		e := heap.Pop(&c.byTime).(entry)
		delete(c.seen, e.nonce)
		if !c.evicted || e.ts > c.floor {
			c.floor, c.evicted = e.ts, true
		}
	}
	c.seen[nonce] = struct{}{}
	heap.Push(&c.byTime, entry{nonce, ts})
	return nil
}
