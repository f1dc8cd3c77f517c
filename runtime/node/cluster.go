package node

import (
	"context"

	"github.com/rs/zerolog"

	"github.com/gomcat/gomcat/conf"
)

// clusterSeam is where SimpleTcpCluster plugs in (see doc.go). Today it
// only announces that clustering is not active; the valves are already
// installed on distributable contexts (no-ops over a LocalManager).
type clusterSeam struct {
	conf *conf.Cluster
	host *conf.Host // the Host the cluster serves; nil = every Host (Engine-level)
	log  zerolog.Logger
}

func newClusterSeam(c *conf.Cluster, h *conf.Host, log zerolog.Logger) *clusterSeam {
	return &clusterSeam{conf: c, host: h, log: log.With().Str("component", "cluster").Logger()}
}

// covers reports whether the cluster serves h's distributable contexts.
// An Engine-level Cluster covers every Host.
func (c *clusterSeam) covers(h *conf.Host) bool {
	return c.host == nil || c.host == h
}

func (c *clusterSeam) Start(context.Context) error {
	c.log.Warn().Msg("clustering is not active yet; sessions are local")
	return nil
}

func (c *clusterSeam) Stop(context.Context) error { return nil }
