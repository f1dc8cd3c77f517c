package exampleapp

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strconv"
)

// MaxEcho caps what /echo reads and /bytes writes (bytes).
const MaxEcho = 64 << 20

// echo answers a request body's length and SHA-256 ("<n> <hex>"): front
// ends and connectors are tested with it (POST, chunked uploads).
func (a *app) echo(w http.ResponseWriter, r *http.Request) {
	h := sha256.New()
	n, err := io.Copy(h, http.MaxBytesReader(w, r.Body, MaxEcho))
	if err != nil {
		text(w, http.StatusBadRequest, "read body: "+err.Error())
		return
	}
	text(w, http.StatusOK, fmt.Sprintf("%d %s", n, hex.EncodeToString(h.Sum(nil))))
}

// bytes writes n bytes (?n=, at most MaxEcho) of the repeating pattern
// "0123456789abcdef": a large response whose content is checkable.
func (a *app) bytes(w http.ResponseWriter, r *http.Request) {
	n, err := strconv.Atoi(r.URL.Query().Get("n"))
	if err != nil || n < 0 || n > MaxEcho {
		text(w, http.StatusBadRequest, fmt.Sprintf("usage: /bytes?n=0..%d", MaxEcho))
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Cache-Control", "no-store")
	pattern := []byte("0123456789abcdef")
	buf := make([]byte, 0, 32<<10)
	for len(buf)+len(pattern) <= cap(buf) {
		buf = append(buf, pattern...)
	}
	for n > 0 {
		k := min(n, len(buf))
		if _, err := w.Write(buf[:k]); err != nil {
			return
		}
		n -= k
	}
}
