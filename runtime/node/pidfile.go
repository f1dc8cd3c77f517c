package node

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"

	"github.com/rs/zerolog"
)

// PIDFile is the name of the pid file in the home's logs directory
// (home/logs/gomcat.pid): the node's process id while it runs, removed at
// a clean stop. Operators and `gomcat bench` read it.
const PIDFile = "gomcat.pid"

// pidFile writes the process id at start and removes it at stop, unless
// another process has rewritten it meanwhile.
type pidFile struct {
	path string
	log  zerolog.Logger
}

func (p *pidFile) content() []byte { return []byte(strconv.Itoa(os.Getpid()) + "\n") }

func (p *pidFile) write(context.Context) error {
	if b, err := os.ReadFile(p.path); err == nil && !bytes.Equal(b, p.content()) {
		p.log.Warn().Str("file", p.path).Str("pid", string(bytes.TrimSpace(b))).
			Msg("replacing a pid file left by another process (did a node of this home stop uncleanly?)")
	}
	if err := os.MkdirAll(filepath.Dir(p.path), 0o755); err != nil {
		return err
	}
	tmp := p.path + ".tmp"
	if err := os.WriteFile(tmp, p.content(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, p.path)
}

func (p *pidFile) remove(context.Context) error {
	b, err := os.ReadFile(p.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil || !bytes.Equal(b, p.content()) {
		return nil // not ours any more
	}
	return os.Remove(p.path)
}
