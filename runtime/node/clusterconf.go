package node

import (
	"cmp"
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/rs/zerolog"

	"github.com/gomcat/gomcat/backupmgr"
	"github.com/gomcat/gomcat/conf"
	"github.com/gomcat/gomcat/deltamgr"
	"github.com/gomcat/gomcat/farmdeploy"
	"github.com/gomcat/gomcat/mcast"
	"github.com/gomcat/gomcat/runtime/cluster"
	"github.com/gomcat/gomcat/transport"
)

// This file maps the conf model onto each cluster package's own Config.
// No package but this one reads conf.Cluster.

// backgroundTick is the node's background period: Tomcat's Engine
// backgroundProcessorDelay (10 s there). A Manager's
// processExpiresFrequency and a Deployer's processDeployFrequency count
// these ticks, so Tomcat's defaults (6 and 2) expire idle sessions every
// 6 s and check the farm's watchDir every 2 s.
const backgroundTick = time.Second

// mcastConfig maps an McastService <Membership>. Local, Domain, Key and
// EstablishWait are set by runtime/cluster from cluster.Config.
func mcastConfig(m conf.Membership) mcast.Config {
	c := mcast.DefaultConfig()
	c.Address, c.Port, c.Bind, c.TTL = m.Address, m.Port, m.Bind, m.TTL
	c.Frequency, c.DropTime = m.Frequency, m.DropTime
	c.LocalLoopbackDisabled = m.LocalLoopbackDisabled
	if m.RecoveryCounter > 0 {
		c.RecoveryCounter = m.RecoveryCounter
	}
	if m.RecoverySleepTime > 0 {
		c.RecoverySleep = m.RecoverySleepTime
	}
	c.RecoveryDisabled = !m.RecoveryEnabled // conf fills Tomcat's default, true
	if m.MaxMembers > 0 {
		c.MaxMembers = m.MaxMembers
	}
	return c
}

// staticConfig maps a StaticMembershipService <Membership> (or the members
// of a StaticMembershipInterceptor). Member host names are resolved when
// resolve is set (at Start); New leaves them out.
func staticConfig(ctx context.Context, m conf.Membership, resolve bool) (mcast.StaticConfig, error) {
	c := mcast.DefaultStaticConfig()
	if m.ConnectTimeout > 0 {
		c.ConnectTimeout = m.ConnectTimeout
	}
	if m.ExpirationTime > 0 {
		c.ExpirationTime = m.ExpirationTime
	}
	if c.Interval >= c.ExpirationTime {
		c.Interval = c.ExpirationTime / 2
	}
	if !resolve {
		return c, nil
	}
	for _, sm := range m.Members {
		ip, err := resolveHost(ctx, sm.Host)
		if err != nil {
			return c, fmt.Errorf("node: %s: static <Member host=%q>: %w", sm.Pos, sm.Host, err)
		}
		mm := mcast.StaticMember{Host: ip.String(), Port: sm.Port}
		copy(mm.UniqueID[:], sm.UniqueID)
		c.Members = append(c.Members, mm)
	}
	return c, nil
}

