package kubernetes

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gomcat/gomcat/discovery"
)

// maxTokenFile bounds the token file read on every request.
const maxTokenFile = 64 << 10

// Provider lists Running pods from the Kubernetes API.
type Provider struct {
	cfg    Config
	url    string
	client *http.Client
	now    func() time.Time

	requests, failures, refused, skipped atomic.Uint64

	mu      sync.Mutex // guards the back-off state below
	fails   int        // consecutive failures
	next    time.Time  // no request before this
	lastErr error
}

var _ discovery.Provider = (*Provider)(nil)

// Stats counts the provider's requests since New.
type Stats struct {
	// Requests made to the API, Failures among them (any error).
	Requests, Failures uint64
	// Refused counts answers refused for exceeding MaxBody.
	Refused uint64
	// Skipped counts listed pods that were not targets (not Running, no IP).
	Skipped uint64
}

// New validates cfg and reads its CA file; it opens no connection.
func New(cfg Config) (*Provider, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	tr := &http.Transport{
		DialContext:           (&net.Dialer{Timeout: cfg.ConnectTimeout}).DialContext,
		TLSHandshakeTimeout:   cfg.ConnectTimeout,
		ResponseHeaderTimeout: cfg.ReadTimeout,
		MaxIdleConns:          1,
		IdleConnTimeout:       90 * time.Second,
		ForceAttemptHTTP2:     true,
	}
	if cfg.Protocol == "https" {
		pem, err := os.ReadFile(cfg.CAFile)
		if err != nil {
			return nil, fmt.Errorf("kubernetes: CA file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("kubernetes: CA file %s: no PEM certificate", cfg.CAFile)
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	u := url.URL{
		Scheme: cfg.Protocol,
		Host:   net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.APIPort)),
		Path:   "/api/" + cfg.APIVersion + "/namespaces/" + cfg.Namespace + "/pods",
	}
	if cfg.Labels != "" {
		u.RawQuery = url.Values{"labelSelector": {cfg.Labels}}.Encode()
	}
	return &Provider{
		cfg:    cfg,
		url:    u.String(),
		client: &http.Client{Transport: tr, CheckRedirect: noRedirect},
		now:    time.Now,
	}, nil
}

func noRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// String is "kubernetes:NAMESPACE/SELECTOR".
func (p *Provider) String() string { return "kubernetes:" + p.cfg.Namespace + "/" + p.cfg.Labels }

// Stats returns the counters; safe to call at any time.
func (p *Provider) Stats() Stats {
	return Stats{Requests: p.requests.Load(), Failures: p.failures.Load(), Refused: p.refused.Load(), Skipped: p.skipped.Load()}
}

// Close drops the idle connection to the API.
func (p *Provider) Close() { p.client.CloseIdleConnections() }

// Targets lists the pods once, unless a back-off is running (then it
// returns ErrBackoff wrapping the last failure, without a request). It
// blocks up to ConnectTimeout + ReadTimeout or until ctx ends.
func (p *Provider) Targets(ctx context.Context) ([]discovery.Target, error) {
	p.mu.Lock()
	if wait := p.next.Sub(p.now()); wait > 0 {
		err := fmt.Errorf("%w (%s left): %w", ErrBackoff, wait.Round(time.Millisecond), p.lastErr)
		p.mu.Unlock()
		return nil, err
	}
	p.mu.Unlock()

	ts, err := p.list(ctx)
	p.mu.Lock()
	defer p.mu.Unlock()
	if err != nil {
		p.failures.Add(1)
		d := p.cfg.RetryMin << min(p.fails, 30)
		if d > p.cfg.RetryMax || d <= 0 {
			d = p.cfg.RetryMax
		}
		p.fails++
		p.next = p.now().Add(d)
		p.lastErr = err
		return nil, err
	}
	p.fails, p.next, p.lastErr = 0, time.Time{}, nil
	return ts, nil
}

// list makes one request.
func (p *Provider) list(ctx context.Context) ([]discovery.Target, error) {
	p.requests.Add(1)
	ctx, cancel := context.WithTimeout(ctx, p.cfg.ConnectTimeout+p.cfg.ReadTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.url, nil)
	if err != nil {
		return nil, fmt.Errorf("kubernetes: list pods: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	if p.cfg.TokenFile != "" && p.cfg.Protocol == "https" {
		tok, err := readToken(p.cfg.TokenFile)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("kubernetes: list pods in namespace %s: %w", p.cfg.Namespace, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, p.cfg.MaxBody+1))
	if err != nil {
		return nil, fmt.Errorf("kubernetes: list pods in namespace %s: read answer: %w", p.cfg.Namespace, err)
	}
	if int64(len(body)) > p.cfg.MaxBody {
		p.refused.Add(1)
		return nil, fmt.Errorf("%w: list pods in namespace %s: more than %d bytes (raise maxBody)", ErrTooLarge, p.cfg.Namespace, p.cfg.MaxBody)
	}
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusForbidden:
		return nil, fmt.Errorf("%w: service account lacks list pods in namespace %s (%s)", ErrForbidden, p.cfg.Namespace, why(resp, body))
	case http.StatusUnauthorized:
		return nil, fmt.Errorf("kubernetes: token %s rejected listing pods in namespace %s (%s)", p.cfg.TokenFile, p.cfg.Namespace, why(resp, body))
	default:
		return nil, fmt.Errorf("kubernetes: list pods in namespace %s: GET %s: %s", p.cfg.Namespace, p.url, why(resp, body))
	}
	ts, skipped, err := parsePods(body, p.cfg.Port)
	p.skipped.Add(uint64(skipped))
	return ts, err
}

// why is the status line and the API's message, bounded for logs.
func why(resp *http.Response, body []byte) string {
	s := resp.Status
	if m := statusMessage(body); m != "" {
		if len(m) > 300 {
			m = m[:300] + "…"
		}
		s += ": " + m
	}
	return s
}

// readToken reads the bearer token (Kubernetes rotates projected tokens by
// replacing the file, so it is read on every request).
func readToken(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("kubernetes: token: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxTokenFile+1))
	if err != nil {
		return "", fmt.Errorf("kubernetes: token %s: %w", path, err)
	}
	if len(b) > maxTokenFile {
		return "", fmt.Errorf("kubernetes: token %s: more than %d bytes", path, maxTokenFile)
	}
	tok := strings.TrimSpace(string(b))
	if tok == "" {
		return "", fmt.Errorf("kubernetes: token %s: empty", path)
	}
	if strings.ContainsAny(tok, "\r\n") {
		return "", errors.New("kubernetes: token " + path + ": more than one line")
	}
	return tok, nil
}
