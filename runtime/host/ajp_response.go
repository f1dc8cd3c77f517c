package host

import (
	"net/http"
	"strconv"

	"github.com/gomcat/gomcat/ajp"
)

// ajpResponse is the http.ResponseWriter of an AJP request: headers go as
// one send-headers packet when the first body chunk leaves (or at the
// end), the body in send-body-chunk packets of at most packetSize-8 bytes.
// A body that fits in one chunk gets a Content-Length, like net/http.
type ajpResponse struct {
	ac        *ajpConn
	head      bool // HEAD: no body is sent
	header    http.Header
	status    int
	wrote     bool // WriteHeader called (status decided)
	committed bool // send-headers written
	noBody    bool // 1xx/204/304 or HEAD
	chunk     []byte
	max       int
	broken    bool // a write failed
	finished  bool
}

func newAJPResponse(ac *ajpConn, head bool) *ajpResponse {
	max := ac.c.cfg.PacketSize - ajp.SendBodyChunkOverhead
	if ac.chunk == nil {
		ac.chunk = make([]byte, 0, max) // one per connection, reused by each request
	}
	return &ajpResponse{ac: ac, head: head, header: http.Header{}, max: max, chunk: ac.chunk[:0]}
}

func (w *ajpResponse) Header() http.Header { return w.header }

func (w *ajpResponse) WriteHeader(code int) {
	if w.wrote || w.committed {
		return
	}
	if code < 100 || code > 999 {
		panic("invalid WriteHeader code " + strconv.Itoa(code))
	}
	if code < 200 { // 1xx: AJP has no interim responses
		return
	}
	w.wrote, w.status = true, code
	w.noBody = w.head || code == http.StatusNoContent || code == http.StatusNotModified
}

func (w *ajpResponse) Write(p []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	if w.broken {
		return 0, errWrite
	}
	if w.noBody {
		return len(p), nil
	}
	if w.finished {
		return 0, http.ErrBodyNotAllowed
	}
	n := len(p)
	for len(p) > 0 {
		room := w.max - len(w.chunk)
		if len(w.chunk) == 0 && len(p) >= w.max && w.committed {
			if !w.sendChunk(p[:w.max]) { // large writes skip the copy
				return n - len(p), errWrite
			}
			p = p[w.max:]
			continue
		}
		k := min(room, len(p))
		w.chunk = append(w.chunk, p[:k]...)
		p = p[k:]
		if len(w.chunk) == w.max {
			if !w.flushChunk() {
				return n - len(p), errWrite
			}
		}
	}
	return n, nil
}

var errWrite = &ajpWriteError{}

type ajpWriteError struct{}

func (*ajpWriteError) Error() string { return "ajp: write to the web server failed" }

// Flush sends the headers and the buffered body now (http.Flusher), then
// mod_jk's explicit flush (an empty chunk), as Tomcat's ajpFlush does.
func (w *ajpResponse) Flush() {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	if !w.flushChunk() {
		return
	}
	w.ac.wmu.Lock()
	defer w.ac.wmu.Unlock()
	if !w.noBody {
		w.writeChunkLocked(nil)
	}
	if w.ac.bw.Flush() != nil {
		w.broken = true
	}
}

// flushChunk commits the headers and sends the buffered body.
func (w *ajpResponse) flushChunk() bool {
	if !w.commit(false) {
		return false
	}
	if len(w.chunk) == 0 {
		return true
	}
	ok := w.sendChunk(w.chunk)
	w.chunk = w.chunk[:0]
	return ok
}

func (w *ajpResponse) sendChunk(data []byte) bool {
	w.ac.wmu.Lock()
	defer w.ac.wmu.Unlock()
	return w.writeChunkLocked(data)
}

func (w *ajpResponse) writeChunkLocked(data []byte) bool {
	if w.broken {
		return false
	}
	bw := w.ac.bw
	n := len(data)
	hdr := ajp.AppendFrame(make([]byte, 0, 8), ajp.ToServer, n+4)
	hdr = append(hdr, byte(ajp.KindSendBodyChunk), byte(n>>8), byte(n))
	bw.Write(hdr)
	bw.Write(data)
	if err := bw.WriteByte(0); err != nil {
		w.broken = true
		return false
	}
	return true
}

// commit writes send-headers once. final: the handler is done and the
// whole body is in w.chunk, so a Content-Length can be set.
func (w *ajpResponse) commit(final bool) bool {
	if w.committed {
		return !w.broken
	}
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	w.committed = true
	h := w.header
	if !w.noBody && len(w.chunk) > 0 && h.Get("Content-Type") == "" && h.Get("Transfer-Encoding") == "" {
		if _, set := h["Content-Type"]; !set {
			h.Set("Content-Type", http.DetectContentType(w.chunk))
		}
	}
	if final && h.Get("Content-Length") == "" && h.Get("Transfer-Encoding") == "" && !w.head &&
		w.status != http.StatusNoContent && w.status != http.StatusNotModified {
		h.Set("Content-Length", strconv.Itoa(len(w.chunk)))
	}
	sh := ajp.SendHeaders{Status: w.status, Reason: http.StatusText(w.status)}
	for k, vs := range h {
		if k == "Transfer-Encoding" || k == "Connection" || k == "Keep-Alive" || k == "Trailer" {
			continue // hop-by-hop: httpd frames the response to its client itself
		}
		for _, v := range vs {
			sh.Headers = append(sh.Headers, ajp.Header{Name: k, Value: v})
		}
	}
	payload := sh.Append(nil)
	if len(payload)+ajp.HeaderLen > w.ac.c.cfg.PacketSize {
		w.ac.c.log.Error().Int("bytes", len(payload)).Int("packet_size", w.ac.c.cfg.PacketSize).
			Msg("response headers do not fit in one AJP packet; sending 500 (raise packetSize on both sides)")
		payload = (&ajp.SendHeaders{Status: http.StatusInternalServerError, Reason: "Internal Server Error"}).Append(nil)
		w.noBody, w.chunk = true, w.chunk[:0]
		w.broken = true
	}
	w.ac.wmu.Lock()
	defer w.ac.wmu.Unlock()
	w.ac.bw.Write(ajp.AppendFrame(make([]byte, 0, 4), ajp.ToServer, len(payload)))
	if _, err := w.ac.bw.Write(payload); err != nil {
		w.broken = true
	}
	return !w.broken
}

// reset drops what a panicking handler left uncommitted.
func (w *ajpResponse) reset() {
	w.header = http.Header{}
	w.wrote, w.chunk = false, w.chunk[:0]
}

// finish commits and sends what is buffered; the caller sends
// end-response.
func (w *ajpResponse) finish() {
	if w.finished {
		return
	}
	if !w.committed {
		w.commit(true)
	}
	if len(w.chunk) > 0 && !w.noBody {
		w.sendChunk(w.chunk)
		w.chunk = w.chunk[:0]
	}
	w.finished = true
}

// endResponse sends end-response and flushes.
func (ac *ajpConn) endResponse(reuse bool) bool {
	ac.wmu.Lock()
	defer ac.wmu.Unlock()
	ac.bw.Write(ajp.AppendFrame(make([]byte, 0, 4), ajp.ToServer, 2))
	ac.bw.Write(ajp.AppendEndResponse(nil, reuse))
	return ac.bw.Flush() == nil
}
