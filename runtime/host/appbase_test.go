package host

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gomcat/gomcat/internal/testkit"
)

func TestAppBaseDeploysAtStartAndPolls(t *testing.T) {
	appBase := t.TempDir()
	src := t.TempDir()
	must(t, os.WriteFile(filepath.Join(src, "index.html"), []byte("v1"), 0o644))
	must(t, WriteBundleFile(filepath.Join(appBase, "a.gar"), src, Manifest{Path: "/a"}))
	if fi, err := os.Stat(filepath.Join(appBase, "a.gar")); err != nil || fi.Mode().Perm() != 0o644 {
		t.Fatalf("bundle file mode = %v, %v; want 0644", fi.Mode().Perm(), err)
	}
	// A broken bundle is logged and skipped, not fatal.
	must(t, os.WriteFile(filepath.Join(appBase, "broken.gar"), []byte("not a zip"), 0o644))

	h := newHost(t, func(c *Config) {
		c.AppBase = appBase
		c.AutoDeploy = true
		c.ScanInterval = 10 * time.Millisecond
	})
	if code, body, _ := get(t, h, "/a/"); code != 200 || body != "v1" {
		t.Fatalf("deployed at start: %d %q", code, body)
	}
	// A new bundle appears: deployed once stable.
	must(t, os.WriteFile(filepath.Join(src, "index.html"), []byte("b1"), 0o644))
	must(t, WriteBundleFile(filepath.Join(appBase, "b.gar"), src, Manifest{Path: "/b"}))
	testkit.WaitFor(t, "condition", func() bool { code, body, _ := get(t, h, "/b/"); return code == 200 && body == "b1" })
	// Changed: redeployed.
	must(t, os.WriteFile(filepath.Join(src, "index.html"), []byte("b2"), 0o644))
	must(t, WriteBundleFile(filepath.Join(appBase, "b.gar"), src, Manifest{Path: "/b"}))
	future := time.Now().Add(time.Hour)
	must(t, os.Chtimes(filepath.Join(appBase, "b.gar"), future, future)) // mtime must differ even on coarse clocks
	testkit.WaitFor(t, "condition", func() bool { _, body, _ := get(t, h, "/b/"); return body == "b2" })
	// Removed: undeployed, unpacked dir removed.
	must(t, os.Remove(filepath.Join(appBase, "b.gar")))
	testkit.WaitFor(t, "condition", func() bool { code, _, _ := get(t, h, "/b/"); return code == 404 })
	// The unpacked dir goes right after the context stopped.
	testkit.WaitFor(t, "condition", func() bool {
		entries, _ := os.ReadDir(filepath.Join(h.cfg.WorkDir, "b"))
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), "bundle-") {
				return false
			}
		}
		return true
	})
	if len(h.Contexts()) != 1 {
		t.Fatalf("contexts %+v", h.Contexts())
	}
}
