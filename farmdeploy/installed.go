package farmdeploy

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
)

// installedFile records, in TempDir, which bundles the farm installed on this
// node and from which member, so that an undeploy that happened while this
// node was down is applied when it returns.
const installedFile = "farm-installed.json"

type installedRecord struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 []byte `json:"sha256"`
	Source string `json:"source"`
}

// loadInstalled reads the record; a missing file is an empty record.
func (d *Deployer) loadInstalled() error {
	b, err := os.ReadFile(filepath.Join(d.cfg.TempDir, installedFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var recs []installedRecord
	if err := json.Unmarshal(b, &recs); err != nil {
		d.log.Warn().Err(err).Msg("ignoring unreadable farm install record")
		return nil
	}
	for _, r := range recs {
		if validName(r.Name) && len(r.SHA256) == 32 {
			d.installed[r.Name] = installation{entry: entry{Name: r.Name, Size: r.Size, SHA256: r.SHA256}, source: r.Source}
		}
	}
	return nil
}

// saveInstalled rewrites the record atomically. Callers hold d.mu.
func (d *Deployer) saveInstalled() {
	recs := make([]installedRecord, 0, len(d.installed))
	for _, in := range d.installed {
		recs = append(recs, installedRecord{Name: in.Name, Size: in.Size, SHA256: in.SHA256, Source: in.source})
	}
	b, err := json.Marshal(recs)
	if err == nil {
		tmp := filepath.Join(d.cfg.TempDir, "."+installedFile+".tmp")
		if err = os.WriteFile(tmp, b, 0o644); err == nil {
			err = os.Rename(tmp, filepath.Join(d.cfg.TempDir, installedFile))
		}
	}
	if err != nil {
		d.log.Warn().Err(err).Msg("cannot write farm install record")
	}
}
