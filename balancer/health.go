package balancer

import (
	"context"
	"io"
	"net/http"
	"time"
)

// checkState is the run of consecutive check results; guarded by node.mu.
type checkState struct {
	okRun, failRun int
	checkedOnce    bool
}

// runChecker is one node's checker goroutine. It probes on every Interval
// tick while the node is actively checked, or while it is passively down,
// and exits when ctx ends (node replaced, or balancer stopped).
func (b *Balancer) runChecker(ctx context.Context, n *node) {
	t := time.NewTicker(b.cfg.Health.Interval)
	defer t.Stop()
	if n.checked || n.unverified {
		b.record(n, b.probe(ctx, n))
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		n.mu.Lock()
		need := (n.checked || n.passiveDown || n.unverified || n.moveTo != nil) && n.present && !n.leaving
		n.mu.Unlock()
		if need {
			b.record(n, b.probe(ctx, n))
		}
	}
}

// probe GETs the health path; any status below 500 is healthy.
func (b *Balancer) probe(ctx context.Context, n *node) error {
	ctx, cancel := context.WithTimeout(ctx, b.cfg.Health.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, n.url.String()+b.cfg.Health.Path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("User-Agent", "gomcat-balancer/health")
	resp, err := b.checkClient.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	if resp.StatusCode >= 500 {
		return &statusError{code: resp.StatusCode}
	}
	return nil
}

type statusError struct{ code int }

func (e *statusError) Error() string { return "health check status " + http.StatusText(e.code) }

// record applies one check result: Fall failures take a checked node down,
// Rise successes bring it (or a passively failed node) back. A checked node's
// first ever good check makes it live at once.
func (b *Balancer) record(n *node, err error) {
	h := b.cfg.Health
	n.mu.Lock()
	cs := &n.check
	verified := false
	var move *Event
	if err == nil {
		cs.okRun++
		cs.failRun = 0
		if n.unverified {
			n.unverified, n.healthy, verified = false, true, true
		}
		if n.checked && !n.healthy && (cs.okRun >= h.Rise || !cs.checkedOnce) {
			n.healthy = true
		}
		if n.passiveDown && cs.okRun >= h.Rise {
			n.passiveDown = false
		}
	} else {
		cs.failRun++
		cs.okRun = 0
		if n.checked && n.healthy && cs.failRun >= h.Fall {
			n.healthy = false
		}
		if n.moveTo != nil && cs.failRun >= h.Fall {
			move, n.moveTo = n.moveTo, nil
			n.passiveDown = true // not live, so the move is no longer held
		}
	}
	cs.checkedOnce = true
	was, now := n.update()
	n.mu.Unlock()
	if verified {
		b.log.Info().Str("node", n.name).Str("url", n.url.String()).Msg("node verified: its advertised URL answers")
	}
	if move != nil {
		b.log.Warn().Str("node", n.name).Str("old_url", n.url.String()).Str("url", move.URL).
			Msg("node moved: the old URL fails its checks, trying the one its heartbeat advertises")
		b.apply(*move) // replaces this node (and ends this checker)
	}
	switch {
	case !was && now:
		b.log.Info().Str("node", n.name).Str("url", n.url.String()).Msg("node live")
	case was && !now:
		b.log.Warn().Str("node", n.name).Str("url", n.url.String()).Err(err).Msg("node down: failing health checks")
		n.closeIdle()
	}
}

// markFailed is passive health: a connection to n failed, so n takes no new
// requests until a recovery probe (or an active check) passes Rise times.
func (b *Balancer) markFailed(n *node, err error) {
	n.mu.Lock()
	n.check.okRun = 0
	n.passiveDown = true
	was, now := n.update()
	n.mu.Unlock()
	if was && !now {
		b.log.Warn().Str("node", n.name).Str("url", n.url.String()).Err(err).Msg("node down: connection failed")
		n.closeIdle()
	}
}
