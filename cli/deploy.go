package cli

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	ucli "github.com/urfave/cli/v2"

	"github.com/gomcat/gomcat/farmdeploy"
	"github.com/gomcat/gomcat/internal/proc"
	"github.com/gomcat/gomcat/runtime/host"
	"github.com/gomcat/gomcat/runtime/node"
)

func deployCommand() *ucli.Command {
	return &ucli.Command{
		Name:      "deploy",
		Usage:     "farm a bundle out: copy it into a running, watching node's watchDir and follow the rollout to every member",
		ArgsUsage: "FILE.gar",
		Description: "The node must run with its Deployer watching (gomcat run --farm-watch, or watchEnabled=\"true\").\n" +
			"Exits 0 once every member reports the bundle started; otherwise non-zero, naming the members that failed.",
		Flags: []ucli.Flag{
			homeFlag(),
			&ucli.DurationFlag{Name: "timeout", Value: 2 * time.Minute, Usage: "how long to wait for every member"},
		},
		Action: func(c *ucli.Context) error {
			if c.NArg() != 1 {
				return errors.New("deploy: want exactly one FILE.gar argument")
			}
			dir, err := home(c)
			if err != nil {
				return err
			}
			farm, err := watchingFarm(dir)
			if err != nil {
				return err
			}
			src := c.Args().First()
			b, err := host.OpenBundle(src, host.BundleLimits{})
			if err != nil {
				return err
			}
			sum, path := b.SHA256, b.Manifest.Path
			b.Close()
			name := filepath.Base(src)
			if !strings.HasSuffix(strings.ToLower(name), host.BundleExt) || strings.HasPrefix(name, ".") {
				return fmt.Errorf("%s: a bundle's file name must end in %s and not start with a dot", name, host.BundleExt)
			}
			if err := copyIn(src, farm.WatchDir, name); err != nil {
				return err
			}
			w := c.App.Writer
			fmt.Fprintf(w, "copied %s (context %s, sha256 %s) into %s\n", name, path, sum[:12], farm.WatchDir)
			return followRollout(c, w, farm.TempDir, name, sum, c.Duration("timeout"))
		},
	}
}

// watchingFarm returns the farm settings of the node running in dir, or
// an error saying what to do.
func watchingFarm(dir string) (*node.RunFarm, error) {
	ri, err := node.ReadRunInfo(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("the node of %s is not running (no logs/%s); start it with: gomcat run --home %s --farm-watch", dir, node.RunInfoFile, dir)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, "logs", node.RunInfoFile), err)
	}
	if !proc.Alive(ri.PID) {
		return nil, fmt.Errorf("the node of %s is not running (process %d is gone; it did not stop cleanly); start it with: gomcat run --home %s --farm-watch", dir, ri.PID, dir)
	}
	if ri.Farm == nil {
		return nil, fmt.Errorf("the node of %s has no farm deployer: add <Deployer className=\"org.apache.catalina.ha.deploy.FarmWarDeployer\" .../> to its <Cluster>", dir)
	}
	if !ri.Farm.WatchEnabled || ri.Farm.WatchDir == "" {
		return nil, fmt.Errorf("the node of %s does not watch its farm directory, so it would not farm the bundle out: restart it with --farm-watch (gomcat run --home %s --farm-watch; or gomcat init --farm-watch, or watchEnabled=\"true\" on its <Deployer>)", dir, dir)
	}
	return ri.Farm, nil
}

// copyIn copies src into dir under a dot-prefixed temporary name (which
// the farm watcher ignores), then renames it to name.
func copyIn(src, dir, name string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	tmp, err := os.CreateTemp(dir, ".gomcat-deploy-*.tmp")
	if err != nil {
		return fmt.Errorf("watchDir: %w", err)
	}
	_, err = io.Copy(tmp, in)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), filepath.Join(dir, name))
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("copy %s into %s: %w", src, dir, err)
	}
	return nil
}

// followRollout polls the watching node's status file until every member
// started the bundle with this SHA-256 (nil), one failed and none is still
// transferring, or the timeout; it prints a line per member state change.
func followRollout(c *ucli.Context, w io.Writer, tempDir, name, sum string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	shown := map[string]string{}
	began := time.Now()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	var last farmdeploy.BundleStatus
	var lastNames []string
	for {
		st, err := farmdeploy.ReadStatus(tempDir)
		if err == nil {
			if b, ok := st.Bundle(name); ok && b.SHA256 == sum {
				names := rolloutMembers(st, b)
				last, lastNames = b, names
				for _, m := range names {
					ms := b.Members[m]
					if state := ms.State + ms.Error; shown[m] != state {
						shown[m] = state
						line := fmt.Sprintf("  %-12s %s", m, ms.State)
						if ms.Error != "" {
							line += ": " + ms.Error
						}
						fmt.Fprintf(w, "%s  (%.1fs)\n", line, time.Since(began).Seconds())
					}
				}
				done, failed := rolloutDone(b, names)
				if done && len(failed) == 0 {
					fmt.Fprintf(w, "%s started on %d member(s): %s\n", name, len(names), strings.Join(names, ", "))
					return nil
				}
				if done {
					return &exitError{code: 2, err: fmt.Errorf("%s failed on %s", name, describe(b, failed))}
				}
			}
		} else if !errors.Is(err, fs.ErrNotExist) {
			fmt.Fprintf(c.App.ErrWriter, "gomcat: reading the rollout status: %v\n", err)
		}
		if time.Now().After(deadline) {
			pending := pendingMembers(last, lastNames)
			if len(pending) == 0 {
				return &exitError{code: 3, err: fmt.Errorf("%s: no rollout reported within %v (is the node watching %s? see its log)", name, timeout, filepath.Dir(tempDir))}
			}
			return &exitError{code: 3, err: fmt.Errorf("%s: not started within %v on %s", name, timeout, describe(last, pending))}
		}
		select {
		case <-c.Context.Done():
			return &exitError{code: 130, err: errors.New("deploy: interrupted; the rollout goes on (gomcat deploy follows it only)")}
		case <-tick.C:
		}
	}
}

// rolloutMembers are the members the rollout must reach: those in the
// bundle's status that are still live, and the watching node itself.
func rolloutMembers(st farmdeploy.Status, b farmdeploy.BundleStatus) []string {
	var out []string
	for m := range b.Members {
		if m == st.Self || slices.Contains(st.Members, m) {
			out = append(out, m)
		}
	}
	slices.Sort(out)
	return out
}

// rolloutDone reports whether no member is still transferring, and which failed.
func rolloutDone(b farmdeploy.BundleStatus, names []string) (bool, []string) {
	var failed []string
	done := len(names) > 0
	for _, m := range names {
		switch b.Members[m].State {
		case farmdeploy.StateStarted:
		case farmdeploy.StateFailed:
			failed = append(failed, m)
		default:
			done = false
		}
	}
	return done, failed
}

// pendingMembers are the members of names not reported started.
func pendingMembers(b farmdeploy.BundleStatus, names []string) []string {
	var out []string
	for _, m := range names {
		if b.Members[m].State != farmdeploy.StateStarted {
			out = append(out, m)
		}
	}
	return out
}

// describe names members with their state and error.
func describe(b farmdeploy.BundleStatus, members []string) string {
	parts := make([]string, len(members))
	for i, m := range members {
		ms := b.Members[m]
		s := m + " (" + ms.State
		if ms.Error != "" {
			s += ": " + ms.Error
		}
		parts[i] = s + ")"
	}
	return strings.Join(parts, ", ")
}
