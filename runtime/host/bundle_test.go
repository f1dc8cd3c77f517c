package host

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"io/fs"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func newRec() *httptest.ResponseRecorder { return httptest.NewRecorder() }

type entry struct {
	name string
	body string
	mode fs.FileMode
}

// zipOf builds an archive by hand, so tests can write what CreateBundle
// never would.
func zipOf(t testing.TB, entries ...entry) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, e := range entries {
		hdr := &zip.FileHeader{Name: e.name, Method: zip.Deflate}
		if e.mode != 0 {
			hdr.SetMode(e.mode)
		}
		w, err := zw.CreateHeader(hdr)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(e.body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

const goodManifest = `<app path="/shop" name="test-echo" distributable="true" sessionTimeout="45" version="1.2"/>`

func TestReadBundleRefuses(t *testing.T) {
	man := entry{name: ManifestName, body: goodManifest}
	tests := []struct {
		name    string
		data    []byte
		lim     BundleLimits
		want    error
		message string
	}{
		{"zip slip", zipOf(t, man, entry{name: "../../evil.txt", body: "x"}), BundleLimits{}, ErrUnsafeEntry, `entry "../../evil.txt": escapes the target directory`},
		{"zip slip inside", zipOf(t, man, entry{name: "a/../../evil.txt", body: "x"}), BundleLimits{}, ErrUnsafeEntry, "escapes the target directory"},
		{"absolute", zipOf(t, man, entry{name: "/etc/passwd", body: "x"}), BundleLimits{}, ErrUnsafeEntry, "is an absolute path"},
		{"drive letter", zipOf(t, man, entry{name: "C:/x", body: "x"}), BundleLimits{}, ErrUnsafeEntry, "is an absolute path"},
		{"backslash", zipOf(t, man, entry{name: `..\evil`, body: "x"}), BundleLimits{}, ErrUnsafeEntry, "backslash"},
		{"symlink", zipOf(t, man, entry{name: "link", body: "/etc/passwd", mode: fs.ModeSymlink | 0o777}), BundleLimits{}, ErrUnsafeEntry, "is a symbolic link"},
		{"device", zipOf(t, man, entry{name: "dev", mode: fs.ModeDevice | 0o600}), BundleLimits{}, ErrUnsafeEntry, "special file"},
		{"duplicate", zipOf(t, man, entry{name: "a.txt"}, entry{name: "A.TXT"}), BundleLimits{}, ErrUnsafeEntry, "appears twice"},
		{"file as dir", zipOf(t, man, entry{name: "a"}, entry{name: "a/b"}), BundleLimits{}, ErrUnsafeEntry, "which is a file"},
		{"too many entries", zipOf(t, man, entry{name: "a"}, entry{name: "b"}), BundleLimits{MaxEntries: 2}, ErrBundleTooLarge, "3 entries, more than the limit of 2"},
		{"entry too large", zipOf(t, man, entry{name: "big", body: strings.Repeat("x", 2000)}), BundleLimits{MaxEntryBytes: 1000}, ErrBundleTooLarge, `entry "big": is 2000 bytes`},
		{"total too large", zipOf(t, man, entry{name: "a", body: strings.Repeat("x", 800)}, entry{name: "b", body: strings.Repeat("x", 800)}), BundleLimits{MaxTotalBytes: 1000}, ErrBundleTooLarge, "unpacks to more than"},
		{"archive too large", zipOf(t, man, entry{name: "a", body: "x"}), BundleLimits{MaxArchiveBytes: 10}, ErrBundleTooLarge, "archive is"},
		{"no manifest", zipOf(t, entry{name: "a", body: "x"}), BundleLimits{}, ErrBadManifest, "has no META-INF/app.xml"},
		{"bad manifest", zipOf(t, entry{name: ManifestName, body: `<app path="shop"/>`}), BundleLimits{}, ErrBadManifest, `path "shop"`},
		{"manifest dotdot", zipOf(t, entry{name: ManifestName, body: `<app path="/a/../b"/>`}), BundleLimits{}, ErrBadManifest, "not allowed"},
		{"not a zip", []byte("hello, world"), BundleLimits{}, ErrNotBundle, "not a zip archive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadBundle(bytes.NewReader(tt.data), int64(len(tt.data)), tt.lim)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.message) {
				t.Fatalf("err = %q, want it to mention %q", err, tt.message)
			}
		})
	}
}

// TestUnpackChecksActualSize: a bundle whose entry declares fewer bytes
// than it holds is refused while unpacking and leaves nothing behind.
func TestUnpackChecksActualSize(t *testing.T) {
	data := zipOf(t, entry{name: ManifestName, body: goodManifest}, entry{name: "a.txt", body: strings.Repeat("y", 5000)})
	// Lie in the central directory: find the 5000 and make it 50.
	data = patchSize(t, data, "a.txt", 50)
	b, err := ReadBundle(bytes.NewReader(data), int64(len(data)), BundleLimits{})
	if err != nil {
		t.Fatal(err)
	}
	dest := filepath.Join(t.TempDir(), "out")
	err = b.Unpack(dest)
	if err == nil {
		t.Fatal("lying entry unpacked")
	}
	if _, serr := os.Stat(dest); !errors.Is(serr, fs.ErrNotExist) {
		t.Fatalf("dest exists after failure: %v", serr)
	}
	left, _ := os.ReadDir(filepath.Dir(dest))
	if len(left) != 0 {
		t.Fatalf("temp dirs left: %v", left)
	}
}

