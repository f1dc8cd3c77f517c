package cluster

import "github.com/gomcat/gomcat/mcast"

// MembershipStats returns the membership's counters (heartbeats sent,
// received, rejected; mcast.Stats), zero before Start.
func (c *Cluster) MembershipStats() mcast.Stats {
	c.mu.Lock()
	m := c.members
	c.mu.Unlock()
	if m == nil {
		return mcast.Stats{}
	}
	return m.Stats()
}
