package admin

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/gomcat/gomcat/farmdeploy"
)

// FarmView is what FarmCollector reads; *farmdeploy.Deployer has it.
type FarmView interface {
	Stats() farmdeploy.Stats
	Status() farmdeploy.Status
}

// FarmCollector exports the farm deployer's counters and its rollouts.
// get returns nil without a running deployer.
func FarmCollector(get func() FarmView) prometheus.Collector {
	m := &metricSet{}
	ops := m.desc(ns+"_farm_deploys_total", "Farm operations by result: deployed (from the watch dir), pushed, push_failed, received, rejected, expired, undeployed.", "result")
	bad := m.desc(ns+"_farm_bad_messages_total", "Farm messages that did not decode.")
	size := m.desc(ns+"_farm_bundle_bytes", "Size of each bundle this node farms out.", "bundle")
	members := m.desc(ns+"_farm_bundle_members", "Members per bundle and rollout state (transferring, started, failed, undeployed).", "bundle", "state")
	m.collect = func(e emitter) {
		f := get()
		if f == nil {
			return
		}
		st := f.Stats()
		for _, x := range []struct {
			n string
			v uint64
		}{{"deployed", st.Deployed}, {"pushed", st.Pushed}, {"push_failed", st.PushFailed}, {"received", st.Received},
			{"rejected", st.Rejected}, {"expired", st.Expired}, {"undeployed", st.Undeployed}} {
			e.counter(ops, x.v, x.n)
		}
		e.counter(bad, st.BadMessages)
		for _, b := range f.Status().Bundles {
			e.gauge(size, float64(b.Size), b.Name)
			n := map[string]int{}
			for _, ms := range b.Members {
				n[ms.State]++
			}
			for _, s := range []string{farmdeploy.StateTransferring, farmdeploy.StateStarted, farmdeploy.StateFailed, farmdeploy.StateUndeployed} {
				e.gauge(members, float64(n[s]), b.Name, s)
			}
		}
	}
	return m
}
