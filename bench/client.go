package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

// CookieName is the session cookie the nodes use.
const CookieName = "JSESSIONID"

// maxBody bounds what a response body may be read into memory.
const maxBody = 4 << 20

// NewClient returns an HTTP/1.1 client tuned for load: keep-alive with
// conns idle connections per host, no compression, no proxy from the
// environment, no redirects followed, and a timeout per request so a
// stuck node can't hold a worker forever.
func NewClient(conns int) *http.Client {
	tr := &http.Transport{
		Proxy:                 nil,
		DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:          2 * conns,
		MaxIdleConnsPerHost:   conns,
		IdleConnTimeout:       90 * time.Second,
		ResponseHeaderTimeout: 30 * time.Second,
		DisableCompression:    true,
		ForceAttemptHTTP2:     false,
	}
	return &http.Client{
		Transport:     tr,
		Timeout:       60 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// agent is one simulated user: its own session cookie (kept by hand — a
// cookie jar per worker costs more than the request) and a body buffer.
// Not safe for concurrent use.
type agent struct {
	c      *http.Client
	cookie string // "JSESSIONID=..." or ""
	buf    bytes.Buffer
}

func newAgent(c *http.Client) *agent { return &agent{c: c} }

// get sends GET url with the agent's cookie, keeps a new session cookie
// from the answer and returns the status and the body (valid until the
// next call).
func (a *agent) get(ctx context.Context, url string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, nil, err
	}
	if a.cookie != "" {
		req.Header.Set("Cookie", a.cookie)
	}
	resp, err := a.c.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	a.buf.Reset()
	_, err = a.buf.ReadFrom(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return resp.StatusCode, nil, fmt.Errorf("GET %s: body: %w", url, err)
	}
	if len(resp.Header.Values("Set-Cookie")) > 0 {
		for _, ck := range resp.Cookies() {
			if ck.Name == CookieName {
				a.cookie = CookieName + "=" + ck.Value
			}
		}
	}
	return resp.StatusCode, a.buf.Bytes(), nil
}

// expect sends GET url and fails unless the answer is 200 with a body
// starting with prefix.
func (a *agent) expect(ctx context.Context, url, prefix string) error {
	code, body, err := a.get(ctx, url)
	if err != nil {
		return err
	}
	if code != http.StatusOK || !bytes.HasPrefix(body, []byte(prefix)) {
		return fmt.Errorf("GET %s: %d %q", short(url), code, short(string(body)))
	}
	return nil
}

// short trims s for error messages (URLs carry values of --size bytes).
func short(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 120 {
		return s[:120] + "…"
	}
	return s
}

// joinURL appends path (with its query) to a base URL without a doubled
// slash.
func joinURL(base, path string) string {
	return strings.TrimRight(base, "/") + path
}
