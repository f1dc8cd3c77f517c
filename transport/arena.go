package transport

import (
	"sync"
	"sync/atomic"
	"time"
)

const (
	chunkSize      = 512 << 10              // bytes per arena chunk
	maxChunkFrame  = chunkSize / 4          // larger frames get a buffer of their own
	arenaFree      = 16                     // spare chunks kept per busy peer besides the tail
	arenaIdle      = 2 * time.Second        // an idle peer's spare chunks are freed after this
	chunkTailRef   = 1                      // the reference the arena holds on its tail
	maxBatch       = 1024                   // items taken from the queue per write
	maxBatchBytes  = 1 << 20                // bytes taken from the queue per write
	maxScratch     = 4 << 20                // a larger sealing scratch buffer is dropped
	maxFreeItems   = 16384                  // recycled async items kept per peer
	itemSlab       = 64                     // async items allocated at once
	maxDirectAsync = 32 << 10               // largest async frame a Send writes itself
	linger         = 100 * time.Microsecond // async frames this soon after a write wait for the next batch
	lingerMax      = 64                     // queued items beyond which the writer does not linger
)

// arena hands out the buffers of a peer's queued frames from large
// shared chunks, so queued messages cost no allocation and consecutive
// frames sit next to each other in memory (the writer sends a run of
// them with one iovec). A chunk is reused once every frame in it was
// acknowledged by the peer (or dropped before being written); frames
// that failed keep their chunk from reuse, since a write of them may
// still be in progress, and the garbage collector takes it. A closed
// arena reuses nothing.
type arena struct {
	mu     sync.Mutex // guards the fields below; taken after peer.mu
	tail   *chunk     // chunk new frames are cut from
	free   []*chunk   // idle chunks, at most arenaFree
	closed bool
}

// chunk is a block of frame buffers. refs counts the frames cut from it
// that are not yet released, plus one while it is the arena's tail.
type chunk struct {
	data []byte
	off  int // next free byte (guarded by arena.mu)
	refs atomic.Int32
}

// reserve returns an empty slice with capacity n for a frame, the
// chunk it was cut from (nil for a frame too large for chunks) and its
// offset there. The
// caller fills it outside any lock and hands the chunk to release once
// the frame was acknowledged.
func (a *arena) reserve(n int) ([]byte, *chunk, int) {
	if n > maxChunkFrame {
		return make([]byte, 0, n), nil, 0
	}
	a.mu.Lock()
	t := a.tail
	if t != nil && t.refs.Load() == chunkTailRef && !a.closed {
		t.off = 0 // every frame in it is done: start over
	}
	if t == nil || t.off+n > len(t.data) {
		if t != nil && t.refs.Add(-chunkTailRef) == 0 {
			a.recycleLocked(t)
		}
		if k := len(a.free); k > 0 {
			t = a.free[k-1]
			a.free[k-1] = nil
			a.free = a.free[:k-1]
		} else {
			t = &chunk{data: make([]byte, chunkSize)}
		}
		t.off = 0
		t.refs.Store(chunkTailRef)
		a.tail = t
	}
	off := t.off
	t.off += n
	t.refs.Add(1)
	a.mu.Unlock()
	return t.data[off : off : off+n], t, off
}

// release drops a frame's reference to its chunk.
func (a *arena) release(c *chunk) { a.releaseN(c, 1) }

// releaseN drops k frames' references to chunk c.
func (a *arena) releaseN(c *chunk, k int32) {
	if c == nil || k == 0 || c.refs.Add(-k) != 0 {
		return
	}
	a.mu.Lock()
	a.recycleLocked(c)
	a.mu.Unlock()
}

func (a *arena) recycleLocked(c *chunk) {
	if !a.closed && len(a.free) < arenaFree {
		a.free = append(a.free, c)
	}
}

// spare returns the number of idle chunks held.
func (a *arena) spare() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.free)
}

// trim frees the idle chunks.
func (a *arena) trim() {
	a.mu.Lock()
	clear(a.free)
	a.free = a.free[:0]
	a.mu.Unlock()
}

// close stops reuse: writes of failed frames may still read chunks.
func (a *arena) close() {
	a.mu.Lock()
	a.closed = true
	a.free = nil
	a.mu.Unlock()
}
