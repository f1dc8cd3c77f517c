package balancer

import (
	"net/http"
	"time"
)

// logWriter records status and size for the access log. Unwrap lets
// http.ResponseController reach Flush and Hijack (streaming, WebSocket).
type logWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (l *logWriter) WriteHeader(code int) {
	if l.status == 0 || l.status < 200 {
		l.status = code
	}
	l.ResponseWriter.WriteHeader(code)
}

func (l *logWriter) Write(p []byte) (int, error) {
	if l.status == 0 {
		l.status = http.StatusOK
	}
	n, err := l.ResponseWriter.Write(p)
	l.bytes += int64(n)
	return n, err
}

func (l *logWriter) Unwrap() http.ResponseWriter { return l.ResponseWriter }

func (b *Balancer) accessLog(r *http.Request, l *logWriter, info *reqInfo, d time.Duration) {
	b.log.Info().
		Str("method", r.Method).
		Str("path", r.URL.Path).
		Str("remote", r.RemoteAddr).
		Int("status", l.status).
		Int64("bytes", l.bytes).
		Str("node", info.node).
		Int("tries", info.tries).
		Dur("duration", d).
		Msg("request")
}
