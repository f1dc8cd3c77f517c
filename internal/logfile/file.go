package logfile

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
)

// File is an append-only log file at a fixed path.
type File struct {
	path string

	mu sync.Mutex // guards f
	f  *os.File   // nil after Close
}

// Open opens (creating it and its directory if needed) path for
// appending.
func Open(path string) (*File, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("log file %s: %w", path, err)
	}
	f, err := open(path)
	if err != nil {
		return nil, err
	}
	return &File{path: path, f: f}, nil
}

func open(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("log file %s: %w", path, err)
	}
	return f, nil
}

// Path is the file's path.
func (l *File) Path() string { return l.path }

// Write appends p (one log event) to the current file.
func (l *File) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return 0, ErrClosed
	}
	return l.f.Write(p)
}

// Reopen opens the path again (a new file if the old one was moved) and
// then closes the old one. On failure the old file stays in use.
func (l *File) Reopen() error {
	f, err := open(l.path)
	if err != nil {
		return err
	}
	l.mu.Lock()
	old := l.f
	if old == nil {
		l.mu.Unlock()
		f.Close()
		return ErrClosed
	}
	l.f = f
	l.mu.Unlock()
	return old.Close()
}

// Close closes the file; later writes fail with ErrClosed. Idempotent.
func (l *File) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	return err
}
