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
	shutdown := "disabled"
	if s.Port != -1 {
		shutdown = net.JoinHostPort(s.Address, strconv.Itoa(s.Port))
	}
	d.kv(1, "shutdown port", shutdown)
	cmd := "default"
	if s.Shutdown != DefaultShutdownCommand {
		cmd = "custom (not shown)"
	}
	d.kv(1, "shutdown command", cmd)
	if s.LogFile != "" { // only when configured: no line in older goldens
		d.kv(1, "log file", s.LogFile)
	}
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
	d.kv(2, "address", orText(c.Address, "all interfaces"))
	d.kv(2, "connectionTimeout", ms(c.ConnectionTimeout))
	d.kv(2, "keepAliveTimeout", ms(c.KeepAliveTimeout))
	d.kv(2, "maxThreads", c.MaxThreads)
	d.kv(2, "maxHttpHeaderSize", c.MaxHTTPHeaderSize)
	d.kv(2, "maxHeaderCount", capped(c.MaxHeaderCount, "", "no limit"))
	d.kv(2, "maxConnections", capped(c.MaxConnections, "", "no limit"))
	d.kv(2, "disableUploadTimeout", c.DisableUploadTimeout)
	if !c.DisableUploadTimeout {
		d.kv(2, "connectionUploadTimeout", ms(c.ConnectionUploadTimeout))
	}
	d.kv(2, "minUploadRate", capped(c.MinUploadRate, " bytes/s", "no minimum"))
	d.kv(2, "scheme", c.Scheme)
	d.kv(2, "secure", c.Secure)
	d.kv(2, "SSLEnabled", c.SSLEnabled)
	if c.SSLEnabled {
		d.kv(2, "certificateFile", c.CertificateFile)
		d.kv(2, "certificateKeyFile", c.CertificateKeyFile)
	}
}

func (d *describer) engine(e *Engine) {
	d.head(1, "Engine "+e.Name)
	d.kv(2, "defaultHost", e.DefaultHost)
	d.kv(2, "jvmRoute", orText(e.JvmRoute, "(none)"))
	if e.Cluster != nil {
		served := "(no such host)"
		if h := e.Host(e.DefaultHost); h != nil {
			served = h.Name
		}
		d.cluster(2, e.Cluster, "Engine "+e.Name+", farm serves Host "+served)
	}
	for _, h := range e.Hosts {
		d.head(2, "Host "+h.Name)
		d.kv(3, "appBase", h.AppBase)
		d.kv(3, "autoDeploy", h.AutoDeploy)
		d.kv(3, "unpackWARs", h.UnpackWARs)
		ctxs := slices.Clone(h.Contexts)
		slices.SortStableFunc(ctxs, func(a, b *Context) int { return strings.Compare(a.Path, b.Path) })
		for _, c := range ctxs {
			d.head(3, "Context "+c.Path)
			d.kv(4, "docBase", c.DocBase)
			d.kv(4, "distributable", c.Distributable)
			timeout := "never expires"
			if c.SessionTimeout > 0 {
				timeout = fmt.Sprintf("%d min", c.SessionTimeout/time.Minute)
			}
			d.kv(4, "sessionTimeout", timeout)
			d.kv(4, "app", orText(c.App, "(none: static files)"))
			d.kv(4, "source", c.Pos)
		}
		if h.Cluster != nil {
			d.cluster(3, h.Cluster, "Host "+h.Name)
		}
	}
}

