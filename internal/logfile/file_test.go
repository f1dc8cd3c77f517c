package logfile

import (
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// logrotate's move-and-signal: lines before the move stay in the moved
// file, lines after the Reopen go to a new file at the path.
func TestReopenAfterRotate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "logs", "catalina.out")
	l, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if _, err := l.Write([]byte("one\n")); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	l.Write([]byte("two\n")) // still the moved file
	if err := l.Reopen(); err != nil {
		t.Fatal(err)
	}
	l.Write([]byte("three\n"))
	if got := read(t, path+".1"); got != "one\ntwo\n" {
		t.Errorf("rotated file %q", got)
	}
	if got := read(t, path); got != "three\n" {
		t.Errorf("new file %q", got)
	}
}

// Open appends to an existing file.
func TestOpenAppends(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.log")
	if err := os.WriteFile(path, []byte("old\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	l.Write([]byte("new\n"))
	l.Close()
	if got := read(t, path); got != "old\nnew\n" {
		t.Errorf("%q", got)
	}
	if _, err := l.Write([]byte("late\n")); !errors.Is(err, ErrClosed) {
		t.Errorf("write after close: %v", err)
	}
	if err := l.Reopen(); !errors.Is(err, ErrClosed) {
		t.Errorf("reopen after close: %v", err)
	}
}

// Writes racing a Reopen lose nothing: every line is in one of the files.
func TestConcurrentWriteReopen(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.log")
	l, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 200 {
				l.Write([]byte("x\n"))
			}
		})
	}
	for i := range 5 {
		os.Rename(path, filepath.Join(dir, "x.log."+string(rune('a'+i))))
		if err := l.Reopen(); err != nil {
			t.Error(err)
		}
	}
	wg.Wait()
	total := 0
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		total += len(read(t, filepath.Join(dir, e.Name()))) / 2
	}
	if total != 800 {
		t.Errorf("%d lines, want 800", total)
	}
}
