package host

import (
	"bytes"
	"context"
	"net/http"
	"regexp"

	"github.com/rs/zerolog"

	"github.com/gomcat/gomcat/runtime/session"
)

// ReplicationValve replicates a request's session changes when the request
// ends (Tomcat's ReplicationValve; Contract C). It sits inside
// session.Middleware, which calls Manager.RequestCompleted once per request
// (session.Complete makes the valve's call the one that counts).
//
//   - Requests whose full path matches Filter are not replicated (the
//     context's manager is wrapped so that RequestCompleted is skipped).
//   - Async (Sync false): the response streams to the client; the
//     middleware calls RequestCompleted when the handler returns.
//   - Sync: the response (status, headers, body) is held in a buffer of at
//     most BufferBytes; when the handler returns the valve calls
//     session.Complete (RequestCompleted: for a replicated manager it blocks
//     until the members acknowledged) and only then releases the response.
//     If the handler flushes or outgrows the buffer, what changed so far is
//     replicated first and the response streams from then on; changes made
//     after that go out with the session's next request.
//
// With a LocalManager RequestCompleted does nothing, so the valve costs one
// buffer copy in sync mode and nothing in async mode.
//
// FailClosed (sync only; the host sets it for a session.Loader manager):
// when RequestCompleted fails while the response is still held, the held
// response is dropped and the client gets 503 Service Unavailable.
type ReplicationValve struct {
	Filter      *regexp.Regexp // nil = replicate every request
	Sync        bool
	FailClosed  bool
	BufferBytes int // sync buffer bound; <= 0 = 1 MiB
	Logger      zerolog.Logger
	Next        http.Handler
}

func (v *ReplicationValve) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !v.Sync || filtered(r.Context()) {
		v.Next.ServeHTTP(w, r)
		return
	}
	limit := v.BufferBytes
	if limit <= 0 {
		limit = 1 << 20
	}
	sw := &syncWriter{w: w, limit: limit, complete: func() bool {
		if err := session.Complete(r); err != nil {
			v.Logger.Warn().Err(err).Msg("session replication failed")
			return !v.FailClosed
		}
		return true
	}}
	defer sw.finish()
	v.Next.ServeHTTP(sw, r)
}

type filterKey struct{}

// markFiltered flags requests whose path matches re before they enter the
// session middleware; filterManager then skips their RequestCompleted.
func markFiltered(re *regexp.Regexp, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if re.MatchString(r.URL.Path) {
			r = r.WithContext(context.WithValue(r.Context(), filterKey{}, true))
		}
		next.ServeHTTP(w, r)
	})
}

func filtered(ctx context.Context) bool {
	b, _ := ctx.Value(filterKey{}).(bool)
	return b
}

// filterManager is the context's manager as the middleware sees it: a
// request flagged by markFiltered completes without replication.
type filterManager struct{ session.Manager }

func (m filterManager) RequestCompleted(ctx context.Context, s *session.Session) error {
	if filtered(ctx) {
		return nil
	}
	return m.Manager.RequestCompleted(ctx, s)
}

// syncWriter holds the response until release.
type syncWriter struct {
	w        http.ResponseWriter
	limit    int
	complete func() bool // false: answer 503 instead of the held response

	buf      bytes.Buffer
	status   int
	released bool
	discard  bool // the response became a 503: drop what the handler writes
}

func (s *syncWriter) Header() http.Header { return s.w.Header() }

func (s *syncWriter) WriteHeader(code int) {
	switch {
	case s.discard:
	case s.released:
		s.w.WriteHeader(code)
	case code >= 100 && code < 200 && code != http.StatusSwitchingProtocols:
		s.w.WriteHeader(code) // informational: not the response yet
	case s.status == 0:
		s.status = code
	}
}

func (s *syncWriter) Write(p []byte) (int, error) {
	if s.discard {
		return len(p), nil
	}
	if s.released {
		return s.w.Write(p)
	}
	if s.status == 0 {
		s.status = http.StatusOK
	}
	if s.buf.Len()+len(p) > s.limit {
		s.release()
		return s.w.Write(p)
	}
	return s.buf.Write(p)
}

// Flush replicates what changed so far, releases the buffer and flushes.
func (s *syncWriter) Flush() {
	if !s.released {
		s.release()
	}
	_ = http.NewResponseController(s.w).Flush()
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (s *syncWriter) Unwrap() http.ResponseWriter { return s.w }

func (s *syncWriter) release() {
	s.released = true
	if !s.complete() {
		s.buf = bytes.Buffer{}
		h := s.w.Header()
		for k := range h {
			delete(h, k)
		}
		http.Error(s.w, "503 session store unavailable", http.StatusServiceUnavailable)
		s.status = 0
		s.discard = true
		return
	}
	if s.status != 0 {
		s.w.WriteHeader(s.status)
	}
	if s.buf.Len() > 0 {
		_, _ = s.w.Write(s.buf.Bytes())
	}
	s.buf = bytes.Buffer{}
}

// finish runs when the handler returned (or panicked).
func (s *syncWriter) finish() {
	if !s.released {
		s.release()
	}
}

// JvmRouteBinderValve moves a failed-over session to this node (Tomcat's
// JvmRouteBinderValve; Contract C). It sits inside session.Middleware. When
// the requested id ("ABC.node1") carries another node's route:
//
//   - if the session exists under that id (replicated here), it is renamed
//     to "ABC.<local route>" with Manager.ChangeID, which a replicated
//     manager broadcasts;
//   - else if it exists under the new id (a concurrent request renamed it
//     already), it becomes the request's session (session.Rebind).
//
// Either way the middleware sends the client a cookie with the new id. A
// rename whose replication failed (ChangeID renamed the session, then
// returned the members' errors, as deltamgr does in sync mode) still
// serves the request under the new id; only a warning is logged. A node
// without a jvmRoute does nothing.
type JvmRouteBinderValve struct {
	Manager session.Manager
	Logger  zerolog.Logger
	Next    http.Handler
}

func (v *JvmRouteBinderValve) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	v.rebind(r)
	v.Next.ServeHTTP(w, r)
}

func (v *JvmRouteBinderValve) rebind(r *http.Request) {
	local := v.Manager.Route()
	id := session.RequestedID(r)
	if local == "" || id == "" {
		return
	}
	base, route := session.SplitID(id)
	if route == "" || route == local {
		return
	}
	newID := base + "." + local
	if s := session.Current(r); s != nil && s.Valid() && s.ID() == id {
		if err := v.Manager.ChangeID(s, newID); err != nil {
			if s.ID() == newID {
				// Renamed here (the client gets the new cookie); only
				// telling some member failed: the request goes on.
				v.Logger.Warn().Err(err).Str("session_id", session.LogID(newID)).Str("from_route", route).
					Msg("session rebound to this node, but replicating its new id to some members failed")
				return
			}
			v.Logger.Warn().Err(err).Str("session_id", session.LogID(id)).Msg("cannot rebind session to this node")
			return
		}
		v.Logger.Debug().Str("session_id", session.LogID(newID)).Str("from_route", route).Msg("session rebound to this node")
		return
	}
	if s := v.Manager.Find(newID); s != nil {
		if err := session.Rebind(r, s); err != nil {
			v.Logger.Warn().Err(err).Msg("cannot rebind request to renamed session")
		}
	}
}
