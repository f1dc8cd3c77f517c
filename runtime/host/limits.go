package host

import (
	"errors"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gomcat/gomcat/internal/bodylimit"
	"github.com/rs/zerolog"
	"golang.org/x/net/netutil"
)

// Connector resource limits (Tomcat's names): maxConnections,
// maxHeaderCount, connectionUploadTimeout and a minimum upload rate.
const (
	DefaultMaxConnections = 8192     // Tomcat NIO's maxConnections
	DefaultMaxHeaderCount = 100      // Tomcat's maxHeaderCount
	DefaultMinUploadRate  = 240      // bytes/s, Kestrel's MinRequestBodyDataRate
	DefaultBodyBuffer     = 64 << 10 // bodies up to this Content-Length are read before a thread slot is taken
)

// ConnectorStats are a connector's refusals, for metrics.
type ConnectorStats struct {
	SlowBodies   uint64 // request bodies too slow: 408
	TooManyHeads uint64 // requests with more than MaxHeaderCount headers: 400
}

type limits struct {
	maxHeaders int
	body       bodylimit.Config
	log        zerolog.Logger

	slow, heads atomic.Uint64
	mu          sync.Mutex
	lastLog     time.Time // one warning per burst
	held        uint64
}

func newLimits(cfg ConnectorConfig, log zerolog.Logger) *limits {
	l := &limits{maxHeaders: cfg.MaxHeaderCount, log: log, body: bodylimit.Config{
		ReadTimeout: cfg.UploadTimeout, MinRate: cfg.MinUploadRate, MinRateGrace: 5 * time.Second, Buffer: cfg.BodyBuffer,
	}}
	if l.maxHeaders == 0 {
		l.maxHeaders = DefaultMaxHeaderCount
	}
	if l.body.ReadTimeout == 0 {
		l.body.ReadTimeout = cfg.ConnectionTimeout
	}
	if l.body.MinRate == 0 {
		l.body.MinRate = DefaultMinUploadRate
	}
	if l.body.Buffer == 0 {
		l.body.Buffer = DefaultBodyBuffer
	}
	l.body.ReadTimeout = max(l.body.ReadTimeout, 0)
	l.body.MinRate = max(l.body.MinRate, 0)
	l.body.Buffer = max(l.body.Buffer, 0)
	return l
}

// limitListener caps open connections (Tomcat maxConnections: more wait in
// the accept backlog). n < 0: no cap.
func limitListener(ln net.Listener, n int) net.Listener {
	if n == 0 {
		n = DefaultMaxConnections
	}
	if n < 0 {
		return ln
	}
	return netutil.LimitListener(ln, n)
}

// wrap checks the header count and reads small bodies in full before next
// (the MaxThreads limit) runs, so that slow clients hold no thread slot.
func (l *limits) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if l.maxHeaders > 0 && len(r.Header) > l.maxHeaders {
			l.heads.Add(1)
			l.warn("request refused: more than " + strconv.Itoa(l.maxHeaders) + " headers (maxHeaderCount)")
			w.Header().Set("Connection", "close")
			http.Error(w, "Bad Request: too many headers", http.StatusBadRequest)
			return
		}
		if err := bodylimit.Wrap(w, r, l.body); err != nil {
			code := http.StatusBadRequest
			if errors.Is(err, bodylimit.ErrTooSlow) {
				code = http.StatusRequestTimeout
				l.slow.Add(1)
				l.warn("request body too slow: answered 408 (connectionUploadTimeout, minUploadRate)")
			}
			w.Header().Set("Connection", "close")
			http.Error(w, http.StatusText(code), code)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (l *limits) warn(msg string) {
	l.mu.Lock()
	now := time.Now()
	if !l.lastLog.IsZero() && now.Sub(l.lastLog) < 10*time.Second {
		l.held++
		l.mu.Unlock()
		return
	}
	held := l.held
	l.lastLog, l.held = now, 0
	l.mu.Unlock()
	l.log.Warn().Uint64("slow_bodies_total", l.slow.Load()).Uint64("too_many_headers_total", l.heads.Load()).
		Uint64("not_logged", held).Msg(msg)
}
