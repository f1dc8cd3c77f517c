package balancer

import (
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/gomcat/gomcat/internal/bodylimit"
)

// burst lets one warning through per burstEvery and counts the ones it held
// back, so that an attack shows in the log once per burst, not per request.
type burst struct {
	mu     sync.Mutex
	last   time.Time
	held   uint64
	primed bool
}

const burstEvery = 10 * time.Second

// note reports whether to log now, and how many were held back before.
func (b *burst) note(now time.Time) (bool, uint64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.primed && now.Sub(b.last) < burstEvery {
		b.held++
		return false, 0
	}
	held := b.held
	b.primed, b.last, b.held = true, now, 0
	return true, held
}

func (b *Balancer) busyLog(n *node) {
	if ok, held := b.busyNote.note(time.Now()); ok {
		b.log.Warn().Str("node", n.name).Int("max_conns_per_node", b.cfg.MaxConnsPerNode).
			Dur("queue_timeout", b.cfg.QueueTimeout).Uint64("busy_total", n.busy.Load()).Uint64("not_logged", held).
			Msg("node busy: no connection slot in time, answered 503")
	}
}

func (b *Balancer) desyncLog(n *node, err error) {
	if ok, held := b.desyncNote.note(time.Now()); ok {
		b.log.Warn().Str("node", n.name).Err(err).Uint64("desyncs_total", n.desyncs.Load()).Uint64("not_logged", held).
			Msg("node connection closed: bytes outside a response")
	}
}

// slowBody answers a client whose body broke Config.Body's limits (408) or
// failed to arrive (400), and closes its connection.
func (b *Balancer) slowBody(w http.ResponseWriter, r *http.Request, err error) {
	code := http.StatusBadRequest
	if errors.Is(err, bodylimit.ErrTooSlow) {
		code = http.StatusRequestTimeout
		total := b.slowBodies.Add(1)
		if ok, held := b.slowNote.note(time.Now()); ok {
			b.log.Warn().Str("client", r.RemoteAddr).Err(err).Uint64("slow_bodies_total", total).Uint64("not_logged", held).
				Msg("client body too slow: answered 408")
		}
	}
	w.Header().Set("Connection", "close")
	http.Error(w, http.StatusText(code), code)
}

// SlowBodies is the number of client request bodies refused for being too slow.
func (b *Balancer) SlowBodies() uint64 { return b.slowBodies.Load() }

// MovesHeld is the number of unverified claims that a live node moved to
// another URL, held while the node still answered.
func (b *Balancer) MovesHeld() uint64 { return b.movesHeld.Load() }
