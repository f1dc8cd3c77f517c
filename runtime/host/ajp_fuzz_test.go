package host

import (
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/gomcat/gomcat/ajp"
)

// FuzzAJPConnection feeds arbitrary bytes to one AJP connection as the web
// server's side: whatever arrives (packets cut anywhere, bodies of any
// length, unknown kinds), the connection answers or closes, and never
// panics or hangs.
func FuzzAJPConnection(f *testing.F) {
	frame := func(p []byte) []byte { b, _ := ajp.Frame(ajp.ToContainer, p, ajp.DefaultPacketSize); return b }
	get := getReq("/x", "s3cret")
	post := getReq("/x", "s3cret")
	post.Method = "POST"
	post.Headers = append(post.Headers, ajp.Header{Name: "content-length", Value: "5"})
	chunked := getReq("/x", "s3cret")
	chunked.Method = "POST"
	chunked.Headers = append(chunked.Headers, ajp.Header{Name: "Transfer-Encoding", Value: "chunked"})
	cat := func(bs ...[]byte) []byte {
		var out []byte
		for _, b := range bs {
			out = append(out, b...)
		}
		return out
	}
	f.Add(cat(frame(ajp.AppendCPing(nil)), frame(get.Append(nil))))
	f.Add(cat(frame(post.Append(nil)), frame(ajp.AppendBodyChunk(nil, []byte("hello"))), frame(get.Append(nil))))
	f.Add(cat(frame(chunked.Append(nil)), frame(ajp.AppendBodyChunk(nil, []byte("abc"))), frame(nil)))
	f.Add(cat(frame(getReq("/x", "").Append(nil))))
	f.Add([]byte{0x12, 0x34, 0xff, 0xff})

	cfg := DefaultAJPConfig()
	cfg.Secret, cfg.KeepAliveTimeout, cfg.ConnectionTimeout = "s3cret", 2*time.Second, 2*time.Second
	cfg.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Write(b)
	})
	c, err := NewAJPConnector(cfg)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		server, client := net.Pipe()
		ac := &ajpConn{c: c, nc: server}
		c.mu.Lock()
		c.conns[ac] = false
		c.mu.Unlock()
		done := make(chan struct{})
		go func() {
			defer close(done)
			defer server.Close()
			ac.serve()
		}()
		go io.Copy(io.Discard, client) // the responses
		client.SetWriteDeadline(time.Now().Add(5 * time.Second))
		client.Write(in)
		client.Close()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("connection still served 10 s after the input ended")
		}
		c.mu.Lock()
		delete(c.conns, ac)
		c.mu.Unlock()
	})
}
