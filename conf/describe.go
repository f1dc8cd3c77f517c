package conf

import (
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Describe writes the effective configuration — every value, defaults
// included — in a stable, human-readable form (gomcat configtest). Secrets
// are not printed: the shutdown command and the cluster key show as set or
// default only.
func (s *Server) Describe(w io.Writer) {
	d := &describer{w: w}
	d.head(0, "Server")
	serverSpec.describe(d, 1, s)
	if a := s.Admin; a != nil { // only when configured: no line in older goldens
		admin := "disabled"
		if a.Port != -1 {
			admin = net.JoinHostPort(a.Address, strconv.Itoa(a.Port))
		}
		if a.TokenFile != "" {
			admin += " (token " + a.TokenFile + ")"
		}
		d.kv(1, "admin listener", admin)
	}
	if s.Home != "" {
		d.kv(1, "home", s.Home)
	}
	for _, svc := range s.Services {
		d.head(0, "Service "+svc.Name)
		for _, c := range svc.Connectors {
			d.connector(c)
		}
		for _, c := range svc.AJPConnectors {
			d.ajpConnector(c)
		}
		if e := svc.Engine; e != nil {
			d.engine(e)
		}
	}
}

type describer struct{ w io.Writer }

func (d *describer) head(depth int, s string) {
	fmt.Fprintf(d.w, "%s%s\n", strings.Repeat("  ", depth), s)
}

func (d *describer) kv(depth int, k string, v any) {
	fmt.Fprintf(d.w, "%s%-*s %v\n", strings.Repeat("  ", depth), 44-2*depth, k+":", v)
}

func ms(x time.Duration) string {
	if x < 0 {
		return "-1 (unlimited)"
	}
	return strconv.FormatInt(int64(x/time.Millisecond), 10) + " ms"
}

// capped is a limit: "-1 (off)" when negative (off says what that
// means), else n and its unit.
func capped(n int, unit, off string) string {
	if n < 0 {
		return "-1 (" + off + ")"
	}
	return strconv.Itoa(n) + unit
}

func secs(x time.Duration, negative string) string {
	if x < 0 {
		return "-1 (" + negative + ")"
	}
	return strconv.FormatInt(int64(x/time.Second), 10) + " s"
}

func bytesStr(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d (%d MiB)", n, n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d (%d KiB)", n, n>>10)
	}
	return strconv.FormatInt(n, 10)
}

func orText(s, empty string) string {
	if s == "" {
		return empty
	}
	return s
}

func (d *describer) connector(c *Connector) {
	d.head(1, fmt.Sprintf("Connector %s port %d", c.Protocol, c.Port))
	connectorSpec.describe(d, 2, c)
}

func (d *describer) engine(e *Engine) {
	d.head(1, "Engine "+e.Name)
	engineSpec.describe(d, 2, e)
	if e.Cluster != nil {
		served := "(no such host)"
		if h := e.Host(e.DefaultHost); h != nil {
			served = h.Name
		}
		d.cluster(2, e.Cluster, "Engine "+e.Name+", farm serves Host "+served)
	}
	for _, h := range e.Hosts {
		d.head(2, "Host "+h.Name)
		hostSpec.describe(d, 3, h)
		ctxs := slices.Clone(h.Contexts)
		slices.SortStableFunc(ctxs, func(a, b *Context) int { return strings.Compare(a.Path, b.Path) })
		for _, c := range ctxs {
			d.head(3, "Context "+c.Path)
			contextSpec.describe(d, 4, c)
			if c.Manager != nil {
				d.head(4, "Manager "+RedisManagerClass)
				redisManagerSpec.describe(d, 5, c.Manager)
			}
			if m := c.ClusterManager; m != nil {
				d.head(4, "Manager "+m.ClassName+" (the context's own; the Cluster's <Manager> does not apply)")
				managerSpec.describe(d, 5, m)
			}
		}
		if h.Cluster != nil {
			d.cluster(3, h.Cluster, "Host "+h.Name)
		}
	}
}

func (d *describer) cluster(n int, c *Cluster, where string) {
	d.head(n, "Cluster "+c.ClassName+" (in "+where+")")
	n++
	clusterSpec.describe(d, n, c)

	m := c.Manager
	d.head(n, "Manager "+m.ClassName)
	managerSpec.describe(d, n+1, &m)

	mb := c.Membership
	d.head(n, "Membership "+mb.ClassName)
	membershipSpec.describe(d, n+1, &mb)
	for _, sm := range mb.Members {
		d.staticMember(n+1, "Member", sm)
	}
	if mb.LocalMember != nil {
		d.staticMember(n+1, "LocalMember", mb.LocalMember)
	}

	r := c.Receiver
	d.head(n, "Receiver "+r.ClassName)
	receiverSpec.describe(d, n+1, &r)

	t := c.Sender.Transport
	d.head(n, "Sender "+c.Sender.ClassName+" / Transport "+t.ClassName)
	transportSpec.describe(d, n+1, &t)

	for _, in := range c.Interceptors {
		d.head(n, "Interceptor "+in.ClassName)
		keys := make([]string, 0, len(in.Attrs))
		for k := range in.Attrs {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			v := in.Attrs[k]
			if k == "encryptionKey" {
				v = "(set; not shown)"
			}
			d.kv(n+1, k, v)
		}
		for _, sm := range in.Members {
			d.staticMember(n+1, "Member", sm)
		}
	}
	if v := c.JvmRouteBinderValve; v != nil {
		d.head(n, "Valve JvmRouteBinderValve")
		jvmRouteBinderSpec.describe(d, n+1, v)
	}
	if v := c.ReplicationValve; v != nil {
		d.head(n, "Valve ReplicationValve")
		replicationValveSpec.describe(d, n+1, v)
	}
	if dp := c.Deployer; dp != nil {
		d.head(n, "Deployer "+dp.ClassName)
		deployerSpec.describe(d, n+1, dp)
	}
	for _, l := range c.Listeners {
		d.head(n, "ClusterListener "+l.ClassName)
	}
}

func (d *describer) staticMember(n int, what string, sm *StaticMember) {
	s := what + " " + net.JoinHostPort(sm.Host, strconv.Itoa(sm.Port))
	if sm.Domain != "" {
		s += fmt.Sprintf(" domain %q", sm.Domain)
	}
	if sm.UniqueID != nil {
		s += fmt.Sprintf(" uniqueId %x", sm.UniqueID)
	}
	d.head(n, s)
}