func (d *describer) cluster(n int, c *Cluster, where string) {
	d.head(n, "Cluster "+c.ClassName+" (in "+where+")")
	n++
	d.kv(n, "channelSendOptions", fmt.Sprintf("%d (%s)", c.ChannelSendOptions, FormatSendOptions(c.ChannelSendOptions)))
	d.kv(n, "channelStartOptions", c.ChannelStartOptions)
	key := "none (cluster traffic is not sealed)"
	switch {
	case c.Key != nil:
		key = fmt.Sprintf("set (%d bytes, AES-GCM; not shown)", len(c.Key))
	case c.KeyFile != "":
		key = "from keyFile " + c.KeyFile
	}
	d.kv(n, "key", key)
	if c.Insecure {
		d.kv(n, "insecure", "true (may run off loopback without a key)")
	}

	m := c.Manager
	d.head(n, "Manager "+m.ClassName)
	d.kv(n+1, "stateTransferTimeout", secs(m.StateTransferTimeout, "wait forever"))
	d.kv(n+1, "stateTransferSeniorTimeout", secs(m.StateTransferSeniorTimeout, "no per-senior limit"))
	d.kv(n+1, "replicatePrincipal", m.ReplicatePrincipal)
	d.kv(n+1, "sendAllSessions", m.SendAllSessions)
	d.kv(n+1, "sendAllSessionsSize", m.SendAllSessionsSize)
	d.kv(n+1, "sendAllSessionsWaitTime", ms(m.SendAllSessionsWaitTime)+" (accepted; Gomcat does not pause)")
	d.kv(n+1, "stateTimestampDrop", m.StateTimestampDrop)
	d.kv(n+1, "expireSessionsOnShutdown", m.ExpireSessionsOnShutdown)
	d.kv(n+1, "notifyListenersOnReplication", m.NotifyListenersOnReplication)
	d.kv(n+1, "notifySessionListenersOnReplication", m.NotifySessionListenersOnReplication)
	d.kv(n+1, "maxActiveSessions", m.MaxActiveSessions)
	d.kv(n+1, "maxSessionSize", bytesStr(int64(m.MaxSessionSize)))
	d.kv(n+1, "recordAllActions", m.RecordAllActions)
	d.kv(n+1, "processExpiresFrequency", m.ProcessExpiresFrequency)

	mb := c.Membership
	d.head(n, "Membership "+mb.ClassName)
	if mb.ClassName == McastService {
		d.kv(n+1, "address", mb.Address)
		d.kv(n+1, "port", mb.Port)
		d.kv(n+1, "frequency", ms(mb.Frequency))
		d.kv(n+1, "dropTime", ms(mb.DropTime))
		d.kv(n+1, "bind", orText(mb.Bind, "(default interface)"))
		ttl := strconv.Itoa(mb.TTL)
		if mb.TTL == -1 {
			ttl = "-1 (system default)"
		}
		d.kv(n+1, "ttl", ttl)
		d.kv(n+1, "soTimeout", ms(mb.SoTimeout))
		d.kv(n+1, "localLoopbackDisabled", mb.LocalLoopbackDisabled)
		d.kv(n+1, "recovery", fmt.Sprintf("%t (after %d errors, every %s)", mb.RecoveryEnabled, mb.RecoveryCounter, ms(mb.RecoverySleepTime)))
	} else {
		d.kv(n+1, "connectTimeout", ms(mb.ConnectTimeout))
		d.kv(n+1, "expirationTime", ms(mb.ExpirationTime))
		d.kv(n+1, "rpcTimeout", ms(mb.RPCTimeout))
	}
	domain := "(none)"
	if mb.Domain != "" {
		domain = strconv.Quote(mb.Domain)
	}
	d.kv(n+1, "domain", domain)
	if mb.EstablishWait == 0 {
		d.kv(n+1, "establishWait", "0 ms (fast join: solicit heartbeats, wait for the answers)")
	} else {
		d.kv(n+1, "establishWait", ms(mb.EstablishWait))
	}
	for _, sm := range mb.Members {
		d.staticMember(n+1, "Member", sm)
	}
	if mb.LocalMember != nil {
		d.staticMember(n+1, "LocalMember", mb.LocalMember)
	}

	r := c.Receiver
	d.head(n, "Receiver "+r.ClassName)
	d.kv(n+1, "address", r.Address)
	d.kv(n+1, "port", fmt.Sprintf("%d (autoBind %d: up to %d)", r.Port, r.AutoBind, r.Port+r.AutoBind-1))
	d.kv(n+1, "selectorTimeout", ms(r.SelectorTimeout))
	d.kv(n+1, "maxThreads", r.MaxThreads)
	d.kv(n+1, "minThreads", r.MinThreads)
	d.kv(n+1, "timeout", ms(r.Timeout))
	d.kv(n+1, "maxFrameSize", bytesStr(int64(r.MaxFrameSize)))

	t := c.Sender.Transport
	d.head(n, "Sender "+c.Sender.ClassName+" / Transport "+t.ClassName)
	d.kv(n+1, "timeout", ms(t.Timeout))
	d.kv(n+1, "maxRetryAttempts", t.MaxRetryAttempts)
	d.kv(n+1, "poolSize", t.PoolSize)
	d.kv(n+1, "maxWait", ms(t.MaxWait))
	d.kv(n+1, "keepAliveCount", t.KeepAliveCount)
	d.kv(n+1, "keepAliveTime", ms(t.KeepAliveTime))
	d.kv(n+1, "queueBytes", bytesStr(int64(t.QueueBytes)))

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
		d.kv(n+1, "enabled", v.Enabled)
	}
	if v := c.ReplicationValve; v != nil {
		d.head(n, "Valve ReplicationValve")
		d.kv(n+1, "filter", orText(v.Filter, "(none: every request replicates)"))
		d.kv(n+1, "primaryIndicator", v.PrimaryIndicator)
		d.kv(n+1, "primaryIndicatorName", v.PrimaryIndicatorName)
	}
	if dp := c.Deployer; dp != nil {
		d.head(n, "Deployer "+dp.ClassName)
		d.kv(n+1, "tempDir", dp.TempDir)
		d.kv(n+1, "deployDir", dp.DeployDir)
		d.kv(n+1, "watchDir", orText(dp.WatchDir, "(none)"))
		d.kv(n+1, "watchEnabled", dp.WatchEnabled)
		d.kv(n+1, "processDeployFrequency", dp.ProcessDeployFrequency)
		d.kv(n+1, "maxValidTime", secs(dp.MaxValidTime, "never expires"))
		d.kv(n+1, "maxBundleSize", bytesStr(dp.MaxBundleSize))
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
