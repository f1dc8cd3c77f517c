package host

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// stamp identifies a version of a file cheaply.
type stamp struct {
	size  int64
	mtime time.Time
}

// deployed is what the watcher knows about a bundle file it handled.
type deployed struct {
	stamp  stamp
	path   string // context path ("" if the deployment failed)
	sha    string
	dir    string // unpacked docBase
	failed bool
}

// watcher deploys the bundles of appBase and, when started, polls it. Its
// goroutine is started by start and stopped by stop.
type watcher struct {
	h      *Host
	mu     sync.Mutex // guards seen and done; held during a scan
	seen   map[string]stamp
	done   map[string]*deployed
	errMsg string // last appBase read error, logged once
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func newWatcher(h *Host) *watcher {
	return &watcher{h: h, seen: map[string]stamp{}, done: map[string]*deployed{}}
}

func (w *watcher) start() {
	ctx, cancel := context.WithCancel(context.Background())
	w.cancel = cancel
	w.wg.Go(func() {
		t := time.NewTicker(w.h.cfg.ScanInterval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				w.scan(ctx, false)
			}
		}
	})
}

func (w *watcher) stop() {
	if w.cancel != nil {
		w.cancel()
	}
	w.wg.Wait()
}

// scan compares appBase with what is deployed. At startup every bundle is
// deployed at once; later a new or changed bundle is deployed once its
// size and mtime are the same in two consecutive scans, and a removed
// bundle is undeployed.
func (w *watcher) scan(ctx context.Context, initial bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	log := w.h.log
	entries, err := os.ReadDir(w.h.cfg.AppBase)
	if err != nil {
		if err.Error() != w.errMsg {
			w.errMsg = err.Error()
			log.Warn().Err(err).Str("app_base", w.h.cfg.AppBase).Msg("cannot read appBase")
		}
		return
	}
	w.errMsg = ""
	present := map[string]bool{}
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, BundleExt) || strings.HasPrefix(name, ".") {
			continue
		}
		file := filepath.Join(w.h.cfg.AppBase, name)
		fi, err := os.Stat(file)
		if err != nil || !fi.Mode().IsRegular() {
			continue
		}
		present[file] = true
		st := stamp{fi.Size(), fi.ModTime()}
		if d := w.done[file]; d != nil && d.stamp == st {
			continue
		}
		prev, seen := w.seen[file]
		w.seen[file] = st
		if !initial && (!seen || prev != st) {
			continue // not stable yet
		}
		if ctx.Err() != nil {
			return
		}
		w.deployFile(ctx, file, st)
	}
	for file, d := range w.done {
		if present[file] {
			continue
		}
		delete(w.done, file)
		delete(w.seen, file)
		if d.failed {
			continue
		}
		if err := w.h.Undeploy(ctx, d.path); err != nil && !errors.Is(err, ErrNoContext) {
			log.Error().Err(err).Msgf("Error undeploying context [%s]", displayPath(d.path))
		}
		removeUnpacked(d.dir)
	}
	for file := range w.seen {
		if !present[file] {
			delete(w.seen, file)
		}
	}
	if initial {
		w.sweepStale()
	}
}

// sweepStale removes unpacked bundle directories that no deployed bundle
// uses (left by bundles removed while the node was down).
func (w *watcher) sweepStale() {
	inUse := map[string]bool{}
	for _, d := range w.done {
		inUse[d.dir] = true
	}
	dirs, _ := filepath.Glob(filepath.Join(w.h.cfg.WorkDir, "*", "bundle-*"))
	for _, d := range dirs {
		if !inUse[d] {
			w.h.log.Debug().Str("dir", d).Msg("removing stale unpacked bundle")
			removeUnpacked(d)
		}
	}
}

