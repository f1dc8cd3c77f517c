package bodylimit

import (
	"errors"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestWrapBuffersSmallBodies(t *testing.T) {
	r := httptest.NewRequest("POST", "/", strings.NewReader("hello"))
	w := httptest.NewRecorder()
	if err := Wrap(w, r, DefaultConfig()); err != nil {
		t.Fatal(err)
	}
	if _, ok := r.Body.(*buffered); !ok {
		t.Fatalf("body %T, want it read in full", r.Body)
	}
	if b, _ := io.ReadAll(r.Body); string(b) != "hello" {
		t.Fatalf("body %q", b)
	}
}

func TestWrapStreamsLargeAndChunked(t *testing.T) {
	c := DefaultConfig()
	c.Buffer = 4
	r := httptest.NewRequest("POST", "/", strings.NewReader("hello"))
	if err := Wrap(httptest.NewRecorder(), r, c); err != nil {
		t.Fatal(err)
	}
	if _, ok := r.Body.(*body); !ok {
		t.Fatalf("body %T, want it streamed", r.Body)
	}
	if b, _ := io.ReadAll(r.Body); string(b) != "hello" {
		t.Fatalf("body %q", b)
	}
}

// Past its budget (grace + bytes/MinRate) a body fails with ErrTooSlow.
func TestMinRate(t *testing.T) {
	c := Config{MinRate: 1 << 30, MinRateGrace: 0}
	r := httptest.NewRequest("POST", "/", strings.NewReader(strings.Repeat("x", 10)))
	r.ContentLength = -1 // not buffered
	if err := Wrap(httptest.NewRecorder(), r, c); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadAll(r.Body); !errors.Is(err, ErrTooSlow) {
		t.Fatalf("err %v, want ErrTooSlow", err)
	}
	c.MinRateGrace = time.Hour
	r = httptest.NewRequest("POST", "/", strings.NewReader("ok"))
	r.ContentLength = -1
	_ = Wrap(httptest.NewRecorder(), r, c)
	if b, err := io.ReadAll(r.Body); err != nil || string(b) != "ok" {
		t.Fatalf("%q %v", b, err)
	}
}

func TestValidate(t *testing.T) {
	if err := (Config{MinRate: -1}).Validate(); err == nil {
		t.Fatal("negative rate accepted")
	}
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatal(err)
	}
}
