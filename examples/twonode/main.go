// Command twonode is Tomcat's classic two-instance walkthrough as a Go
// program: it writes two node homes (as gomcat init does: multicast on
// 127.0.0.1 with TTL 0, here on a random port), starts node1 and node2 in
// one process, sets a session value through node1, reads it through node2
// with node1's cookie (node2 rewrites the id to its own route), stops
// node1 and reads the value through node2 again.
//
//	go run ./examples/twonode
//
// With real machines you would run "gomcat init" and "gomcat start" on each
// instead; see README.
package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/gomcat/gomcat/conf"
	_ "github.com/gomcat/gomcat/runtime/host/exampleapp" // the "example" app of ROOT.xml
	"github.com/gomcat/gomcat/runtime/node"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "twonode:", err)
		os.Exit(1)
	}
}

func run() error {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "gomcat-twonode-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	log := zerolog.New(zerolog.ConsoleWriter{Out: os.Stderr, TimeFormat: "15:04:05.000"}).With().Timestamp().Logger()
	mport := 20000 + rand.IntN(40000)

	var nodes []*node.Node
	defer func() {
		for i := len(nodes) - 1; i >= 0; i-- {
			_ = nodes[i].Stop(ctx)
		}
	}()
	for i, ports := range [][2]int{{8091, 4001}, {8092, 4002}} {
		p := conf.DefaultTemplateParams()
		p.JvmRoute = fmt.Sprintf("node%d", i+1)
		p.HTTPPort, p.ReceiverPort, p.ShutdownPort = ports[0], ports[1], -1
		p.McastPort = mport
		n, err := newNode(filepath.Join(dir, p.JvmRoute), p, log.With().Str("node", p.JvmRoute).Logger())
		if err != nil {
			return err
		}
		if err := n.Start(ctx); err != nil { // node2: state transfer from node1 before its connector opens
			return fmt.Errorf("%s: %w", p.JvmRoute, err)
		}
		nodes = append(nodes, n)
	}
	url1, url2 := nodes[0].URLs()[0], nodes[1].URLs()[0]

	jar, _ := cookiejar.New(nil) // cookies are per host, not per port: node2 gets node1's cookie
	c := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	say := func(what, u string) error {
		get := c.Get
		if strings.HasSuffix(u, "/count") { // no cookie: the count must not move the session
			get = http.Get
		}
		resp, err := get(u)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		cookie := ""
		for _, ck := range resp.Cookies() {
			cookie = " (Set-Cookie " + ck.Name + "=" + ck.Value + ")"
		}
		fmt.Printf("%-34s %s -> %d %s%s\n", what, u, resp.StatusCode, strings.TrimSpace(string(b)), cookie)
		return nil
	}
	steps := []struct{ what, url string }{
		{"set through node1", url1 + "/set?k=color&v=blue"},
		{"read through node2 (failover)", url2 + "/get?k=color"},
		{"sessions on node1", url1 + "/count"},
		{"sessions on node2", url2 + "/count"},
	}
	for _, s := range steps {
		if err := say(s.what, s.url); err != nil {
			return err
		}
	}
	if err := nodes[0].Stop(ctx); err != nil { // goodbye: node2 drops node1 at once
		return err
	}
	return say("read through node2, node1 stopped", url2+"/get?k=color")
}

// newNode writes a home with gomcat init's files and builds its node, the
// HTTP connector on 127.0.0.1.
func newNode(home string, p conf.TemplateParams, log zerolog.Logger) (*node.Node, error) {
	files, err := conf.InitFiles(p)
	if err != nil {
		return nil, err
	}
	for name, data := range files {
		f := filepath.Join(home, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
			return nil, err
		}
		if err := os.WriteFile(f, data, 0o600); err != nil {
			return nil, err
		}
	}
	s, _, err := conf.Load(home)
	if err != nil {
		return nil, err
	}
	loopback := "127.0.0.1"
	s.Apply(conf.Overrides{Source: "twonode", HTTPAddress: &loopback})
	if err := s.Validate(); err != nil {
		return nil, err
	}
	cfg := node.DefaultConfig()
	cfg.Server, cfg.Home, cfg.Logger = s, home, log
	return node.New(cfg)
}
