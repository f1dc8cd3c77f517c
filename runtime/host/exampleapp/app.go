package exampleapp

import (
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"time"

	"github.com/gomcat/gomcat/runtime/host"
	"github.com/gomcat/gomcat/runtime/session"
)

// Name is the name the app is registered under.
const Name = "example"

// MaxSlow caps /slow.
const MaxSlow = 60 * time.Second

func init() { host.Register(Name, New) }

// Cart is what /cart/add stores: a struct, to show typed values surviving
// the CBOR round trip (and, later, replication).
type Cart struct {
	Items   []string  `json:"items" cbor:"items"`
	Updated time.Time `json:"updated" cbor:"updated"`
}

type app struct {
	ctx host.AppContext
	now func() time.Time
}

// New builds the example app's handler for one context.
func New(actx host.AppContext) (http.Handler, error) {
	a := &app{ctx: actx, now: time.Now}
	mux := http.NewServeMux()
	mux.HandleFunc("/{$}", a.index)
	mux.HandleFunc("/set", a.set)
	mux.HandleFunc("/get", a.get)
	mux.HandleFunc("/count", a.count)
	mux.HandleFunc("/invalidate", a.invalidate)
	mux.HandleFunc("/renew", a.renew)
	mux.HandleFunc("/slow", a.slow)
	mux.HandleFunc("/cart/add", a.cartAdd)
	mux.HandleFunc("/cart", a.cart)
	mux.HandleFunc("/node", a.node)
	mux.HandleFunc("/echo", a.echo)   // echo.go
	mux.HandleFunc("/bytes", a.bytes) // echo.go
	return mux, nil
}

func text(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	fmt.Fprintln(w, msg)
}

// ensure returns the request's session, creating it; on failure it has
// answered (503 when the manager is full).
func (a *app) ensure(w http.ResponseWriter, r *http.Request) *session.Session {
	s, err := session.Ensure(r)
	if err != nil {
		if errors.Is(err, session.ErrTooManySessions) {
			text(w, http.StatusServiceUnavailable, "too many active sessions")
		} else {
			text(w, http.StatusInternalServerError, "session: "+err.Error())
		}
		return nil
	}
	return s
}

func (a *app) set(w http.ResponseWriter, r *http.Request) {
	k := r.URL.Query().Get("k")
	if k == "" {
		text(w, http.StatusBadRequest, "usage: /set?k=KEY&v=VALUE")
		return
	}
	s := a.ensure(w, r)
	if s == nil {
		return
	}
	if err := s.Set(k, r.URL.Query().Get("v")); err != nil {
		text(w, http.StatusBadRequest, err.Error())
		return
	}
	text(w, http.StatusOK, "ok "+s.ID())
}

func (a *app) get(w http.ResponseWriter, r *http.Request) {
	k := r.URL.Query().Get("k")
	s := session.From(r)
	if s == nil {
		text(w, http.StatusNotFound, "missing")
		return
	}
	v, ok := s.Get(k)
	if !ok {
		text(w, http.StatusNotFound, "missing")
		return
	}
	text(w, http.StatusOK, fmt.Sprint(v))
}

func (a *app) count(w http.ResponseWriter, r *http.Request) {
	text(w, http.StatusOK, strconv.Itoa(a.ctx.ActiveSessions()))
}

func (a *app) invalidate(w http.ResponseWriter, r *http.Request) {
	if s := session.From(r); s != nil {
		s.Invalidate()
	}
	text(w, http.StatusOK, "ok")
}

func (a *app) renew(w http.ResponseWriter, r *http.Request) {
	s := session.From(r)
	if s == nil {
		text(w, http.StatusNotFound, "no session")
		return
	}
	id, err := s.RenewID()
	if err != nil {
		text(w, http.StatusInternalServerError, err.Error())
		return
	}
	text(w, http.StatusOK, id)
}

