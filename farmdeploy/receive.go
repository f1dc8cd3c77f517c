package farmdeploy

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
)

// onStart opens the temporary file of a new transfer.
func (d *Deployer) onStart(from string, m message) error {
	if !validName(m.Name) {
		return d.reject(from, m.Name, fmt.Errorf("%w: %q", ErrBadName, m.Name))
	}
	if m.Size < 0 || m.Size > d.cfg.MaxBundleSize {
		return d.reject(from, m.Name, fmt.Errorf("%w: %d bytes (limit %d)", ErrTooLarge, m.Size, d.cfg.MaxBundleSize))
	}
	if len(m.SHA256) != sha256.Size {
		return d.reject(from, m.Name, fmt.Errorf("%w: start without a sha256", ErrChecksum))
	}
	if err := d.mayChange(from, m.Name); err != nil {
		return d.refuse(from, m.Name, err)
	}
	d.mu.Lock()
	k := transferKey{from, m.Transfer}
	// A new transfer of the same bundle from the same sender replaces an older one.
	if old, ok := d.byBundle[bundleKey{from, m.Name}]; ok {
		d.dropLocked(old, d.transfers[old])
	}
	if old := d.transfers[k]; old != nil {
		d.dropLocked(k, old)
	}
	var busy error
	switch {
	case len(d.transfers) >= d.cfg.MaxTransfers:
		busy = fmt.Errorf("%w: %d (maxTransfers)", ErrBusy, len(d.transfers))
	case d.inflight+m.Size > d.cfg.DiskBudget:
		busy = fmt.Errorf("%w: %d bytes announced, %d in flight (diskBudget %d)", ErrBusy, m.Size, d.inflight, d.cfg.DiskBudget)
	}
	if busy != nil {
		d.mu.Unlock()
		return d.refuse(from, m.Name, busy)
	}
	// The temporary file is created at the first chunk: a FILE-START
	// costs no file descriptor.
	d.transfers[k] = &incoming{from: from, id: m.Transfer, name: m.Name, size: m.Size, sum: m.SHA256, gen: m.Gen, last: d.cfg.Now()}
	d.byBundle[bundleKey{from, m.Name}] = k
	d.inflight += m.Size
	d.mu.Unlock()
	d.log.Debug().Str("member", from).Str("bundle", m.Name).Int64("bytes", m.Size).Msg("receiving bundle")
	return nil
}

// open creates in's temporary file (at its first chunk, or at its end for
// an empty bundle).
func (d *Deployer) open(in *incoming) error {
	if in.f != nil {
		return nil
	}
	f, err := os.CreateTemp(d.cfg.TempDir, ".farm-"+strconv.FormatUint(in.id, 10)+"-"+in.name+".*.part")
	if err != nil {
		return fmt.Errorf("farmdeploy: temp file: %w", err)
	}
	in.f = f
	return nil
}

// onChunk appends the next chunk of a transfer. Chunks arrive in order on
// the sender's connection; a duplicate is ignored, a gap aborts.
func (d *Deployer) onChunk(from string, m message) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	k := transferKey{from, m.Transfer}
	in := d.transfers[k]
	if in == nil {
		return fmt.Errorf("%w: %d from %s", ErrUnknownTransfer, m.Transfer, from)
	}
	switch {
	case m.Index < in.next:
		d.stats.Duplicates++
		return nil
	case m.Index > in.next:
		d.dropLocked(k, in)
		d.stats.Rejected++
		err := fmt.Errorf("farmdeploy: bundle %s: chunk %d arrived, expected %d", in.name, m.Index, in.next)
		d.log.Error().Err(err).Str("member", from).Msg("rejected farmed bundle")
		return err
	}
	if in.written+int64(len(m.Data)) > in.size {
		d.dropLocked(k, in)
		d.stats.Rejected++
		err := fmt.Errorf("%w: bundle %s is larger than announced (%d bytes)", ErrChecksum, in.name, in.size)
		d.log.Error().Err(err).Str("member", from).Msg("rejected farmed bundle")
		return err
	}
	err := d.open(in)
	if err == nil {
		_, err = in.f.Write(m.Data)
	}
	if err != nil {
		d.dropLocked(k, in)
		d.stats.Rejected++
		d.log.Error().Err(err).Str("member", from).Str("bundle", in.name).Msg("cannot write farmed bundle")
		return fmt.Errorf("farmdeploy: write %s: %w", in.name, err)
	}
	in.written += int64(len(m.Data))
	in.next++
	in.last = d.cfg.Now()
	return nil
}

