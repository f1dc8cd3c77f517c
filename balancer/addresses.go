package balancer

import (
	"context"
	"net"
	"slices"
	"strings"
	"time"
)

// Addresses returns a Discovery of nodes known only by address, as DNS or
// the Kubernetes pod list give them (the nodes' own membership decides who
// is a member; the balancer only needs where to send requests). resolve is
// asked every interval for the nodes' HTTP host:port list; a new address is
// reported NodeUp (health-checked, so it takes requests after its first good
// check), one gone from the answer NodeDown. A failed resolve keeps the
// previous list. Each node is named by its address ("198.18.0.2-8091") until
// the balancer learns its jvmRoute from the session cookies of its responses
// (see LearnRoutes), so sticky routing follows from the first response on.
func Addresses(resolve func(ctx context.Context) ([]string, error), interval time.Duration) Discovery {
	return addresses{resolve: resolve, interval: interval}
}

type addresses struct {
	resolve  func(ctx context.Context) ([]string, error)
	interval time.Duration
}

func (a addresses) Run(ctx context.Context, emit func(Event)) error {
	known := map[string]bool{}
	t := time.NewTicker(a.interval)
	defer t.Stop()
	for {
		rctx, cancel := context.WithTimeout(ctx, a.interval)
		hosts, err := a.resolve(rctx)
		cancel()
		if err == nil {
			for _, ev := range diffAddresses(known, hosts) {
				emit(ev)
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// diffAddresses updates known (address → present) to hosts and returns the
// events of the change, in address order.
func diffAddresses(known map[string]bool, hosts []string) []Event {
	now := map[string]bool{}
	for _, h := range hosts {
		if _, _, err := net.SplitHostPort(h); err == nil {
			now[h] = true
		}
	}
	var evs []Event
	for _, h := range slices.Sorted(mapKeys(now)) {
		if !known[h] {
			known[h] = true
			evs = append(evs, Event{Kind: NodeUp, Name: AddressName(h), URL: "http://" + h, Checked: true})
		}
	}
	for _, h := range slices.Sorted(mapKeys(known)) {
		if !now[h] {
			delete(known, h)
			evs = append(evs, Event{Kind: NodeDown, Name: AddressName(h)})
		}
	}
	return evs
}

func mapKeys(m map[string]bool) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// AddressName is the node name Addresses gives host:port: the address with
// the characters a jvmRoute cannot hold replaced ("198.18.0.2:8091" →
// "198.18.0.2-8091", "[fd00::2]:8091" → "fd00--2-8091").
func AddressName(hostport string) string {
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		return ""
	}
	return strings.ReplaceAll(host, ":", "-") + "-" + port
}

// learnRoute records, from a response of node n, the jvmRoute its session
// cookie names, when that route is not n's name: requests for that route
// then go to n.
func (b *Balancer) learnRoute(n *node, h map[string][]string) {
	for _, line := range h["Set-Cookie"] {
		name, rest, ok := strings.Cut(line, "=")
		if !ok || strings.TrimSpace(name) != b.cfg.CookieName {
			continue
		}
		val, _, _ := strings.Cut(rest, ";")
		rt := RouteOf(strings.Trim(strings.TrimSpace(val), `"`))
		if rt == "" || rt == n.name || !ValidRoute(rt) {
			continue
		}
		if b.pool.learn(rt, n.name) {
			b.log.Info().Str("route", rt).Str("node", n.name).Str("url", n.url.String()).Msg("route learned: " + rt + " is " + n.url.Host)
		}
	}
}