func (a *app) slow(w http.ResponseWriter, r *http.Request) {
	ms, err := strconv.Atoi(r.URL.Query().Get("ms"))
	if err != nil || ms < 0 {
		text(w, http.StatusBadRequest, "usage: /slow?ms=MILLISECONDS")
		return
	}
	d := min(time.Duration(ms)*time.Millisecond, MaxSlow)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-r.Context().Done():
		return
	}
	text(w, http.StatusOK, fmt.Sprintf("slept %d ms", d.Milliseconds()))
}

func (a *app) loadCart(s *session.Session) (Cart, error) {
	if s == nil {
		return Cart{Items: []string{}}, nil
	}
	c, _, err := session.GetAs[Cart](s, "cart")
	if c.Items == nil {
		c.Items = []string{}
	}
	return c, err
}

func (a *app) cartAdd(w http.ResponseWriter, r *http.Request) {
	item := r.URL.Query().Get("item")
	if item == "" {
		text(w, http.StatusBadRequest, "usage: /cart/add?item=NAME")
		return
	}
	s := a.ensure(w, r)
	if s == nil {
		return
	}
	c, err := a.loadCart(s)
	if err != nil {
		text(w, http.StatusInternalServerError, "cart: "+err.Error())
		return
	}
	c.Items = append(c.Items, item)
	c.Updated = a.now().UTC().Truncate(time.Millisecond)
	if err := s.Set("cart", c); err != nil {
		text(w, http.StatusBadRequest, err.Error())
		return
	}
	writeJSON(w, c)
}

func (a *app) cart(w http.ResponseWriter, r *http.Request) {
	c, err := a.loadCart(session.From(r))
	if err != nil {
		text(w, http.StatusInternalServerError, "cart: "+err.Error())
		return
	}
	writeJSON(w, c)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func (a *app) node(w http.ResponseWriter, r *http.Request) {
	text(w, http.StatusOK, a.ctx.JvmRoute)
}

var page = template.Must(template.New("index").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>Gomcat example on {{.Node}}</title>
<style>body{font-family:sans-serif;margin:2em}td,th{padding:2px 8px;text-align:left}code{background:#eee}</style>
</head><body>
<h1>Gomcat example</h1>
<p>Node (jvmRoute): <b>{{.Node}}</b> · context <code>{{.Path}}</code> · sessions on this node: {{.Count}}</p>
{{if .ID}}<p>Session: <code>{{.ID}}</code>{{if .New}} (new){{end}}</p>
<table><tr><th>attribute</th><th>value</th></tr>
{{range .Attrs}}<tr><td>{{.K}}</td><td>{{.V}}</td></tr>
{{else}}<tr><td colspan="2"><i>none</i></td></tr>{{end}}</table>
{{else}}<p>No session yet.</p>{{end}}
<p>Try: <a href="{{.Link "/set?k=color&v=blue"}}">set color=blue</a> ·
<a href="{{.Link "/get?k=color"}}">get color</a> ·
<a href="{{.Link "/cart/add?item=apple"}}">add an apple to the cart</a> ·
<a href="{{.Link "/cart"}}">cart</a> ·
<a href="{{.Link "/renew"}}">renew id</a> ·
<a href="{{.Link "/invalidate"}}">invalidate</a></p>
</body></html>
`))

type attr struct{ K, V string }

type pageData struct {
	Node, Path, ID string
	New            bool
	Count          int
	Attrs          []attr
	ctx            host.AppContext
}

func (p pageData) Link(s string) string { return p.ctx.Link(s) }

func (a *app) index(w http.ResponseWriter, r *http.Request) {
	d := pageData{Node: a.ctx.JvmRoute, Path: a.ctx.Path, Count: a.ctx.ActiveSessions(), ctx: a.ctx}
	if d.Node == "" {
		d.Node = "(no jvmRoute)"
	}
	if s := session.From(r); s != nil {
		d.ID, d.New = s.ID(), s.IsNew()
		for _, k := range s.Keys() {
			v, _ := s.Get(k)
			d.Attrs = append(d.Attrs, attr{k, fmt.Sprint(v)})
		}
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_ = page.Execute(w, d)
}