// onEnd closes a transfer and queues its verification and installation.
func (d *Deployer) onEnd(ctx context.Context, from string, m message) error {
	d.mu.Lock()
	k := transferKey{from, m.Transfer}
	in := d.transfers[k]
	var err error
	if in != nil {
		err = d.open(in) // an empty bundle had no chunk
		f := in.f
		in.f = nil // the file is ours now: dropLocked must not remove it
		d.dropLocked(k, in)
		in.f = f
	}
	d.mu.Unlock()
	if in == nil {
		return fmt.Errorf("%w: %d from %s", ErrUnknownTransfer, m.Transfer, from)
	}
	if err != nil {
		return d.reject(from, in.name, err)
	}
	name := in.f.Name()
	if err := in.f.Close(); err != nil {
		os.Remove(name)
		return d.reject(from, in.name, fmt.Errorf("farmdeploy: close %s: %w", in.name, err))
	}
	in.f = nil
	return d.enqueue(ctx, op{name: in.name, from: from, tmp: name, ent: entry{Name: in.name, Size: in.size, SHA256: in.sum, Gen: in.gen}})
}

// enqueue hands work to the apply goroutine, blocking while its queue is full.
func (d *Deployer) enqueue(ctx context.Context, o op) error {
	if !validName(o.name) {
		if o.tmp != "" {
			os.Remove(o.tmp)
		}
		return d.reject(o.from, o.name, fmt.Errorf("%w: %q", ErrBadName, o.name))
	}
	run := d.loopCtx()
	select {
	case d.ops <- o:
		return nil
	case <-ctx.Done():
	case <-run.Done():
	}
	if o.tmp != "" {
		os.Remove(o.tmp)
	}
	return ErrClosed
}

// applyLoop verifies and installs received bundles and applies undeploys,
// one at a time, in arrival order.
func (d *Deployer) applyLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			for {
				select {
				case o := <-d.ops:
					if o.tmp != "" {
						os.Remove(o.tmp)
					}
				default:
					return
				}
			}
		case o := <-d.ops:
			if o.uninstall {
				d.uninstallLocal(ctx, o.name, o.from)
				continue
			}
			err := d.installReceived(ctx, o)
			rep := message{Kind: kindReport, Name: o.name, SHA256: o.ent.SHA256, State: StateStarted}
			if err != nil {
				rep.State, rep.Error = StateFailed, err.Error()
			}
			d.sendLater(ctx, o.from, rep)
		}
	}
}

// installReceived verifies a received bundle, moves it into DeployDir and
// installs it. On any failure the previous version stays in place.
func (d *Deployer) installReceived(ctx context.Context, o op) error {
	size, sum, err := hashFile(o.tmp)
	if err != nil {
		os.Remove(o.tmp)
		return d.reject(o.from, o.name, err)
	}
	if size != o.ent.Size || !bytes.Equal(sum, o.ent.SHA256) {
		os.Remove(o.tmp)
		return d.reject(o.from, o.name, fmt.Errorf("%w: bundle %s: got %d bytes sha256 %x, announced %d bytes sha256 %x",
			ErrChecksum, o.name, size, sum, o.ent.Size, o.ent.SHA256))
	}
	d.mu.Lock()
	cur, have := d.installed[o.name]
	d.mu.Unlock()
	target := filepath.Join(d.cfg.DeployDir, o.name)
	if have && bytes.Equal(cur.SHA256, sum) {
		if _, err := os.Stat(target); err == nil {
			os.Remove(o.tmp)
			return nil // already installed
		}
	}
	if err := d.installFile(ctx, o.tmp, o.name); err != nil {
		return d.reject(o.from, o.name, err)
	}
	d.mu.Lock()
	d.installed[o.name] = installation{entry: o.ent, source: o.from}
	d.saveInstalled()
	d.stats.Received++
	d.mu.Unlock()
	d.log.Info().Str("member", o.from).Str("bundle", o.name).Int64("bytes", size).Msg("farmed bundle deployed")
	return nil
}