// patchSize rewrites the uncompressed size of name in the central
// directory and the local header.
func patchSize(t *testing.T, data []byte, name string, size uint32) []byte {
	t.Helper()
	out := bytes.Clone(data)
	le := func(b []byte, v uint32) { b[0], b[1], b[2], b[3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24) }
	// central directory headers: signature 0x02014b50, size at +24, name at +46
	for i := 0; i+46 < len(out); i++ {
		if out[i] == 0x50 && out[i+1] == 0x4b && out[i+2] == 0x01 && out[i+3] == 0x02 {
			n := int(out[i+28]) | int(out[i+29])<<8
			if string(out[i+46:i+46+n]) == name {
				le(out[i+24:], size)
				return out
			}
		}
	}
	t.Fatal("entry not found")
	return nil
}

func TestBundleRoundTrip(t *testing.T) {
	src := t.TempDir()
	must(t, os.WriteFile(filepath.Join(src, "index.html"), []byte("<h1>shop</h1>"), 0o644))
	must(t, os.MkdirAll(filepath.Join(src, "img"), 0o755))
	must(t, os.WriteFile(filepath.Join(src, "img", "logo.svg"), []byte("<svg/>"), 0o644))
	m := Manifest{Path: "/shop", App: "test-echo", Distributable: true, SessionTimeout: 45 * time.Minute, Version: "1.2"}
	file := filepath.Join(t.TempDir(), "shop.gar")
	must(t, WriteBundleFile(file, src, m))

	b, err := OpenBundle(file, BundleLimits{})
	if err != nil {
		t.Fatal(err)
	}
	if b.Manifest != m || len(b.SHA256) != 64 || b.Files != 3 {
		t.Fatalf("bundle = %+v", b)
	}
	b.Close()

	h := newHost(t, nil)
	must(t, h.Install(context.Background(), file))
	code, body, _ := get(t, h, "/shop/x")
	if code != 200 || !strings.HasPrefix(body, "ctx=/shop path=/x") {
		t.Fatalf("app: %d %q", code, body)
	}
	ci := h.Contexts()[0]
	if !ci.Distributable || ci.SessionTimeout != 45*time.Minute || ci.Version != "1.2" {
		t.Fatalf("context = %+v", ci)
	}
	// Static-only bundle, same path: redeploy from the same file.
	m.App = ""
	must(t, WriteBundleFile(file, src, m))
	must(t, h.Install(context.Background(), file))
	if code, body, _ := get(t, h, "/shop/img/logo.svg"); code != 200 || body != "<svg/>" {
		t.Fatalf("static: %d %q", code, body)
	}
	if code, _, _ := get(t, h, "/shop/META-INF/app.xml"); code != 404 {
		t.Fatalf("manifest served: %d", code)
	}
	must(t, h.Uninstall(context.Background(), file))
	if len(h.Contexts()) != 0 {
		t.Fatal("context left after Uninstall")
	}
}

func TestCreateBundleRefusesSymlink(t *testing.T) {
	src := t.TempDir()
	must(t, os.Symlink("/etc/passwd", filepath.Join(src, "pw")))
	var b bytes.Buffer
	err := CreateBundle(&b, src, Manifest{Path: "/x"})
	if err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Fatalf("err = %v", err)
	}
}

func TestManifest(t *testing.T) {
	m, warns, err := ParseManifest([]byte(`<app path="/" sessionTimeout="0" extra="1"/>`))
	if err != nil || m.Path != "/" || m.SessionTimeout >= 0 || len(warns) != 1 {
		t.Fatalf("%+v %v %v", m, warns, err)
	}
	back, _, err := ParseManifest(m.Marshal())
	if err != nil || back != m {
		t.Fatalf("round trip %+v %v", back, err)
	}
	for _, bad := range []string{`<app/>`, `<other path="/"/>`, `<app path="/x" distributable="yes"/>`, `<app path="/x" sessionTimeout="ten"/>`, `<app path="/x" name="a b"/>`} {
		if _, _, err := ParseManifest([]byte(bad)); !errors.Is(err, ErrBadManifest) {
			t.Errorf("%s: err = %v", bad, err)
		}
	}
}

// FuzzReadBundle: whatever the bytes, ReadBundle does not panic, and what
// it accepts unpacks only inside the target directory.
func FuzzReadBundle(f *testing.F) {
	src := f.TempDir()
	if err := os.WriteFile(filepath.Join(src, "index.html"), []byte("hi"), 0o644); err != nil {
		f.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(src, "d"), 0o755); err != nil {
		f.Fatal(err)
	}
	var b bytes.Buffer
	if err := CreateBundle(&b, src, Manifest{Path: "/shop", App: "shop", Distributable: true}); err != nil {
		f.Fatal(err)
	}
	f.Add(b.Bytes())
	f.Add(zipOf(f, entry{name: ManifestName, body: `<app path="/"/>`}))
	f.Add(zipOf(f, entry{name: ManifestName, body: goodManifest}, entry{name: "../x"}))
	f.Fuzz(func(t *testing.T, data []byte) {
		bn, err := ReadBundle(bytes.NewReader(data), int64(len(data)), BundleLimits{MaxEntries: 50, MaxEntryBytes: 1 << 20, MaxTotalBytes: 4 << 20})
		if err != nil {
			return
		}
		root := t.TempDir()
		dest := filepath.Join(root, "out")
		if err := bn.Unpack(dest); err != nil {
			return
		}
		_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return nil
			}
			if !strings.HasPrefix(p, root) || d.Type()&fs.ModeSymlink != 0 {
				t.Fatalf("unpacked outside or a link: %s", p)
			}
			return nil
		})
	})
}
