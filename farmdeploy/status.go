package farmdeploy

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"time"
)

// StatusFile is the name of the rollout status file the watching node keeps
// in its TempDir; `gomcat deploy` follows a rollout by reading it.
const StatusFile = "farm-status.json"

// Member states in a rollout.
const (
	StateTransferring = "transferring"
	StateStarted      = "started"
	StateFailed       = "failed"
	StateUndeployed   = "undeployed"
)

// stateNotWatching marks the answer of a node that farms nothing out to a
// manifest request.
const stateNotWatching = "not-watching"

// MemberStatus is one member's state for one bundle.
type MemberStatus struct {
	State string    `json:"state"`
	Error string    `json:"error,omitempty"`
	At    time.Time `json:"at"`
}

// BundleStatus is a bundle's rollout as the watching node sees it.
type BundleStatus struct {
	Name    string                  `json:"name"`
	Size    int64                   `json:"size"`
	SHA256  string                  `json:"sha256"`
	Members map[string]MemberStatus `json:"members"`
}

// Status is the content of the status file.
type Status struct {
	Self    string         `json:"self"`
	Members []string       `json:"members"`
	Bundles []BundleStatus `json:"bundles"`
	Updated time.Time      `json:"updated"`
}

// ReadStatus reads the status file in dir (a watching node's TempDir).
func ReadStatus(dir string) (Status, error) {
	var s Status
	b, err := os.ReadFile(filepath.Join(dir, StatusFile))
	if err != nil {
		return s, err
	}
	err = json.Unmarshal(b, &s)
	return s, err
}

// Bundle returns the status of the named bundle, if known.
func (s Status) Bundle(name string) (BundleStatus, bool) {
	for _, b := range s.Bundles {
		if b.Name == name {
			return b, true
		}
	}
	return BundleStatus{}, false
}

// writeStatus atomically replaces the status file.
func writeStatus(dir string, s Status) error {
	sort.Slice(s.Bundles, func(i, j int) bool { return s.Bundles[i].Name < s.Bundles[j].Name })
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".farm-status-*")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), filepath.Join(dir, StatusFile))
}