// installFile moves src into DeployDir as name and installs it, restoring
// the previous file when installation fails.
func (d *Deployer) installFile(ctx context.Context, src, name string) error {
	target := filepath.Join(d.cfg.DeployDir, name)
	prev := filepath.Join(d.cfg.DeployDir, "."+name+".prev")
	hadPrev := os.Rename(target, prev) == nil
	if err := moveInto(src, d.cfg.DeployDir, name); err != nil {
		os.Remove(src)
		if hadPrev {
			os.Rename(prev, target)
		}
		return fmt.Errorf("farmdeploy: move %s into %s: %w", name, d.cfg.DeployDir, err)
	}
	if err := d.inst.Install(ctx, target); err != nil {
		os.Remove(target)
		if hadPrev {
			os.Rename(prev, target)
		}
		return fmt.Errorf("farmdeploy: install %s: %w", name, err)
	}
	if hadPrev {
		os.Remove(prev)
	}
	return nil
}

// uninstallLocal undeploys a bundle and removes its file.
func (d *Deployer) uninstallLocal(ctx context.Context, name, from string) {
	target := filepath.Join(d.cfg.DeployDir, name)
	if _, err := os.Stat(target); err != nil {
		d.mu.Lock()
		delete(d.installed, name)
		d.saveInstalled()
		d.mu.Unlock()
		return
	}
	// Move the file aside first: the Host's own appBase poller would
	// otherwise deploy it again between the undeploy and the removal.
	aside := filepath.Join(d.cfg.DeployDir, "."+name+".removing")
	if err := os.Rename(target, aside); err != nil {
		d.log.Error().Err(err).Str("bundle", name).Msg("cannot remove undeployed bundle")
		aside = target
	}
	if err := d.inst.Uninstall(ctx, target); err != nil {
		d.log.Error().Err(err).Str("bundle", name).Msg("cannot undeploy bundle")
	}
	if err := os.Remove(aside); err != nil && !os.IsNotExist(err) {
		d.log.Error().Err(err).Str("bundle", name).Msg("cannot remove undeployed bundle")
	}
	d.mu.Lock()
	delete(d.installed, name)
	d.saveInstalled()
	d.stats.Undeployed++
	d.mu.Unlock()
	d.log.Info().Str("member", from).Str("bundle", name).Msg("farmed bundle undeployed")
}

// onManifest compares a watching node's manifest with what is installed
// here: it fetches what is missing or different and undeploys what that
// node installed here but no longer farms out (only what it installed
// before it took the manifest: entry.Gen <= the manifest's Gen).
func (d *Deployer) onManifest(from string, m message) {
	ctx := d.loopCtx()
	want := map[string]bool{}
	var fetch []string
	d.mu.Lock()
	d.answered[from] = true
	if m.State == stateNotWatching {
		d.mu.Unlock()
		return
	}
	for _, e := range m.Entries {
		if !validName(e.Name) {
			continue
		}
		want[e.Name] = true
		cur, ok := d.installed[e.Name]
		if ok && bytes.Equal(cur.SHA256, e.SHA256) {
			continue
		}
		if !ok {
			// Installed before this process started (or by hand): compare the file.
			if size, sum, err := hashFile(filepath.Join(d.cfg.DeployDir, e.Name)); err == nil && size == e.Size && bytes.Equal(sum, e.SHA256) {
				d.installed[e.Name] = installation{entry: e, source: from}
				d.saveInstalled()
				continue
			}
		}
		fetch = append(fetch, e.Name)
	}
	var gone []string
	for name, in := range d.installed {
		// A bundle pushed after the sender took this manifest (its
		// sendLater can overtake the push) is not gone: skip it.
		if in.source == from && !want[name] && in.entry.Gen <= m.Gen {
			gone = append(gone, name)
		}
	}
	d.mu.Unlock()
	for _, name := range fetch {
		d.log.Info().Str("member", from).Str("bundle", name).Msg("fetching missing farmed bundle")
		d.sendLater(ctx, from, message{Kind: kindFetch, Name: name})
	}
	for _, name := range gone {
		if err := d.enqueue(ctx, op{uninstall: true, name: name, from: from}); err != nil {
			return
		}
	}
}

// expireTransfers abandons transfers whose last chunk is older than MaxValidTime.
func (d *Deployer) expireTransfers() {
	if d.cfg.MaxValidTime < 0 {
		return
	}
	now := d.cfg.Now()
	d.mu.Lock()
	defer d.mu.Unlock()
	for k, in := range d.transfers {
		if now.Sub(in.last) > d.cfg.MaxValidTime {
			d.log.Warn().Str("member", k.from).Str("bundle", in.name).Int64("bytes", in.written).
				Dur("max_valid_time", d.cfg.MaxValidTime).Msg("farm transfer stalled; removing partial bundle")
			d.dropLocked(k, in)
			d.stats.Expired++
		}
	}
}
