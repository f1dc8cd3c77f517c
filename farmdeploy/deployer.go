package farmdeploy

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/gomcat/gomcat/runtime/lifecycle"
	"github.com/rs/zerolog"

	"github.com/gomcat/gomcat/internal/burst"
)

// Deployer is a FarmWarDeployer. Create it with New, then Start it; wire
// Deliver to the cluster's farm channel.
type Deployer struct {
	cfg  Config
	cl   Cluster
	inst Installer
	log  zerolog.Logger
	ops  chan op // install/uninstall work, applied in order by one goroutine

	// live is the membership as the Subscribe events tell it (liveMu, a
	// leaf); memberCh wakes the loop after a change.
	liveMu   sync.Mutex
	live     map[string]bool
	memberCh chan struct{}

	mu        sync.Mutex
	run       lifecycle.Runner // Begin, Ready, Abort and End under mu; owns the goroutines
	transfers map[transferKey]*incoming
	byBundle  map[bundleKey]transferKey // the one transfer in flight per (sender, bundle)
	inflight  int64                     // announced bytes of the transfers in flight
	refuseLog *burst.Limiter            // refusals, logged once per burst
	watched   map[string]fileState      // watch dir observations, by name
	complete  map[string]bool           // watch dir files known complete (closed or renamed in)
	askedAt   time.Time                 // when this node last asked for manifests
	askEvery  time.Duration             // the pause before asking again (doubles)
	answered  map[string]bool           // members that answered a manifest request since Start
	bundles   map[string]entry          // what this node farms out, by name
	gen       uint64                    // the latest change of bundles (entry.Gen)
	installed map[string]installation   // farm-installed bundles on this node
	status    map[string]*BundleStatus
	members   map[string]bool
	pushes    map[pushKey]pushRun
	nextID    uint64
	stats     Stats
}

// Stats counts what the deployer did. All counters only grow.
type Stats struct {
	Deployed    uint64 // bundles deployed locally from the watch dir
	Pushed      uint64 // transfers completed to members
	PushFailed  uint64 // transfers to members that failed
	Received    uint64 // bundles received, verified and installed
	Rejected    uint64 // transfers refused (name, size, checksum, sender, install)
	Expired     uint64 // transfers abandoned after MaxValidTime
	Duplicates  uint64 // duplicate chunks ignored
	Undeployed  uint64 // bundles undeployed
	BadMessages uint64 // undecodable messages
	// Refused counts messages refused by the sender rules and bounds:
	// a sender not in Senders, a bundle owned by another member, over
	// MaxTransfers or DiskBudget (also counted in Rejected).
	Refused uint64
}

// bundleKey is one sender's bundle.
type bundleKey struct{ from, name string }

type transferKey struct {
	from string
	id   uint64
}

type pushKey struct{ member, name string }

// pushRun is a push in progress; id tells a replaced push from its successor.
type pushRun struct {
	id     uint64
	cancel context.CancelFunc
}

// incoming is a transfer being assembled in TempDir.
type incoming struct {
	from    string
	id      uint64
	name    string
	size    int64
	sum     []byte
	gen     uint64 // the sender's entry.Gen
	f       *os.File
	written int64
	next    int64
	last    time.Time
}

type fileState struct {
	size    int64
	mtime   time.Time
	handled bool // this observation was acted on
}

type installation struct {
	entry
	source string // the member that sent it
}

type op struct {
	uninstall bool
	name      string
	from      string
	tmp       string // verified temp file (install)
	ent       entry
}

// New validates cfg and returns a Deployer. It starts nothing.
func New(cfg Config, cl Cluster, inst Installer) (*Deployer, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cl == nil || inst == nil {
		return nil, errors.New("farmdeploy: cluster and installer are required")
	}
	return &Deployer{
		cfg:       cfg,
		cl:        cl,
		inst:      inst,
		log:       cfg.Logger.With().Str("component", "farmdeploy").Logger(),
		ops:       make(chan op, 64),
		transfers: map[transferKey]*incoming{},
		byBundle:  map[bundleKey]transferKey{},
		refuseLog: burst.NewN(0, 4),
		watched:   map[string]fileState{},
		complete:  map[string]bool{},
		answered:  map[string]bool{},
		bundles:   map[string]entry{},
		installed: map[string]installation{},
		status:    map[string]*BundleStatus{},
		members:   map[string]bool{},
		pushes:    map[pushKey]pushRun{},
		live:      map[string]bool{},
		memberCh:  make(chan struct{}, 1),
	}, nil
}

