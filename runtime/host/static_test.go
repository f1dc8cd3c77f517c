package host

import (
	"net/http"
	"os"
	"path/filepath"
	"testing"
)

func TestStaticSafety(t *testing.T) {
	outside := t.TempDir()
	must(t, os.WriteFile(filepath.Join(outside, "secret.txt"), []byte("secret"), 0o644))
	dir := t.TempDir()
	must(t, os.WriteFile(filepath.Join(dir, "ok.txt"), []byte("ok"), 0o644))
	must(t, os.WriteFile(filepath.Join(dir, ".env"), []byte("x"), 0o644))
	for _, d := range []string{"WEB-INF", "META-INF", "empty", ".git"} {
		must(t, os.MkdirAll(filepath.Join(dir, d), 0o755))
		must(t, os.WriteFile(filepath.Join(dir, d, "f.txt"), []byte("private"), 0o644))
	}
	must(t, os.Symlink(filepath.Join(outside, "secret.txt"), filepath.Join(dir, "link.txt")))
	must(t, os.Symlink(outside, filepath.Join(dir, "linkdir")))

	h, err := Static(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	tests := []struct {
		target string
		code   int
	}{
		{"/ok.txt", 200},
		{"/../" + filepath.Base(outside) + "/secret.txt", 404},
		{"/%2e%2e/secret.txt", 404},
		{"/link.txt", 404},
		{"/linkdir/secret.txt", 404},
		{"/.env", 404},
		{"/.git/f.txt", 404},
		{"/WEB-INF/f.txt", 404},
		{"/web-inf/f.txt", 404},
		{"/META-INF/f.txt", 404},
		{"/empty/", 404}, // no listing
		{"/nope", 404},
	}
	for _, tt := range tests {
		t.Run(tt.target, func(t *testing.T) {
			code, body, _ := get(t, h, tt.target)
			if code != tt.code {
				t.Fatalf("GET %s = %d %q, want %d", tt.target, code, body, tt.code)
			}
			if code == 200 && body != "ok" {
				t.Fatalf("body %q", body)
			}
		})
	}
	t.Run("POST refused", func(t *testing.T) {
		rec := newRec()
		req, _ := http.NewRequest(http.MethodPost, "/ok.txt", nil)
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusMethodNotAllowed {
			t.Fatalf("code %d", rec.Code)
		}
	})
}