// resolveHost returns host's address, IPv4 first.
func resolveHost(ctx context.Context, host string) (net.IP, error) {
	if ip := net.ParseIP(host); ip != nil {
		return ip, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	ips, err := net.DefaultResolver.LookupIP(ctx, "ip", host)
	if err != nil {
		return nil, err
	}
	for _, ip := range ips {
		if ip.To4() != nil {
			return ip, nil
		}
	}
	if len(ips) == 0 {
		return nil, fmt.Errorf("no address for %q", host)
	}
	return ips[0], nil
}

// transportConfig maps <Receiver> and <Sender><Transport>. Address "auto"
// is resolved by runtime/cluster (mcast.AdvertiseAddress); Self and Key
// are set by the cluster.
func transportConfig(cl *conf.Cluster) transport.Config {
	c := transport.DefaultConfig()
	c.Address = cl.Receiver.Address
	c.Port = cl.Receiver.Port
	c.AutoBind = cl.Receiver.AutoBind
	if cl.Receiver.MaxFrameSize > 0 {
		c.MaxFrameSize = cl.Receiver.MaxFrameSize
	}
	// One timeout bounds a send and a read stalled mid-frame: the larger of
	// the sender's and the receiver's.
	c.Timeout = max(cl.Sender.Transport.Timeout, cl.Receiver.Timeout, time.Millisecond)
	if cl.Sender.Transport.QueueBytes > 0 {
		c.MaxQueueBytes = cl.Sender.Transport.QueueBytes
	}
	if r := cl.Receiver; r.MaxConnections > 0 {
		c.MaxConnections = r.MaxConnections
		c.MaxConnectionsPerHost = min(c.MaxConnectionsPerHost, r.MaxConnections)
	}
	if r := cl.Receiver; r.MaxConnectionsPerHost > 0 {
		c.MaxConnectionsPerHost = r.MaxConnectionsPerHost
	}
	if r := cl.Receiver; r.MinFrameRate > 0 {
		c.MinFrameRate = r.MinFrameRate
	}
	return c
}

// failureDetector maps a TcpFailureDetector <Interceptor>; without one the
// cluster believes membership events unverified, as Tomcat does.
func failureDetector(cl *conf.Cluster) cluster.FailureDetectorConfig {
	fd := cluster.DefaultFailureDetectorConfig()
	fd.Enabled = false
	if cl.Membership.ClassName == conf.McastService && cl.Membership.Frequency > 0 {
		fd.RecheckInterval = cl.Membership.Frequency
	}
	for _, in := range cl.Interceptors {
		if in.ClassName != "TcpFailureDetector" {
			continue
		}
		fd.Enabled = true
		if ms, err := strconv.Atoi(in.Attrs["connectTimeout"]); err == nil && ms > 0 {
			fd.ConnectTimeout = time.Duration(ms) * time.Millisecond
		}
		// Tomcat's removeSuspectsTimeout (s) only when written: Gomcat's
		// default (30 s) removes suspects, Tomcat's (300 s) merely stops
		// re-checking them.
		if in.Has("removeSuspectsTimeout") {
			if s, err := strconv.Atoi(in.Attrs["removeSuspectsTimeout"]); err == nil && s > 0 {
				fd.SuspectTimeout = time.Duration(s) * time.Second
			}
		}
	}
	return fd
}

// membershipBind is the multicast interface the receiver's "auto" resolves
// against ("" for a static membership: the source address of the route to
// membershipTarget).
func membershipBind(cl *conf.Cluster) string {
	if cl.Membership.ClassName != conf.McastService {
		return ""
	}
	return cl.Membership.Bind
}

// membershipTarget is where the membership sends, the route "auto"
// follows: the first static member, or the multicast group.
func membershipTarget(cl *conf.Cluster) string {
	if cl.Membership.ClassName == conf.CloudMembershipService {
		return providerVia(cl.Membership.MembershipProvider, os.Getenv)
	}
	if cl.Membership.ClassName == conf.StaticMembershipService {
		if len(cl.Membership.Members) == 0 {
			return ""
		}
		return cl.Membership.Members[0].Host
	}
	return cl.Membership.Address
}

// receiverAdvertise is the address the receiver advertises, resolved as
// runtime/cluster does: its advertise attribute; else an explicit IP or
// name; "auto", "" and
// 0.0.0.0 mean the membership interface's address (for a static
// membership the source of the route to its first member).
func receiverAdvertise(cl *conf.Cluster) (net.IP, error) {
	if adv := cl.Receiver.Advertise; adv != "" {
		ip, _, err := conf.SplitAdvertise(adv)
		if err != nil {
			return nil, fmt.Errorf("node: Receiver advertise: %w", err)
		}
		return net.IP(ip.AsSlice()), nil
	}
	a := cl.Receiver.Address
	if ip := net.ParseIP(a); a == "" || ip != nil && ip.IsUnspecified() {
		a = "auto"
	}
	return mcast.AdvertiseAddress(membershipBind(cl), a, membershipTarget(cl))
}

// httpURL is the primary connector's address as peers and balancers can
// reach it: the connector's address when it names one, else the address
// the receiver advertises. "" when the connector port is chosen at start
// (port 0) or there is no connector.
func httpURL(s *conf.Server, advertise net.IP) string {
	c := s.Connector()
	if c == nil {
		return ""
	}
	return connectorURL(c, advertise, c.Port)
}

// connectorURL is the address of connector c bound to port (0: not known
// yet, ""), as httpURL describes; the connector's advertise attribute wins
// (with its port, when it has one).
func connectorURL(c *conf.Connector, advertise net.IP, port int) string {
	if port == 0 {
		return ""
	}
	host := c.Address
	if ip, p, err := conf.SplitAdvertise(c.Advertise); err == nil {
		host, port = ip.String(), cmp.Or(p, port) // a mapped port, else the bound one
	} else if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		if advertise == nil {
			return ""
		}
		host = advertise.String()
	}
	scheme := c.Scheme
	if scheme == "" {
		scheme = "http"
	}
	u := url.URL{Scheme: scheme, Host: net.JoinHostPort(host, strconv.Itoa(port))}
	return u.String()
}

