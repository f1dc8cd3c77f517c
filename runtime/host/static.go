package host

import (
	"errors"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path"
	"strings"
)

// StaticHandler serves the files of one directory. It is what a Context with
// a docBase and no app runs, and apps may use it for their own assets.
//
// Safety: files are opened through an os.Root, so neither "..", absolute
// paths nor symbolic links can reach outside the directory; a path segment
// starting with "." (".git", ".env") and the WEB-INF and META-INF folders
// (any case) are 404, as in Tomcat; a directory is served only through its
// index.html (no listings). Only GET and HEAD are allowed.
type StaticHandler struct {
	root *os.Root
	fs   fs.FS
	next http.Handler
}

// Static opens dir for serving. Close releases it.
func Static(dir string) (*StaticHandler, error) {
	r, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	fsys := r.FS()
	return &StaticHandler{root: r, fs: fsys, next: http.FileServerFS(fsys)}, nil
}

// Close releases the directory.
func (h *StaticHandler) Close() error { return h.root.Close() }

// ServeHTTP serves r.URL.Path relative to the directory.
func (h *StaticHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "405 method not allowed", http.StatusMethodNotAllowed)
		return
	}
	name, ok := staticName(r.URL.Path)
	if !ok {
		http.NotFound(w, r)
		return
	}
	fi, err := fs.Stat(h.fs, name)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	if fi.IsDir() {
		if !strings.HasSuffix(r.URL.Path, "/") {
			// Let FileServer redirect "/dir" to "/dir/" (relative Location).
			h.next.ServeHTTP(w, r)
			return
		}
		idx, err := fs.Stat(h.fs, path.Join(name, "index.html"))
		if err != nil || !idx.Mode().IsRegular() {
			http.NotFound(w, r)
			return
		}
	} else if !fi.Mode().IsRegular() {
		http.NotFound(w, r)
		return
	}
	h.next.ServeHTTP(w, r)
}

// staticName maps a URL path to an fs.FS name, refusing hidden and private
// segments.
func staticName(p string) (string, bool) {
	if strings.ContainsRune(p, 0) || strings.Contains(p, "\\") {
		return "", false
	}
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == "" {
			continue
		}
		if strings.HasPrefix(seg, ".") || strings.EqualFold(seg, "WEB-INF") || strings.EqualFold(seg, "META-INF") {
			return "", false
		}
	}
	name := strings.TrimPrefix(path.Clean(p), "/")
	if name == "" {
		name = "."
	}
	return name, fs.ValidPath(name)
}

// withStatic serves the files of an app's docBase (a bundle's static
// files) and hands every other request to the app: a GET or HEAD for a
// regular file that exists there is served as is, as Tomcat's default
// servlet serves a web application's static content; directories and
// everything else go to the app.
type withStatic struct {
	static *StaticHandler
	app    http.Handler
}

func (h *withStatic) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if (r.Method == http.MethodGet || r.Method == http.MethodHead) && h.static.isFile(r.URL.Path) {
		h.static.ServeHTTP(w, r)
		return
	}
	h.app.ServeHTTP(w, r)
}

// Close releases the directory and closes the app if it can be closed.
func (h *withStatic) Close() error {
	err := h.static.Close()
	if c, ok := h.app.(io.Closer); ok {
		err = errors.Join(err, c.Close())
	}
	return err
}

// isFile reports whether urlPath names a regular file this handler would serve.
func (h *StaticHandler) isFile(urlPath string) bool {
	name, ok := staticName(urlPath)
	if !ok {
		return false
	}
	fi, err := fs.Stat(h.fs, name)
	return err == nil && fi.Mode().IsRegular()
}
