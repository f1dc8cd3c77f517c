package farmdeploy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"github.com/gomcat/gomcat/runtime/lifecycle"
	"io"
	"os"
	"path/filepath"
)

// scanWatchDir deploys bundles that are new or changed in WatchDir once
// their size and modification time have held still for one interval, and
// undeploys bundles that were removed.
func (d *Deployer) scanWatchDir(ctx context.Context) {
	ents, err := os.ReadDir(d.cfg.WatchDir)
	if err != nil {
		d.log.Warn().Err(err).Str("watch_dir", d.cfg.WatchDir).Msg("cannot read watch dir")
		return
	}
	seen := map[string]bool{}
	var ready []string
	d.mu.Lock()
	for _, e := range ents {
		if !e.Type().IsRegular() || !validName(e.Name()) {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue
		}
		name := e.Name()
		seen[name] = true
		prev, known := d.watched[name]
		cur := fileState{size: info.Size(), mtime: info.ModTime()}
		if d.complete[name] {
			// Closed after writing or renamed in: complete now.
			delete(d.complete, name)
			if !known || prev.size != cur.size || !prev.mtime.Equal(cur.mtime) || !prev.handled {
				cur.handled = true
				d.watched[name] = cur
				ready = append(ready, name)
				continue
			}
		}
		if known && prev.size == cur.size && prev.mtime.Equal(cur.mtime) {
			if !prev.handled {
				ready = append(ready, name)
				prev.handled = true
				d.watched[name] = prev
			}
			continue
		}
		d.watched[name] = cur // changed: wait one more interval for it to settle
	}
	var removed []string
	for name := range d.watched {
		if !seen[name] {
			delete(d.watched, name)
			if _, ok := d.bundles[name]; ok {
				removed = append(removed, name)
			}
		}
	}
	d.mu.Unlock()
	for _, name := range ready {
		d.deployWatched(ctx, name)
	}
	for _, name := range removed {
		d.undeployEverywhere(ctx, name)
	}
}

// deployWatched deploys a settled bundle from WatchDir on this node and
// pushes it to every member.
func (d *Deployer) deployWatched(ctx context.Context, name string) {
	src := filepath.Join(d.cfg.WatchDir, name)
	size, sum, err := hashFile(src)
	if err != nil {
		d.log.Error().Err(err).Str("bundle", name).Msg("cannot read watched bundle")
		return
	}
	if size > d.cfg.MaxBundleSize {
		d.log.Error().Str("bundle", name).Int64("bytes", size).Int64("limit", d.cfg.MaxBundleSize).Msg("watched bundle too large; not deployed")
		return
	}
	ent := entry{Name: name, Size: size, SHA256: sum}
	d.mu.Lock()
	old, had := d.bundles[name]
	d.mu.Unlock()
	if had && bytes.Equal(old.SHA256, sum) {
		return // touched but unchanged
	}
	target := filepath.Join(d.cfg.DeployDir, name)
	_, dsum, derr := hashFile(target)
	current := derr == nil && bytes.Equal(dsum, sum) // already deployed, e.g. before a restart
	if !current {
		tmp, err := d.stage(src, name)
		if err != nil {
			d.log.Error().Err(err).Str("bundle", name).Msg("cannot stage watched bundle")
			return
		}
		if err := d.installFile(ctx, tmp, name); err != nil {
			d.log.Error().Err(err).Str("bundle", name).Msg("watched bundle failed to deploy; not farmed out")
			d.mu.Lock()
			d.setStatus(name, ent, d.cl.Self(), StateFailed, err.Error())
			d.mu.Unlock()
			return
		}
	} else if err := d.inst.Install(ctx, target); err != nil {
		d.log.Error().Err(err).Str("bundle", name).Msg("watched bundle failed to deploy; not farmed out")
		return
	}
	d.mu.Lock()
	ent.Gen = d.nextGenLocked()
	d.bundles[name] = ent
	d.installed[name] = installation{entry: ent, source: d.cl.Self()}
	d.saveInstalled()
	d.stats.Deployed++
	d.setStatus(name, ent, d.cl.Self(), StateStarted, "")
	members := d.cl.Members()
	for _, m := range members {
		d.setStatus(name, ent, m, StateTransferring, "")
	}
	d.mu.Unlock()
	if current {
		// Members compare this node's manifest and fetch only what they lack.
		for _, m := range members {
			d.sendManifest(ctx, m)
		}
		return
	}
	d.log.Info().Str("bundle", name).Int64("bytes", size).Int("members", len(members)).Msg("farming out bundle")
	for _, m := range members {
		d.startPush(ctx, m, ent)
	}
}

// stage copies src into TempDir so that a later change of the watched file
// cannot change what is installed.
func (d *Deployer) stage(src, name string) (string, error) {
	in, err := os.Open(src)
	if err != nil {
		return "", err
	}
	defer in.Close()
	tmp, err := os.CreateTemp(d.cfg.TempDir, ".farm-local-"+name+".*.part")
	if err != nil {
		return "", err
	}
	if _, err := io.Copy(tmp, in); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return "", err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return "", err
	}
	return tmp.Name(), nil
}

