package node

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/rs/zerolog"

	"github.com/gomcat/gomcat/internal/proc"
)

// PIDFile is the name of the pid file in the home's logs directory
// (home/logs/gomcat.pid): the node's process id while it runs, removed at
// a clean stop. Operators, systemd (PIDFile=) and `gomcat stop` read it.
const PIDFile = "gomcat.pid"

// HomeInUseError is a start refused because a live process holds the
// home's pid file: the home is running already.
type HomeInUseError struct {
	Home  string
	PID   int
	Ports []string // what that node listens on ("Connector 127.0.0.1:8091", …), best known
}

func (e *HomeInUseError) Error() string {
	s := fmt.Sprintf("home %s is already running: pid %d", e.Home, e.PID)
	if len(e.Ports) > 0 {
		s += " holds " + strings.Join(e.Ports, ", ")
	}
	return s + fmt.Sprintf(" (stop it with: gomcat stop --home %s; if pid %d is not a gomcat node, remove %s)",
		e.Home, e.PID, filepath.Join(e.Home, "logs", PIDFile))
}

// Unwrap makes errors.Is(err, ErrHomeInUse) true.
func (e *HomeInUseError) Unwrap() error { return ErrHomeInUse }

// heldHomes are the pid files held by live nodes of this process: two
// nodes of one process write the same pid, so the content alone cannot
// tell a second in-process start from a stale file.
var heldHomes struct {
	mu    sync.Mutex
	paths map[string]bool
}

// pidFile creates the pid file at start, refusing one that names a live
// process, and removes it at stop only if this node created it and it
// still holds this process's id.
type pidFile struct {
	path  string
	home  string
	log   zerolog.Logger
	ports func(pid int) []string // what the holder of a refused home listens on

	mu    sync.Mutex
	owned bool
}

func (p *pidFile) content() []byte { return []byte(strconv.Itoa(os.Getpid()) + "\n") }

// write creates the pid file atomically (a hard link of a complete
// temporary file, which fails if the file exists). An existing file
// naming a live process, or held by another node of this process, is a
// *HomeInUseError; a stale one (its process is gone) is replaced with a
// warning.
func (p *pidFile) write(context.Context) error {
	if err := os.MkdirAll(filepath.Dir(p.path), 0o755); err != nil {
		return err
	}
	abs, err := filepath.Abs(p.path)
	if err != nil {
		return err
	}
	heldHomes.mu.Lock()
	defer heldHomes.mu.Unlock()
	if heldHomes.paths[abs] {
		return &HomeInUseError{Home: p.home, PID: os.Getpid(), Ports: p.ports(os.Getpid())}
	}
	tmp := fmt.Sprintf("%s.%d.tmp", p.path, os.Getpid())
	if err := os.WriteFile(tmp, p.content(), 0o644); err != nil {
		return err
	}
	defer os.Remove(tmp)
	for range 3 {
		err := os.Link(tmp, p.path)
		if err == nil {
			break
		}
		if !errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("pid file: %w", err)
		}
		b, rerr := os.ReadFile(p.path)
		if errors.Is(rerr, fs.ErrNotExist) {
			continue // removed meanwhile: try again
		}
		if rerr != nil {
			return fmt.Errorf("pid file: %w", rerr)
		}
		pid, perr := strconv.Atoi(string(bytes.TrimSpace(b)))
		if perr == nil && pid != os.Getpid() && proc.Alive(pid) {
			return &HomeInUseError{Home: p.home, PID: pid, Ports: p.ports(pid)}
		}
		p.log.Warn().Str("file", p.path).Str("content", string(bytes.TrimSpace(b))).
			Msg("replacing a stale pid file: its process is gone (the node of this home did not stop cleanly)")
		if err := os.Remove(p.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("pid file: %w", err)
		}
	}
	if b, err := os.ReadFile(p.path); err != nil || !bytes.Equal(b, p.content()) {
		return fmt.Errorf("pid file %s: another process keeps creating it", p.path)
	}
	if heldHomes.paths == nil {
		heldHomes.paths = map[string]bool{}
	}
	heldHomes.paths[abs] = true
	p.mu.Lock()
	p.owned = true
	p.mu.Unlock()
	return nil
}

// remove deletes the pid file if this node created it and it still holds
// this process's id: a file another process wrote is never removed.
func (p *pidFile) remove(context.Context) error {
	p.mu.Lock()
	owned := p.owned
	p.owned = false
	p.mu.Unlock()
	if !owned {
		return nil
	}
	if abs, err := filepath.Abs(p.path); err == nil {
		heldHomes.mu.Lock()
		delete(heldHomes.paths, abs)
		heldHomes.mu.Unlock()
	}
	b, err := os.ReadFile(p.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil || !bytes.Equal(b, p.content()) {
		return nil // not ours any more
	}
	return os.Remove(p.path)
}

// ReadPID reads home's pid file: the process id of the node running it.
// A missing file is fs.ErrNotExist.
func ReadPID(home string) (int, error) {
	b, err := os.ReadFile(filepath.Join(home, "logs", PIDFile))
	if err != nil {
		return 0, err
	}
	pid, err := strconv.Atoi(string(bytes.TrimSpace(b)))
	if err != nil || pid <= 0 {
		return 0, fmt.Errorf("pid file %s: %q is not a process id", filepath.Join(home, "logs", PIDFile), bytes.TrimSpace(b))
	}
	return pid, nil
}
