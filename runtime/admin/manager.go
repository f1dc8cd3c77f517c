package admin

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gomcat/gomcat/runtime/session"
)

// SessionInfo is one session as the manager lists it. Attribute values
// are never shown, only their encoded size.
type SessionInfo struct {
	ID      string        `json:"id"`
	Created time.Time     `json:"created"`
	Age     time.Duration `json:"age"`
	Idle    time.Duration `json:"idle"`
	Size    int           `json:"size"` // bytes of encoded attributes
	Role    string        `json:"role"` // "primary" (last used here) or "backup" (a replica)
}

// ContextInfo is one context in /manager/*/list.
type ContextInfo struct {
	Host          string `json:"host"`
	Path          string `json:"path"`
	Name          string `json:"name"` // Tomcat's base name: ROOT, shop, a#b
	Distributable bool   `json:"distributable"`
	Sessions      int    `json:"sessions"`
}

// The session views a manager may offer beyond session.Manager.
type (
	sessionLister interface{ Sessions() []*session.Session }
	primaryTeller interface {
		IsPrimary(*session.Session) bool
	}
)

func (s *Server) managerRoutes(mux *http.ServeMux) {
	for _, format := range []string{"text", "json"} {
		mux.HandleFunc("GET /manager/"+format+"/list", s.manager(format, s.list))
		mux.HandleFunc("GET /manager/"+format+"/sessions", s.manager(format, s.sessions))
		expire := s.manager(format, s.expire)
		mux.HandleFunc("GET /manager/"+format+"/expire", expire) // Tomcat's text API is GET
		mux.HandleFunc("POST /manager/"+format+"/expire", expire)
	}
}

// A managerFunc answers a manager request: the text lines after "OK - …"
// (the first line) and the JSON value.
type managerFunc func(r *http.Request) (head string, lines []string, v any, err error)

func (s *Server) manager(format string, f managerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		head, lines, v, err := f(r)
		code := http.StatusOK
		switch {
		case errors.Is(err, ErrNoContext), errors.Is(err, ErrNoSession):
			code = http.StatusNotFound
		case err != nil:
			code = http.StatusBadRequest
		}
		if format == "json" {
			if err != nil {
				writeJSON(w, code, map[string]string{"error": err.Error()})
				return
			}
			writeJSON(w, code, v)
			return
		}
		// Tomcat's text manager answers 200 with "FAIL - …" too; the
		// status code says it as well here, for scripts.
		if err != nil {
			text(w, code, "FAIL - "+err.Error()+"\n")
			return
		}
		var b strings.Builder
		b.WriteString("OK - " + head + "\n")
		for _, l := range lines {
			b.WriteString(l + "\n")
		}
		text(w, code, b.String())
	}
}

func (s *Server) list(*http.Request) (string, []string, any, error) {
	var infos []ContextInfo
	var lines []string
	for _, c := range s.cfg.Source.Contexts() {
		ci := ContextInfo{Host: c.Host, Path: c.Path, Name: contextName(c.Path), Distributable: c.Distributable}
		state := "stopped"
		if c.Manager != nil {
			ci.Sessions, state = c.Manager.Count(), "running"
		}
		infos = append(infos, ci)
		// Tomcat: path:state:sessions:name; the host is appended.
		lines = append(lines, fmt.Sprintf("%s:%s:%d:%s:%s", ci.Path, state, ci.Sessions, ci.Name, ci.Host))
	}
	return "Listed applications", lines, infos, nil
}

// find returns the context at ?path= (on ?host=, default: the first
// host that serves that path).
func (s *Server) find(r *http.Request) (Context, error) {
	q := r.URL.Query()
	path, host := q.Get("path"), q.Get("host")
	if path == "" {
		return Context{}, errors.New("the path parameter is required (path=/ for ROOT)")
	}
	for _, c := range s.cfg.Source.Contexts() {
		if c.Path == path && (host == "" || strings.EqualFold(host, c.Host)) {
			if c.Manager == nil {
				return c, fmt.Errorf("%w: context path [%s] is not running", ErrNoContext, path)
			}
			return c, nil
		}
	}
	return Context{}, fmt.Errorf("%w: no context exists at path [%s]", ErrNoContext, path)
}

// Sessions lists the sessions of c, oldest first.
func (s *Server) Sessions(c Context) []SessionInfo {
	l, ok := c.Manager.(sessionLister)
	if !ok {
		return nil
	}
	pt, _ := c.Manager.(primaryTeller)
	now := s.cfg.Now()
	var out []SessionInfo
	for _, ss := range l.Sessions() {
		if !ss.Valid() {
			continue
		}
		si := SessionInfo{ID: ss.ID(), Created: ss.CreatedAt(), Age: now.Sub(ss.CreatedAt()).Round(time.Second),
			Idle: ss.Idle(now).Round(time.Second), Size: ss.Size(), Role: "primary"}
		if pt != nil && !pt.IsPrimary(ss) {
			si.Role = "backup"
		}
		out = append(out, si)
	}
	slices.SortFunc(out, func(a, b SessionInfo) int {
		if c := a.Created.Compare(b.Created); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out
}

func (s *Server) sessions(r *http.Request) (string, []string, any, error) {
	c, err := s.find(r)
	if err != nil {
		return "", nil, nil, err
	}
	infos := s.Sessions(c)
	lines := []string{"ID\tAGE\tIDLE\tSIZE\tROLE"}
	for _, si := range infos {
		lines = append(lines, fmt.Sprintf("%s\t%s\t%s\t%d\t%s", si.ID, si.Age, si.Idle, si.Size, si.Role))
	}
	head := fmt.Sprintf("Session information for application at context path [%s]: %d sessions", c.Path, len(infos))
	if infos == nil {
		infos = []SessionInfo{}
	}
	return head, lines, infos, nil
}

func (s *Server) expire(r *http.Request) (string, []string, any, error) {
	c, err := s.find(r)
	if err != nil {
		return "", nil, nil, err
	}
	id := r.URL.Query().Get("id")
	if id == "" {
		return "", nil, nil, errors.New("the id parameter is required")
	}
	l, ok := c.Manager.(sessionLister)
	if !ok {
		return "", nil, nil, fmt.Errorf("the manager of [%s] cannot list its sessions", c.Path)
	}
	for _, ss := range l.Sessions() {
		if ss.ID() == id && ss.Valid() {
			c.Manager.Expire(ss) // replicated by a DeltaManager
			s.log.Info().Str("context", c.Path).Str("session_id", session.LogID(id)).Msg("session expired by the manager")
			return fmt.Sprintf("Expired session [%s] of context path [%s]", id, c.Path), nil,
				map[string]any{"expired": id, "path": c.Path}, nil
		}
	}
	return "", nil, nil, fmt.Errorf("%w: [%s] in context path [%s]", ErrNoSession, id, c.Path)
}

func contextName(path string) string {
	if path == "/" || path == "" {
		return "ROOT"
	}
	return strings.ReplaceAll(strings.TrimPrefix(path, "/"), "/", "#")
}