// clusterConfig maps a <Cluster>. With resolve (Start) it resolves the
// advertised addresses and static members; without (New) it leaves them
// out so the config can be validated without I/O.
func clusterConfig(ctx context.Context, s *conf.Server, resolve bool, log zerolog.Logger) (cluster.Config, error) {
	cl := s.Cluster()
	c := cluster.DefaultConfig()
	c.Name = s.Engine().JvmRoute
	c.Domain = cl.Membership.Domain
	c.Transport = transportConfig(cl)
	c.Advertise = cl.Receiver.Advertise
	c.SendOptions = cl.ChannelSendOptions
	c.FailureDetector = failureDetector(cl)
	c.EstablishWait = cl.Membership.EstablishWait
	c.Key = cl.Key
	c.Logger = log
	switch cl.Membership.ClassName {
	case conf.StaticMembershipService:
		sc, err := staticConfig(ctx, cl.Membership, resolve)
		if err != nil {
			return c, err
		}
		c.Membership = cluster.Static{Config: sc}
		c.FailureDetector.RecheckInterval = sc.Interval
	case conf.CloudMembershipService:
		sc, via, err := cloudConfig(cl.Membership, os.Getenv)
		if err != nil {
			return c, err
		}
		c.Membership = cluster.Static{Config: sc, Via: via}
		c.FailureDetector.RecheckInterval = sc.Interval
	default:
		c.Membership = cluster.Multicast{Config: mcastConfig(cl.Membership)}
	}
	if resolve {
		ip, err := receiverAdvertise(cl)
		if err != nil {
			return c, fmt.Errorf("node: Receiver address %q: %w", cl.Receiver.Address, err)
		}
		c.HTTPURL = httpURL(s, ip)
	}
	return c, nil
}

// managerName is DeltaManager's name for a context: "<host>#<path>", ROOT
// "<host>#".
func managerName(hostName, path string) string {
	if path == "/" {
		path = ""
	}
	return hostName + "#" + path
}

// deltaConfig maps a DeltaManager model m (the cluster's <Manager>
// template or the context's own) onto one context's deltamgr.Config; cl
// gives the send options and the frame size. maxInactive is the context's
// session timeout (<= 0 never expires); maxActive the context's own limit
// (<= 0: m's).
func deltaConfig(cl *conf.Cluster, m *conf.Manager, name, route string, maxInactive time.Duration, maxActive int, log zerolog.Logger) deltamgr.Config {
	c := deltamgr.DefaultConfig(name)
	c.Route = route
	c.SendOptions = cl.ChannelSendOptions
	c.StateTransferTimeout = m.StateTransferTimeout
	c.StateTransferSeniorTimeout = m.StateTransferSeniorTimeout
	c.ReplicatePrincipal = m.ReplicatePrincipal
	if m.SendAllSessionsSize > 0 {
		c.SendAllSessionsSize = m.SendAllSessionsSize
	}
	// A chunk must fit in one frame with room to spare.
	if lim := cl.Receiver.MaxFrameSize / 2; lim > 0 && c.SendAllSessionsBytes > lim {
		c.SendAllSessionsBytes = lim
	}
	c.StateTimestampDrop = m.StateTimestampDrop
	c.ExpireSessionsOnShutdown = m.ExpireSessionsOnShutdown
	c.NotifyListenersOnReplication = m.NotifyListenersOnReplication
	c.NotifySessionListenersOnReplication = m.NotifySessionListenersOnReplication
	c.MaxActiveSessions, c.MaxSessionSize, c.SweepInterval = managerLimits(m, maxActive, c.SweepInterval)
	c.MaxInactive = maxInactive
	c.Logger = log
	return c
}