// deployFile deploys or redeploys one bundle; failures are logged once per
// version of the file.
func (w *watcher) deployFile(ctx context.Context, file string, st stamp) {
	prev := w.done[file]
	d, err := w.h.installBundle(ctx, file, prev)
	if err != nil {
		w.h.log.Error().Err(err).Str("bundle", file).Msgf("Error deploying web application archive [%s]", file)
		w.done[file] = &deployed{stamp: st, failed: true}
		if prev != nil && !prev.failed {
			// The old version keeps running; remember it so a removal undeploys it.
			prev.stamp = st
			w.done[file] = prev
		}
		return
	}
	d.stamp = st
	w.done[file] = d
}

// installBundle unpacks file under the work dir and deploys (or, when prev
// is running at the same path, redeploys) it.
func (h *Host) installBundle(ctx context.Context, file string, prev *deployed) (*deployed, error) {
	b, err := OpenBundle(file, h.cfg.Limits)
	if err != nil {
		return nil, err
	}
	defer b.Close()
	m := b.Manifest
	if prev != nil && !prev.failed && prev.sha == b.SHA256 {
		return prev, nil // touched, not changed
	}
	dir := filepath.Join(h.cfg.WorkDir, ContextName(m.Path), "bundle-"+b.SHA256[:12])
	if _, err := os.Stat(dir); err != nil {
		if err := b.Unpack(dir); err != nil {
			return nil, err
		}
	}
	for _, wmsg := range b.Warnings {
		h.log.Warn().Str("bundle", file).Msg(wmsg)
	}
	spec := ContextSpec{
		Path: m.Path, App: m.App, DocBase: dir, Distributable: m.Distributable,
		SessionTimeout: m.SessionTimeout, Source: file, Bundle: file, Version: m.Version,
	}
	d := &deployed{path: m.Path, sha: b.SHA256, dir: dir}
	switch {
	case prev != nil && !prev.failed && prev.path == m.Path:
		err = h.Redeploy(ctx, spec)
	case prev != nil && !prev.failed:
		if err := h.Undeploy(ctx, prev.path); err != nil && !errors.Is(err, ErrNoContext) {
			return nil, err
		}
		removeUnpacked(prev.dir)
		err = h.Deploy(ctx, spec)
	default:
		err = h.Deploy(ctx, spec)
	}
	if err != nil {
		if prev == nil || prev.dir != dir {
			removeUnpacked(dir)
		}
		return nil, err
	}
	if prev != nil && prev.dir != "" && prev.dir != dir {
		removeUnpacked(prev.dir)
	}
	return d, nil
}

func removeUnpacked(dir string) {
	if dir != "" && strings.Contains(filepath.Base(dir), "bundle-") {
		os.RemoveAll(dir)
	}
}

// Install deploys (or redeploys, if the bundle's file was deployed
// before) the bundle at file now, without waiting for the AppBase poller.
// An unchanged file (same SHA-256) is a no-op; a failure leaves the
// previous version running. With Uninstall it implements the farm
// deployer's Installer.
func (h *Host) Install(ctx context.Context, file string) error {
	w := h.bundleWatcher()
	w.mu.Lock()
	defer w.mu.Unlock()
	fi, err := os.Stat(file)
	if err != nil {
		return err
	}
	d, err := h.installBundle(ctx, file, w.done[file])
	if err != nil {
		return err
	}
	d.stamp = stamp{fi.Size(), fi.ModTime()}
	w.done[file] = d
	w.seen[file] = d.stamp
	return nil
}

// Uninstall undeploys the context deployed from file (the file itself is
// left alone). A file with nothing deployed from it is a no-op.
func (h *Host) Uninstall(ctx context.Context, file string) error {
	w := h.bundleWatcher()
	w.mu.Lock()
	defer w.mu.Unlock()
	d := w.done[file]
	if d == nil || d.failed {
		delete(w.done, file)
		return nil
	}
	delete(w.done, file)
	err := h.Undeploy(ctx, d.path)
	removeUnpacked(d.dir)
	return err
}

func (h *Host) bundleWatcher() *watcher {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.watch == nil {
		h.watch = newWatcher(h)
	}
	return h.watch
}