// undeployEverywhere undeploys a bundle removed from WatchDir here and on
// every member.
func (d *Deployer) undeployEverywhere(ctx context.Context, name string) {
	d.mu.Lock()
	delete(d.bundles, name)
	d.nextGenLocked()
	for k, p := range d.pushes {
		if k.name == name {
			p.cancel()
		}
	}
	members := d.cl.Members()
	d.mu.Unlock()
	d.log.Info().Str("bundle", name).Int("members", len(members)).Msg("bundle removed from watch dir; undeploying everywhere")
	d.uninstallLocal(ctx, name, d.cl.Self())
	d.mu.Lock()
	delete(d.status, name)
	if err := writeStatus(d.cfg.TempDir, d.statusLocked()); err != nil {
		d.log.Warn().Err(err).Msg("cannot write farm status file")
	}
	d.mu.Unlock()
	for _, m := range members {
		d.sendLater(ctx, m, message{Kind: kindUndeploy, Name: name})
	}
}

// onFetch pushes a bundle a member asked for.
func (d *Deployer) onFetch(from string, m message) {
	if !d.cfg.WatchEnabled {
		return
	}
	d.mu.Lock()
	ent, ok := d.bundles[m.Name]
	if ok {
		d.setStatus(m.Name, ent, from, StateTransferring, "")
	}
	d.mu.Unlock()
	if !ok {
		d.log.Warn().Str("member", from).Str("bundle", m.Name).Msg("member asked for a bundle this node does not farm out")
		return
	}
	d.startPush(d.loopCtx(), from, ent)
}

// startPush sends ent to member on its own goroutine, replacing a push of
// the same bundle to the same member that is still running.
func (d *Deployer) startPush(ctx context.Context, member string, ent entry) {
	d.mu.Lock()
	if d.run.State() == lifecycle.Stopped {
		d.mu.Unlock()
		return
	}
	k := pushKey{member, ent.Name}
	if p, ok := d.pushes[k]; ok {
		p.cancel()
	}
	pctx, cancel := context.WithTimeout(ctx, d.cfg.SendTimeout)
	d.nextID++
	id := d.nextID
	d.pushes[k] = pushRun{id: id, cancel: cancel}
	d.mu.Unlock()
	d.run.Go(func(context.Context) {
		defer cancel()
		err := d.push(pctx, member, id, ent)
		d.mu.Lock()
		if p, ok := d.pushes[k]; ok && p.id == id {
			delete(d.pushes, k)
		}
		if err != nil {
			d.stats.PushFailed++
			if cur, ok := d.bundles[ent.Name]; ok && bytes.Equal(cur.SHA256, ent.SHA256) {
				d.setStatus(ent.Name, ent, member, StateFailed, err.Error())
			}
		} else {
			d.stats.Pushed++
		}
		d.mu.Unlock()
		if err != nil && !errors.Is(err, context.Canceled) {
			d.log.Error().Err(err).Str("member", member).Str("bundle", ent.Name).Msg("farm transfer failed")
		}
	})
}

// push streams one bundle to one member: START, chunks in order, END.
// Chunks are queued asynchronously (the transport bounds the queue and
// keeps order); END waits for receipt. The member reports the deploy result
// in a separate message.
func (d *Deployer) push(ctx context.Context, member string, id uint64, ent entry) error {
	f, err := os.Open(filepath.Join(d.cfg.DeployDir, ent.Name))
	if err != nil {
		return err
	}
	defer f.Close()
	send := func(m message, opts int) error {
		m.Transfer = id
		return d.cl.Send(ctx, member, encode(m), opts)
	}
	if err := send(message{Kind: kindStart, Name: ent.Name, Size: ent.Size, SHA256: ent.SHA256, Gen: ent.Gen}, optAsync); err != nil {
		return fmt.Errorf("start: %w", err)
	}
	buf := make([]byte, d.cfg.ChunkSize)
	var sent int64
	for idx := int64(0); ; idx++ {
		n, rerr := io.ReadFull(f, buf)
		if n > 0 {
			if err := send(message{Kind: kindChunk, Index: idx, Data: buf[:n]}, optAsync); err != nil {
				return fmt.Errorf("chunk %d: %w", idx, err)
			}
			sent += int64(n)
		}
		if rerr == io.EOF || rerr == io.ErrUnexpectedEOF {
			break
		}
		if rerr != nil {
			return rerr
		}
	}
	if sent != ent.Size {
		return fmt.Errorf("%w: %s changed while sending (%d of %d bytes)", ErrChecksum, ent.Name, sent, ent.Size)
	}
	if err := send(message{Kind: kindEnd}, optAck); err != nil {
		return fmt.Errorf("end: %w", err)
	}
	return nil
}