// Start creates the directories, asks the members for their manifests and
// starts the loop. It logs Tomcat's "Cluster FarmWarDeployer started.".
func (d *Deployer) Start(ctx context.Context) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	ctx, err := d.run.Begin()
	switch {
	case errors.Is(err, lifecycle.ErrClosed):
		return ErrClosed
	case err != nil: // started already
		return nil
	}
	for _, dir := range []string{d.cfg.TempDir, d.cfg.DeployDir, d.cfg.WatchDir} {
		if dir == "" {
			continue
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			d.run.Abort()
			return fmt.Errorf("farmdeploy: %w", err)
		}
	}
	d.cleanTemp()
	if err := d.loadInstalled(); err != nil {
		d.run.Abort()
		return fmt.Errorf("farmdeploy: %w", err)
	}
	context.AfterFunc(ctx, d.cl.Subscribe(d.onMember)) // fills live with the current members first
	d.members = d.liveMembers()
	var notes chan string
	if d.cfg.WatchEnabled {
		// Set up before Start returns, so no file dropped after it is missed.
		if n, err := newNotifier(d.cfg.WatchDir); err == nil {
			notes = make(chan string, 64)
			d.run.Go(func(context.Context) { n.run(notes) })
			context.AfterFunc(ctx, n.close)
		} else {
			d.log.Debug().Err(err).Msg("no file notifications; polling the watch dir")
		}
	}
	d.run.Go(d.applyLoop)
	d.run.Go(func(ctx context.Context) { d.loop(ctx, notes) })
	if d.cfg.WatchEnabled {
		d.log.Info().Str("watch_dir", d.cfg.WatchDir).Msg("Cluster FarmWarDeployer started.")
	} else {
		d.log.Info().Msg("Cluster FarmWarDeployer started.")
	}
	for m := range d.members {
		d.sendLater(ctx, m, message{Kind: kindManifestReq})
	}
	d.askedAt, d.askEvery = d.cfg.Now(), minManifestRetry
	d.run.Ready()
	return nil
}

// onMember is the membership subscription: it updates live and wakes the
// loop. Runs on the cluster's goroutine; never blocks.
func (d *Deployer) onMember(kind int, member string) {
	d.liveMu.Lock()
	if kind == memberLeft {
		delete(d.live, member)
	} else {
		d.live[member] = true
	}
	d.liveMu.Unlock()
	select {
	case d.memberCh <- struct{}{}:
	default: // a wake-up is pending; checkMembers reads live when it runs
	}
}

// liveMembers returns a copy of live.
func (d *Deployer) liveMembers() map[string]bool {
	d.liveMu.Lock()
	defer d.liveMu.Unlock()
	return maps.Clone(d.live)
}

