//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Observability helpers: a port forward from the host's loopback into a
// namespace (so a browser and plain HTTP clients in the test process reach a
// node's loopback-only admin listener), /metrics scraping, promtool, and a
// headless Chromium driven by chromedp.

// obsForward listens on 127.0.0.1 of the host and forwards each connection
// to addr dialled from inside ns. It returns "http://127.0.0.1:PORT".
func obsForward(t testing.TB, ns *NS, addr string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	conns := map[net.Conn]struct{}{}
	track := func(c net.Conn, add bool) {
		mu.Lock()
		defer mu.Unlock()
		if add {
			conns[c] = struct{}{}
		} else {
			delete(conns, c)
		}
	}
	wg.Go(func() {
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer in.Close()
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				out, err := ns.DialContext(ctx, "tcp", addr)
				cancel()
				if err != nil {
					return
				}
				defer out.Close()
				track(in, true)
				track(out, true)
				defer track(in, false)
				defer track(out, false)
				done := make(chan struct{}, 2)
				go func() { _, _ = io.Copy(out, in); done <- struct{}{} }()
				go func() { _, _ = io.Copy(in, out); done <- struct{}{} }()
				<-done
			})
		}
	})
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return "http://" + ln.Addr().String()
}

// obsScrape returns base's /metrics text.
func obsScrape(t testing.TB, base string) string {
	t.Helper()
	c := &http.Client{Timeout: 10 * time.Second}
	code, body := Get(t, c, base+"/metrics")
	if code != 200 {
		t.Fatalf("%s/metrics: %d %q", base, code, body)
	}
	return body + "\n"
}

// obsValue is the value of the sample name{labels…} in text (labels as
// `k="v"` pairs, in any order, all required), summed over the series that
// match; ok is false when none does.
func obsValue(text, name string, labels ...string) (float64, bool) {
	var sum float64
	ok := false
	re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + `(\{[^}]*\})? (\S+)$`)
	for _, m := range re.FindAllStringSubmatch(text, -1) {
		all := true
		for _, l := range labels {
			if !strings.Contains(m[1], l) {
				all = false
			}
		}
		if !all {
			continue
		}
		v, err := strconv.ParseFloat(m[2], 64)
		if err == nil {
			sum += v
			ok = true
		}
	}
	return sum, ok
}

// obsWaitMetric scrapes base until cond holds for the series, or fails.
func obsWaitMetric(t testing.TB, base, what string, cond func(float64) bool, name string, labels ...string) float64 {
	t.Helper()
	var v float64
	var ok bool
	waitFor(t, 30*time.Second, fmt.Sprintf("%s (%s%v at %s, last %v)", what, name, labels, base, v), func() bool {
		v, ok = obsValue(obsScrape(t, base), name, labels...)
		return ok && cond(v)
	})
	return v
}

// obsPromtool runs `promtool check metrics` (Debian's prometheus package)
// on text.
func obsPromtool(t testing.TB, what, text string) {
	t.Helper()
	bin, err := exec.LookPath("promtool")
	if err != nil {
		skipOrFail(t, "promtool not found (apt-get install prometheus)")
	}
	cmd := exec.Command(bin, "check", "metrics")
	cmd.Stdin = strings.NewReader(text)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("promtool check metrics of %s: %v\n%s", what, err, out)
	}
}

// obsBrowser starts a headless Chromium (Debian's chromium) as chromedp's
// browser; it only ever loads the 127.0.0.1 forwards of obsForward, and
// is killed at cleanup.
func obsBrowser(t testing.TB) context.Context {
	t.Helper()
	bin, err := exec.LookPath("chromium")
	if err != nil {
		skipOrFail(t, "chromium not found (apt-get install chromium)")
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(bin),
		chromedp.NoSandbox, chromedp.Headless, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx, chromedp.WithErrorf(t.Logf))
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// obsArtifacts is where screenshots go: $GOMCAT_ARTIFACTS/<test>, else the
// test's artifact directory (kept with go test -artifacts).
func obsArtifacts(t *testing.T) string {
	t.Helper()
	if d := os.Getenv("GOMCAT_ARTIFACTS"); d != "" {
		dir := filepath.Join(d, strings.ReplaceAll(t.Name(), "/", "_"))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	return t.ArtifactDir()
}

// obsPage loads url in the browser, evaluates the JS expression check
// (an object) into dst, and saves a full-page screenshot as file.
func obsPage(t *testing.T, ctx context.Context, url, file, check string, dst any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(url), chromedp.WaitVisible(chromedp.CSS("h1"))); err != nil {
		t.Fatalf("chromium %s: %v", url, err)
	}
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[[]byte](check))
	if err != nil {
		t.Fatalf("chromium %s: evaluate: %v", url, err)
	}
	if err := json.Unmarshal(raw, dst); err != nil {
		t.Fatalf("chromium %s: %v in %s", url, err, raw)
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("chromium %s: screenshot: %v", url, err)
	}
	path := filepath.Join(obsArtifacts(t), file)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot of %s: %s (%d bytes); page: %s", url, path, len(png), raw)
}

// plainClient is an HTTP client for the host-loopback forwards.
func plainClient() *http.Client { return &http.Client{Timeout: 10 * time.Second} }