// managerLimits are the attributes both manager classes read: the
// session limit (the context's own when > 0), the session size bound and
// the sweep interval (sweep when processExpiresFrequency is unset).
func managerLimits(m *conf.Manager, maxActive int, sweep time.Duration) (maxActiveSessions, maxSessionSize int, sweepInterval time.Duration) {
	maxActiveSessions = m.MaxActiveSessions
	if maxActive > 0 {
		maxActiveSessions = maxActive
	}
	if m.ProcessExpiresFrequency > 0 {
		sweep = time.Duration(m.ProcessExpiresFrequency) * backgroundTick
	}
	return maxActiveSessions, max(m.MaxSessionSize, 0), sweep
}

// backupConfig maps a <Manager className="BackupManager"> (the cluster's
// template or the context's own) onto one context's backupmgr.Config,
// like deltaConfig.
func backupConfig(m *conf.Manager, name, route string, maxInactive time.Duration, maxActive int, log zerolog.Logger) backupmgr.Config {
	c := backupmgr.DefaultConfig(name)
	c.Route = route
	c.MapSendOptions = m.MapSendOptions
	c.RPCTimeout = m.RPCTimeout
	c.AccessTimeout = m.AccessTimeout
	c.TerminateOnStartFailure = m.TerminateOnStartFailure
	c.Backups = m.Backups
	c.RebalanceRate = m.RebalanceRate
	c.MaxActiveSessions, c.MaxSessionSize, c.SweepInterval = managerLimits(m, maxActive, c.SweepInterval)
	c.MaxInactive = maxInactive
	c.Logger = log
	return c
}

// farmConfig maps a <Deployer>; relative directories resolve against the
// home (abs), deployDir defaults to the cluster host's appBase.
func farmConfig(cl *conf.Cluster, appBase string, abs func(string) string, log zerolog.Logger) farmdeploy.Config {
	d := cl.Deployer
	c := farmdeploy.DefaultConfig()
	c.TempDir = abs(d.TempDir)
	c.DeployDir = abs(d.DeployDir)
	if c.DeployDir == "" {
		c.DeployDir = appBase
	}
	c.WatchDir = abs(d.WatchDir)
	c.WatchEnabled = d.WatchEnabled
	if d.ProcessDeployFrequency > 0 {
		c.Interval = time.Duration(d.ProcessDeployFrequency) * backgroundTick
	}
	c.MaxValidTime = d.MaxValidTime
	if c.MaxValidTime == 0 {
		c.MaxValidTime = -1 // Tomcat: 0 or less never expires
	}
	if d.MaxBundleSize > 0 {
		c.MaxBundleSize = d.MaxBundleSize
		c.DiskBudget = max(c.DiskBudget, 2*c.MaxBundleSize)
	}
	c.Senders = d.Senders
	if d.MaxTransfers > 0 {
		c.MaxTransfers = d.MaxTransfers
	}
	if d.DiskBudget > 0 {
		c.DiskBudget = d.DiskBudget
	}
	// A chunk must fit in one frame with room to spare.
	if lim := cl.Receiver.MaxFrameSize / 2; lim >= 1024 && c.ChunkSize > lim {
		c.ChunkSize = lim
	}
	c.Logger = log
	return c
}

// ObserverConfig maps the multicast membership of s's <Cluster> onto the
// mcast.Config of a silent Observer (`gomcat members`, the balancer): the
// group, bind, TTL, timings, domain and key. It fails without a cluster or
// with a static membership (there is nothing to listen to).
func ObserverConfig(s *conf.Server) (mcast.Config, error) {
	cl := s.Cluster()
	if cl == nil {
		return mcast.Config{}, ErrNoCluster
	}
	if cl.Membership.ClassName != conf.McastService {
		return mcast.Config{}, ErrStaticMembership
	}
	c := mcastConfig(cl.Membership)
	c.Domain = cl.Membership.Domain
	c.Key = cl.Key
	if cl.KeyFile != "" {
		keys, err := clusterKeys(cl, func(p string) string {
			if filepath.IsAbs(p) || s.Home == "" {
				return p
			}
			return filepath.Join(s.Home, p)
		})
		if err != nil {
			return c, err
		}
		c.Keys = keys
	}
	c.EstablishWait = 0
	return c, nil
}
