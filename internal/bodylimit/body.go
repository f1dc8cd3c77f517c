package bodylimit

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// Wrap replaces r.Body with one that enforces c, and reads a body whose
// Content-Length is at most c.Buffer in full. It
// returns the error of that read (wrapping ErrTooSlow for a slow client);
// the caller answers it (408) instead of serving the request. Requests
// without a body are left alone.
func Wrap(w http.ResponseWriter, r *http.Request, c Config) error {
	if r.Body == nil || r.Body == http.NoBody {
		return nil
	}
	if c.ReadTimeout <= 0 && c.MinRate <= 0 && c.Buffer <= 0 {
		return nil
	}
	b := &body{rc: r.Body, rctl: http.NewResponseController(w), c: c, start: time.Now()}
	r.Body = b
	if r.ContentLength <= 0 || r.ContentLength > int64(c.Buffer) {
		return nil // chunked bodies stream: their reader may be waiting for our answer
	}
	data, err := io.ReadAll(io.LimitReader(b, int64(c.Buffer)+1))
	if err != nil {
		return err
	}
	if len(data) <= c.Buffer {
		r.Body = &buffered{Reader: bytes.NewReader(data), rc: b.rc}
		return nil
	}
	r.Body = &buffered{Reader: io.MultiReader(bytes.NewReader(data), b), rc: b.rc}
	return nil
}

type body struct {
	rc    io.ReadCloser
	rctl  *http.ResponseController
	c     Config
	start time.Time
	n     int64
	done  bool
}

func (b *body) Read(p []byte) (int, error) {
	if b.done {
		return b.rc.Read(p)
	}
	now := time.Now()
	var dl time.Time
	if b.c.ReadTimeout > 0 {
		dl = now.Add(b.c.ReadTimeout)
	}
	if b.c.MinRate > 0 {
		budget := b.start.Add(b.c.MinRateGrace + time.Duration(float64(b.n)/float64(b.c.MinRate)*float64(time.Second)))
		if !now.Before(budget) {
			return 0, fmt.Errorf("%w: %d bytes in %v", ErrTooSlow, b.n, now.Sub(b.start).Round(time.Millisecond))
		}
		if dl.IsZero() || budget.Before(dl) {
			dl = budget
		}
	}
	_ = b.rctl.SetReadDeadline(dl) // unsupported writers (tests) keep the rate check above
	n, err := b.rc.Read(p)
	b.n += int64(n)
	switch {
	case err == io.EOF:
		b.finish()
	case err != nil && isTimeout(err):
		return n, fmt.Errorf("%w: %d bytes in %v: %w", ErrTooSlow, b.n, time.Since(b.start).Round(time.Millisecond), err)
	}
	return n, err
}

// finish lifts the deadline: net/http reads on after the body (to see the
// client go away) and must not time out.
func (b *body) finish() {
	if !b.done {
		b.done = true
		_ = b.rctl.SetReadDeadline(time.Time{})
	}
}

func (b *body) Close() error {
	b.finish()
	return b.rc.Close()
}

type buffered struct {
	io.Reader
	rc io.Closer
}

func (b *buffered) Close() error { return b.rc.Close() }

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
