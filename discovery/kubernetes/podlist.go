package kubernetes

import (
	"encoding/json"
	"fmt"
	"net/netip"

	"github.com/gomcat/gomcat/discovery"
)

// podList is the part of a v1 PodList the provider reads.
type podList struct {
	Kind  string `json:"kind"`
	Items []struct {
		Kind     string `json:"kind"`
		Metadata struct {
			Name string `json:"name"`
		} `json:"metadata"`
		Status struct {
			Phase  string `json:"phase"`
			PodIP  string `json:"podIP"`
			PodIPs []struct {
				IP string `json:"ip"`
			} `json:"podIPs"`
		} `json:"status"`
	} `json:"items"`
}

// parsePods reads a PodList and returns a target for every IP of every pod
// that is Running and has one (status.podIP and each status.podIPs entry,
// without duplicates), with port. Pods of another kind, without a name, or
// whose IPs don't parse are skipped: their count is returned.
func parsePods(body []byte, port int) (ts []discovery.Target, skipped int, err error) {
	var l podList
	if err := json.Unmarshal(body, &l); err != nil {
		return nil, 0, fmt.Errorf("kubernetes: decode pod list: %w", err)
	}
	if l.Kind != "PodList" && l.Kind != "" {
		return nil, 0, fmt.Errorf("kubernetes: decode pod list: kind %q, want PodList", l.Kind)
	}
	for _, p := range l.Items {
		if (p.Kind != "" && p.Kind != "Pod") || p.Metadata.Name == "" || p.Status.Phase != "Running" {
			skipped++
			continue
		}
		var seen []netip.Addr
		add := func(s string) {
			a, err := netip.ParseAddr(s)
			if err != nil || a.Zone() != "" {
				return
			}
			a = a.Unmap()
			for _, b := range seen {
				if a == b {
					return
				}
			}
			seen = append(seen, a)
			ts = append(ts, discovery.Target{Addr: a, Port: port})
		}
		add(p.Status.PodIP)
		for _, ip := range p.Status.PodIPs {
			add(ip.IP)
		}
		if len(seen) == 0 {
			skipped++
		}
	}
	return ts, skipped, nil
}

// apiStatus is the v1 Status the API answers errors with.
type apiStatus struct {
	Message string `json:"message"`
	Reason  string `json:"reason"`
}

// statusMessage is the API's explanation of an error answer, "" if body is
// not a Status.
func statusMessage(body []byte) string {
	var s apiStatus
	if json.Unmarshal(body, &s) != nil {
		return ""
	}
	if s.Message != "" {
		return s.Message
	}
	return s.Reason
}