// Stop cancels pushes and transfers in progress, removes their temporary
// files and waits for every goroutine. It is idempotent.
func (d *Deployer) Stop(ctx context.Context) error {
	d.mu.Lock()
	if d.run.End() == lifecycle.Stopped { // cancels every goroutine
		d.mu.Unlock()
		return nil
	}
	d.mu.Unlock()
	if err := d.run.Wait(ctx); err != nil {
		return fmt.Errorf("farmdeploy: stop: %w", err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for k, in := range d.transfers {
		d.dropLocked(k, in)
	}
	return nil
}

// Stats returns a copy of the counters.
func (d *Deployer) Stats() Stats {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.stats
}

// Status returns the rollout status of the bundles this node farms out.
func (d *Deployer) Status() Status {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.statusLocked()
}

func (d *Deployer) statusLocked() Status {
	s := Status{Self: d.cl.Self(), Updated: d.cfg.Now()}
	for m := range d.members {
		s.Members = append(s.Members, m)
	}
	sort.Strings(s.Members)
	for _, b := range d.status {
		c := *b
		c.Members = make(map[string]MemberStatus, len(b.Members))
		for k, v := range b.Members {
			c.Members[k] = v
		}
		s.Bundles = append(s.Bundles, c)
	}
	return s
}

// setStatus records a member's state for a bundle and rewrites the status
// file. Callers hold d.mu.
func (d *Deployer) setStatus(name string, ent entry, member, state, errText string) {
	b := d.status[name]
	if b == nil || (ent.SHA256 != nil && b.SHA256 != hex.EncodeToString(ent.SHA256)) {
		if ent.SHA256 == nil {
			return // a report for a bundle we no longer farm out
		}
		b = &BundleStatus{Name: name, Size: ent.Size, SHA256: hex.EncodeToString(ent.SHA256), Members: map[string]MemberStatus{}}
		d.status[name] = b
	}
	b.Members[member] = MemberStatus{State: state, Error: errText, At: d.cfg.Now()}
	if d.cfg.WatchEnabled {
		if err := writeStatus(d.cfg.TempDir, d.statusLocked()); err != nil {
			d.log.Warn().Err(err).Msg("cannot write farm status file")
		}
	}
}

// loop runs the periodic work: watch dir, stale transfers, member changes.
func (d *Deployer) loop(ctx context.Context, notes <-chan string) {
	t := time.NewTicker(d.cfg.Interval)
	defer t.Stop()
	if d.cfg.WatchEnabled {
		d.scanWatchDir(ctx)
	}
	for {
		select {
		case <-ctx.Done():
			return
		case name := <-notes:
			d.mu.Lock()
			d.complete[name] = true
			d.mu.Unlock()
			d.scanWatchDir(ctx)
			continue
		case <-d.memberCh:
			d.checkMembers(ctx)
			continue
		case <-t.C:
		}
		if d.cfg.WatchEnabled {
			d.scanWatchDir(ctx)
		}
		d.expireTransfers()
		d.checkMembers(ctx)
	}
}

// checkMembers notices joins and leaves (from the membership events): a
// watching node sends its manifest to new members; a node that had no
// members asks for manifests. On the ticker it only asks again.
func (d *Deployer) checkMembers(ctx context.Context) {
	now := slices.Sorted(maps.Keys(d.liveMembers()))
	d.mu.Lock()
	wasAlone := len(d.members) == 0
	cur := make(map[string]bool, len(now))
	var joined []string
	for _, m := range now {
		cur[m] = true
		if !d.members[m] {
			joined = append(joined, m)
		}
	}
	for m := range d.members {
		if cur[m] {
			continue
		}
		for k, p := range d.pushes {
			if k.member == m {
				p.cancel()
			}
		}
		for k, in := range d.transfers {
			if k.from == m {
				d.log.Warn().Str("member", m).Str("bundle", in.name).Msg("sender left mid-transfer; discarding partial bundle")
				d.dropLocked(k, in)
			}
		}
	}
	d.members = cur
	// A node that watches nothing asks again, less and less often, the
	// members that have not answered: its first request can reach a
	// watching node that has not verified it as a member yet, and a
	// manifest sent before this deployer started is lost.
	var ask []string
	if !d.cfg.WatchEnabled && d.cfg.Now().Sub(d.askedAt) >= d.askEvery {
		for _, m := range now {
			if !d.answered[m] {
				ask = append(ask, m)
			}
		}
		if len(ask) > 0 {
			d.askedAt = d.cfg.Now()
			d.askEvery = min(2*d.askEvery, maxManifestRetry)
		}
	}
	d.mu.Unlock()
	for _, m := range joined {
		if d.cfg.WatchEnabled {
			d.sendManifest(ctx, m)
		} else if wasAlone && len(ask) == 0 {
			d.sendLater(ctx, m, message{Kind: kindManifestReq})
		}
	}
	for _, m := range ask {
		d.sendLater(ctx, m, message{Kind: kindManifestReq})
	}
}

// The pause before a node asks a silent member for its manifest again
// starts at minManifestRetry and doubles up to maxManifestRetry.
const (
	minManifestRetry = 3 * time.Second
	maxManifestRetry = time.Minute
)

// nextGenLocked returns a new, larger generation for a change of bundles;
// d.mu held.
func (d *Deployer) nextGenLocked() uint64 {
	d.gen = max(d.gen+1, uint64(d.cfg.Now().UnixNano()))
	return d.gen
}

// sendLater sends msg to one member on its own goroutine, logging failure.
func (d *Deployer) sendLater(ctx context.Context, to string, m message) {
	b := encode(m)
	d.run.Go(func(context.Context) {
		sctx, cancel := context.WithTimeout(ctx, d.cfg.SendTimeout)
		defer cancel()
		if err := d.cl.Send(sctx, to, b, optAsync); err != nil && ctx.Err() == nil {
			d.log.Warn().Err(err).Str("member", to).Stringer("kind", m.Kind).Msg("farm message not sent")
		}
	})
}

func (d *Deployer) sendManifest(ctx context.Context, to string) {
	d.mu.Lock()
	m := message{Kind: kindManifest, Gen: d.gen}
	for _, e := range d.bundles {
		m.Entries = append(m.Entries, e)
	}
	d.mu.Unlock()
	sort.Slice(m.Entries, func(i, j int) bool { return m.Entries[i].Name < m.Entries[j].Name })
	d.sendLater(ctx, to, m)
}

// Deliver handles one farm message from a member. It is safe for
// concurrent use; messages from one sender must be delivered in order.
func (d *Deployer) Deliver(ctx context.Context, from string, b []byte) error {
	m, err := decode(b)
	if err != nil {
		d.mu.Lock()
		d.stats.BadMessages++
		d.mu.Unlock()
		d.log.Warn().Err(err).Str("member", from).Msg("dropping undecodable farm message")
		return err
	}
	d.mu.Lock()
	if d.run.State() != lifecycle.Running {
		d.mu.Unlock()
		return ErrClosed
	}
	if !d.isMember(from) {
		d.stats.Rejected++
		d.mu.Unlock()
		d.log.Warn().Str("member", from).Stringer("kind", m.Kind).Msg("refusing farm message from a non-member")
		return ErrNotMember
	}
	d.mu.Unlock()
	switch m.Kind {
	case kindStart:
		return d.onStart(from, m)
	case kindChunk:
		return d.onChunk(from, m)
	case kindEnd:
		return d.onEnd(ctx, from, m)
	case kindUndeploy:
		if err := d.mayChange(from, m.Name); err != nil {
			return d.refuse(from, m.Name, err)
		}
		return d.enqueue(ctx, op{uninstall: true, name: m.Name, from: from})
	case kindManifest:
		if m.State != stateNotWatching && !d.allowed(from) {
			return d.refuse(from, "", fmt.Errorf("%w: manifest from %s", ErrNotSender, from))
		}
		d.onManifest(from, m)
	case kindManifestReq:
		if d.cfg.WatchEnabled {
			d.sendManifest(d.loopCtx(), from)
		} else {
			// An answer all the same, so that the asker stops asking.
			d.sendLater(d.loopCtx(), from, message{Kind: kindManifest, State: stateNotWatching})
		}
	case kindFetch:
		d.onFetch(from, m)
	case kindReport:
		d.mu.Lock()
		if e, ok := d.bundles[m.Name]; ok && bytes.Equal(e.SHA256, m.SHA256) {
			d.setStatus(m.Name, e, from, m.State, m.Error)
		}
		d.mu.Unlock()
		if m.State == StateFailed {
			d.log.Error().Str("member", from).Str("bundle", m.Name).Str("error", m.Error).Msg("member failed to deploy bundle")
		}
	}
	return nil
}

// isMember reports whether from is a live member. Callers hold d.mu.
func (d *Deployer) isMember(from string) bool {
	if d.members[from] {
		return true
	}
	for _, m := range d.cl.Members() {
		if m == from {
			d.members[from] = true
			return true
		}
	}
	return false
}

// loopCtx returns a context that ends at Stop.
func (d *Deployer) loopCtx() context.Context {
	return d.run.Context()
}

func (d *Deployer) reject(from, name string, err error) error {
	d.mu.Lock()
	d.stats.Rejected++
	d.mu.Unlock()
	if ok, n := d.refuseLog.Allow(d.cfg.Now()); ok {
		d.log.Error().Err(err).Str("member", from).Str("bundle", name).Uint64("suppressed", n).Msg("rejected farmed bundle")
	}
	return err
}

// refuse is reject for the sender rules and bounds (also Stats.Refused).
func (d *Deployer) refuse(from, name string, err error) error {
	d.mu.Lock()
	d.stats.Refused++
	d.mu.Unlock()
	return d.reject(from, name, err)
}

// allowed reports whether from may deploy, undeploy and send manifests.
func (d *Deployer) allowed(from string) bool {
	return len(d.cfg.Senders) == 0 || slices.Contains(d.cfg.Senders, from)
}

// mayChange reports why from may not install or remove bundle name: it is
// not an allowed sender, or the bundle here came from another member.
func (d *Deployer) mayChange(from, name string) error {
	if !d.allowed(from) {
		return fmt.Errorf("%w: %s", ErrNotSender, from)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if in, ok := d.installed[name]; ok && in.source != "" && in.source != from {
		return fmt.Errorf("%w: %s was deployed from %s", ErrNotOwner, name, in.source)
	}
	return nil
}

// dropLocked abandons transfer k, removing its temporary file. d.mu is held.
func (d *Deployer) dropLocked(k transferKey, in *incoming) {
	in.abort()
	delete(d.transfers, k)
	if bk := (bundleKey{k.from, in.name}); d.byBundle[bk] == k {
		delete(d.byBundle, bk)
	}
	d.inflight -= in.size
}

func (in *incoming) abort() {
	if in.f != nil {
		in.f.Close()
		os.Remove(in.f.Name())
		in.f = nil
	}
}

// cleanTemp removes partial transfers left by an earlier crash.
func (d *Deployer) cleanTemp() {
	ents, err := os.ReadDir(d.cfg.TempDir)
	if err != nil {
		return
	}
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".farm-") && strings.HasSuffix(e.Name(), ".part") {
			os.Remove(filepath.Join(d.cfg.TempDir, e.Name()))
		}
	}
}
