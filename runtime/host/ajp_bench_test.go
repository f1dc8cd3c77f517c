package host

import (
	"context"
	"io"
	"net/http"
	"testing"

	"github.com/rs/zerolog"

	"github.com/gomcat/gomcat/ajp/ajptest"
)

var smallGET = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	io.WriteString(w, "node1\n")
})

// BenchmarkAJPSmallGET: one connection, a small GET per iteration (what
// mod_jk sends), over loopback. Compare with BenchmarkHTTPSmallGET.
func BenchmarkAJPSmallGET(b *testing.B) {
	cfg := DefaultAJPConfig()
	cfg.Port, cfg.Secret, cfg.Handler, cfg.Logger = 0, "s3cret", smallGET, zerolog.Nop()
	c, err := NewAJPConnector(cfg)
	if err != nil {
		b.Fatal(err)
	}
	if err := c.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	defer c.Stop(context.Background())
	cl, err := ajptest.Dial(c.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	fr := ajptest.Get("localhost", "/node", "s3cret")
	b.ReportAllocs()
	for b.Loop() {
		if res, err := cl.Do(fr, nil); err != nil || res.Status != 200 {
			b.Fatal(err)
		}
	}
}

func BenchmarkHTTPSmallGET(b *testing.B) {
	c, err := NewConnector(ConnectorConfig{Address: "127.0.0.1", Handler: smallGET})
	if err != nil {
		b.Fatal(err)
	}
	if err := c.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	defer c.Stop(context.Background())
	url := c.URL() + "/node"
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
	b.ReportAllocs()
	for b.Loop() {
		resp, err := client.Get(url)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}
