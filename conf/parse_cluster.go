package conf

import (
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// legacy holds Tomcat 5.5 sender settings that become channelSendOptions
// once the whole <Cluster> has been read.
type legacy struct {
	mode       string
	modePos    Pos
	waitForAck *bool
}

// cluster reads a <Cluster> of either generation and expands what is not
// written to Tomcat's modern defaults (§7.2).
func (p *parser) cluster(e *elem) *Cluster {
	c := newCluster()
	c.Pos = e.pos
	if cn, pos, ok := e.className(); ok {
		if _, ok := resolve(clusterClasses, cn); !ok {
			p.errorf(pos, e.name, "className", "unsupported class %s (supported: %s)", cn, supported(clusterClasses))
		}
	}
	var (
		old                             legacy
		sawInterceptor, sawValve, sawCL bool
		keyAt                           Pos
	)
	mgr := p.managerFields(&c.Manager)
	fs := fields{
		"channelSendOptions": {set: func(p *parser, e *elem, a attr) {
			n, err := ParseSendOptions(a.value)
			switch {
			case err != nil:
				p.errorf(a.pos, e.name, a.name, "%v", err)
			case n == 0:
				p.warnf(a.pos, e.name, a.name, "0 ignored, as in Tomcat (keeps %d)", c.ChannelSendOptions)
			default:
				c.ChannelSendOptions = n
			}
		}},
		"channelStartOptions": fInt(&c.ChannelStartOptions),
		"key": {set: func(p *parser, e *elem, a attr) {
			k, err := ParseKey(a.value)
			if err != nil {
				p.errorf(a.pos, e.name, a.name, "%v", err)
				return
			}
			c.Key, keyAt = k, a.pos
		}},
		"keyFile":  fStr(&c.KeyFile),
		"insecure": fBool(&c.Insecure),
		// Tomcat 5.5 put the manager's settings on the Cluster.
		"managerClassName": {set: func(p *parser, e *elem, a attr) {
			p.managerClass(e, a.pos, a.name, a.value)
		}},
		"expireSessionsOnShutdown":     mgr["expireSessionsOnShutdown"],
		"notifyListenersOnReplication": mgr["notifyListenersOnReplication"],
	}
	in := inert{"clusterName": "", "heartbeatBackgroundEnabled": "", "notifyLifecycleListenerOnFailure": "",
		"name": "", "debug": "", "printToScreen": "", "doClusterLog": "", "clusterLogName": "", "protocol": "",
		"useDirtyFlag": "Gomcat records every change made through Session.Set"}
	// 5.5 "default mode" let sub-element settings ride on the Cluster with
	// a prefix: manager.*, service.*, receiver.*, sender.*, valve.*.
	var prefixed []attr
	for _, a := range e.attrs {
		if i := strings.IndexByte(a.name, '.'); i > 0 {
			prefixed = append(prefixed, a)
		}
	}
	skip := make([]string, 0, len(prefixed))
	for _, a := range prefixed {
		skip = append(skip, a.name)
	}
	p.attrs(e, &c.Node, fs, in, skip...)
	for _, a := range prefixed {
		p.prefixedAttr(e, a, c, &old)
	}

	for _, k := range e.kids {
		switch k.name {
		case "Manager":
			p.manager(k, &c.Manager)
		case "Channel":
			if cn, pos, ok := k.className(); ok {
				if _, ok := resolve(channelClasses, cn); !ok {
					p.errorf(pos, k.name, "className", "unsupported class %s (supported: %s)", cn, supported(channelClasses))
				}
			}
			p.attrs(k, &Node{}, fields{}, inert{"heartbeatSleeptime": "", "optionCheck": ""})
			for _, kk := range k.kids {
				if kk.name == "Interceptor" {
					sawInterceptor = true
				}
				p.channelChild(kk, c, &old)
			}
		case "Membership", "Receiver", "Sender":
			p.channelChild(k, c, &old) // Tomcat 5.5 had no <Channel>
		case "Valve":
			sawValve = true
			p.clusterValve(k, c)
		case "Deployer":
			if c.Deployer != nil {
				p.errorf(k.pos, k.name, "", "only one <Deployer> per <Cluster> (the first is at line %d)", c.Deployer.Line)
				continue
			}
			c.Deployer = p.deployer(k)
		case "ClusterListener":
			sawCL = true
			if l := p.clusterListener(k); l != nil {
				c.Listeners = append(c.Listeners, l)
			}
		default:
			p.ignore(k)
		}
	}

	// Tomcat's checkDefaults: what was not written at all.
	if !sawInterceptor {
		c.Interceptors = defaultInterceptors()
	}
	if !sawValve {
		c.JvmRouteBinderValve = newJvmRouteBinderValve()
		if c.ReplicationValve == nil { // 5.5's valve.* attributes may have made it
			c.ReplicationValve = newReplicationValve()
		}
	}
	if !sawCL {
		c.Listeners = append(c.Listeners, &ClusterListener{Node: Node{Element: "ClusterListener"}, ClassName: "ClusterSessionListener"})
	}
	c.placeDefaults()
	p.resolveLegacySend(c, &old)
	p.resolveInterceptors(c, keyAt)
	c.Membership.finish()
	return c
}

// placeDefaults gives elements that were not written the Cluster's
// position, so messages about them point at the <Cluster>.
func (c *Cluster) placeDefaults() {
	nodes := []*Node{&c.Manager.Node, &c.Membership.Node, &c.Receiver.Node, &c.Sender.Node, &c.Sender.Transport.Node}
	for _, in := range c.Interceptors {
		nodes = append(nodes, &in.Node)
	}
	for _, l := range c.Listeners {
		nodes = append(nodes, &l.Node)
	}
	if c.ReplicationValve != nil {
		nodes = append(nodes, &c.ReplicationValve.Node)
	}
	if c.JvmRouteBinderValve != nil {
		nodes = append(nodes, &c.JvmRouteBinderValve.Node)
	}
	for _, n := range nodes {
		if n.File == "" {
			n.Pos = c.Pos
		}
	}
}

// prefixedAttr applies 5.5's "manager.x", "service.x", "receiver.x",
// "sender.x", "valve.x" Cluster attributes.
func (p *parser) prefixedAttr(e *elem, a attr, c *Cluster, old *legacy) {
	prefix, name, _ := strings.Cut(a.name, ".")
	var (
		n  *Node
		fs fields
		in inert
	)
	switch prefix {
	case "manager":
		n, fs, in = &c.Manager.Node, p.managerFields(&c.Manager), managerInert
	case "service":
		n, fs, in = &c.Membership.Node, membershipFields(&c.Membership), membershipInert
	case "receiver":
		n, fs, in = &c.Receiver.Node, receiverFields(&c.Receiver), receiverInert
	case "sender":
		n, fs, in = &c.Sender.Node, senderFields(&c.Sender, old), senderInert
	case "valve":
		if c.ReplicationValve == nil {
			c.ReplicationValve = newReplicationValve()
		}
		n, fs, in = &c.ReplicationValve.Node, valveFields(c.ReplicationValve, true), inert{"statistics": ""}
	default:
		p.unknownAttr(e, a, fields{}, inert{})
		return
	}
	if f, ok := fs[name]; ok {
		canon := f.canon
		if canon == "" {
			canon = name
		}
		n.mark(canon, a.pos, a.name)
		f.set(p, &elem{name: e.name, pos: e.pos}, a)
		return
	}
	p.unknownAttr(e, a, fs, in)
}

func (p *parser) managerClass(e *elem, pos Pos, attrName, cn string) {
	if _, ok := resolve(managerClasses, cn); ok {
		return
	}
	switch shortName(cn) {
	case "BackupManager":
		p.errorf(pos, e.name, attrName, "BackupManager is not supported: Gomcat replicates every session to every member with DeltaManager (use DeltaManager)")
	case "SimpleTcpReplicationManager":
		p.warnf(pos, e.name, attrName, "Tomcat 5.5's SimpleTcpReplicationManager is served by DeltaManager (deltas instead of whole sessions)")
	case "StandardManager", "PersistentManager":
		p.errorf(pos, e.name, attrName, "%s is not a cluster manager (use DeltaManager; a context that should not replicate leaves out distributable)", shortName(cn))
	default:
		p.errorf(pos, e.name, attrName, "unsupported class %s (supported: %s)", cn, supported(managerClasses))
	}
}

var managerInert = inert{"name": "", "notifyContainerListenersOnReplication": "", "enableStatistics": "",
	"sessionAttributeNameFilter": "", "sessionAttributeValueClassNameFilter": "",
	"warnOnSessionAttributeFilterFailure": "", "secureRandomClass": "session ids come from crypto/rand",
	"secureRandomProvider": "session ids come from crypto/rand", "secureRandomAlgorithm": "session ids come from crypto/rand",
	"pathname": "", "maxInactiveInterval": "set sessionTimeout on the Context",
	"persistAuthentication": "", "updateActiveInterval": "", "expireTolerance": "", "sendClusterDomainOnly": "",
	"stateTransfered": "", "useDirtyFlag": "Gomcat records every change made through Session.Set"}

func (p *parser) managerFields(m *Manager) fields {
	return fields{
		"stateTransferTimeout":                fDur(&m.StateTransferTimeout, time.Second),
		"stateTransferSeniorTimeout":          fDur(&m.StateTransferSeniorTimeout, time.Second),
		"replicatePrincipal":                  fBool(&m.ReplicatePrincipal),
		"sendAllSessions":                     fBool(&m.SendAllSessions),
		"sendAllSessionsSize":                 fInt(&m.SendAllSessionsSize),
		"sendAllSessionsWaitTime":             fDur(&m.SendAllSessionsWaitTime, time.Millisecond),
		"stateTimestampDrop":                  fBool(&m.StateTimestampDrop),
		"expireSessionsOnShutdown":            fBool(&m.ExpireSessionsOnShutdown),
		"notifyListenersOnReplication":        fBool(&m.NotifyListenersOnReplication),
		"notifySessionListenersOnReplication": fBool(&m.NotifySessionListenersOnReplication),
		"maxActiveSessions":                   fInt(&m.MaxActiveSessions),
		"maxSessionSize":                      fInt(&m.MaxSessionSize),
		"recordAllActions":                    fBool(&m.RecordAllActions),
		"processExpiresFrequency":             fInt(&m.ProcessExpiresFrequency),
	}
}

func (p *parser) manager(e *elem, m *Manager) {
	m.Pos = e.pos
	if cn, pos, ok := e.className(); ok {
		p.managerClass(e, pos, "className", cn)
	}
	p.attrs(e, &m.Node, p.managerFields(m), managerInert)
	for _, k := range e.kids {
		p.ignore(k)
	}
}

// channelChild reads what sits in a <Channel> (or, in 5.5, in the Cluster).
func (p *parser) channelChild(e *elem, c *Cluster, old *legacy) {
	switch e.name {
	case "Membership":
		p.membership(e, &c.Membership)
	case "Receiver":
		c.Receiver.Pos = e.pos
		if cn, pos, ok := e.className(); ok {
			if _, ok := resolve(receiverClasses, cn); !ok {
				p.errorf(pos, e.name, "className", "unsupported class %s (supported: %s)", cn, supported(receiverClasses))
			}
		}
		p.attrs(e, &c.Receiver.Node, receiverFields(&c.Receiver), receiverInert)
		if c.Receiver.AutoBind <= 0 {
			c.Receiver.AutoBind = 1 // as Tomcat
		}
		for _, k := range e.kids {
			p.ignore(k)
		}
	case "Sender":
		p.sender(e, &c.Sender, old)
	case "Interceptor":
		if in := p.interceptor(e); in != nil {
			c.Interceptors = append(c.Interceptors, in)
		}
	default:
		p.ignore(e)
	}
}

var membershipInert = inert{"useThread": "", "pingInterval": "", "payload": "", "name": "",
	"mcastClusterDomainAsString": ""}

func membershipFields(m *Membership) fields {
	return fields{
		"address":               fStr(&m.Address),
		"mcastAddr":             fStr(&m.Address).as("address"),
		"maxMembers":            fInt(&m.MaxMembers),
		"port":                  fInt(&m.Port),
		"mcastPort":             fInt(&m.Port).as("port"),
		"frequency":             fDur(&m.Frequency, time.Millisecond),
		"mcastFrequency":        fDur(&m.Frequency, time.Millisecond).as("frequency"),
		"dropTime":              fDur(&m.DropTime, time.Millisecond),
		"mcastDropTime":         fDur(&m.DropTime, time.Millisecond).as("dropTime"),
		"bind":                  fStr(&m.Bind),
		"mcastBindAddress":      fStr(&m.Bind).as("bind"),
		"ttl":                   fInt(&m.TTL),
		"mcastTTL":              fInt(&m.TTL).as("ttl"),
		"soTimeout":             fDur(&m.SoTimeout, time.Millisecond),
		"mcastSoTimeout":        fDur(&m.SoTimeout, time.Millisecond).as("soTimeout"),
		"domain":                fDomain(&m.Domain),
		"mcastClusterDomain":    fDomain(&m.Domain).as("domain"),
		"localLoopbackDisabled": fBool(&m.LocalLoopbackDisabled),
		"recoveryEnabled":       fBool(&m.RecoveryEnabled),
		"recoveryCounter":       fInt(&m.RecoveryCounter),
		"recoverySleepTime":     fDur(&m.RecoverySleepTime, time.Millisecond),
		"establishWait":         fDur(&m.EstablishWait, time.Millisecond),
		"connectTimeout":        fDur(&m.ConnectTimeout, time.Millisecond),
		"expirationTime":        fDur(&m.ExpirationTime, time.Millisecond),
		"rpcTimeout":            fDur(&m.RPCTimeout, time.Millisecond),
	}
}

// fDomain reads a domain as text, or Tomcat's {1,2,3} byte syntax.
func fDomain(dst *string) field {
	return field{set: func(p *parser, e *elem, a attr) {
		v := strings.TrimSpace(a.value)
		if strings.HasPrefix(v, "{") {
			b, err := byteList(v)
			if err != nil {
				p.errorf(a.pos, e.name, a.name, "%v", err)
				return
			}
			v = string(b)
		}
		*dst = v
	}}
}

// byteList reads Tomcat's "{1,-2,3}" signed byte syntax.
func byteList(v string) ([]byte, error) {
	inner, ok := strings.CutPrefix(v, "{")
	if inner, ok = strings.CutSuffix(inner, "}"); !ok {
		return nil, fmt.Errorf("%q: a byte list is written {b1,b2,…} with bytes -128..255", v)
	}
	var out []byte
	for s := range strings.SplitSeq(inner, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < -128 || n > 255 {
			return nil, fmt.Errorf("%q: a byte list is written {b1,b2,…} with bytes -128..255", v)
		}
		out = append(out, byte(n))
	}
	return out, nil
}

func (p *parser) membership(e *elem, m *Membership) {
	m.Pos = e.pos
	if cn, pos, ok := e.className(); ok {
		short, ok := resolve(memberClasses, cn)
		switch {
		case ok:
			m.ClassName = short
		case strings.Contains(cn, ".membership.cloud."):
			p.errorf(pos, e.name, "className", "cloud membership (%s) is not supported (supported: %s; list the pods as static <Member>s)", shortName(cn), supported(memberClasses))
		default:
			p.errorf(pos, e.name, "className", "unsupported class %s (supported: %s)", cn, supported(memberClasses))
		}
	}
	p.attrs(e, &m.Node, membershipFields(m), membershipInert)
	for _, k := range e.kids {
		switch k.name {
		case "Member":
			if sm := p.staticMember(k); sm != nil {
				m.Members = append(m.Members, sm)
			}
		case "LocalMember":
			m.LocalMember = p.staticMember(k)
		default:
			p.ignore(k)
		}
	}
}

func (m *Membership) finish() {
	if !m.Has("soTimeout") || m.SoTimeout <= 0 {
		m.SoTimeout = m.Frequency // Tomcat replaces <= 0 by the frequency
	}
}

func (p *parser) staticMember(e *elem) *StaticMember {
	sm := &StaticMember{Node: Node{Pos: e.pos, Element: e.name}}
	if cn, pos, ok := e.className(); ok {
		if _, ok := resolve(staticMemberClasses, cn); !ok {
			p.errorf(pos, e.name, "className", "unsupported class %s (supported: %s)", cn, supported(staticMemberClasses))
		}
	}
	p.attrs(e, &sm.Node, fields{
		"host":   fStr(&sm.Host),
		"port":   fInt(&sm.Port),
		"domain": fDomain(&sm.Domain),
		"uniqueId": {set: func(p *parser, e *elem, a attr) {
			v := strings.TrimSpace(a.value)
			var (
				b   []byte
				err error
			)
			if strings.HasPrefix(v, "{") {
				b, err = byteList(v)
			} else {
				b, err = hex.DecodeString(v)
			}
			if err != nil || len(b) != 16 {
				p.errorf(a.pos, e.name, a.name, "%q is not 16 bytes ({b0,…,b15} or 32 hex digits)", v)
				return
			}
			sm.UniqueID = b
		}},
	}, inert{"securePort": "", "udpPort": "", "payload": "", "command": "", "name": ""})
	if strings.HasPrefix(sm.Host, "{") {
		if b, err := byteList(sm.Host); err == nil && len(b) == 4 {
			sm.Host = fmt.Sprintf("%d.%d.%d.%d", b[0], b[1], b[2], b[3])
		}
	}
	for _, k := range e.kids {
		p.ignore(k)
	}
	return sm
}

var receiverInert = inert{"securePort": "", "udpPort": "Gomcat replicates over TCP only", "maxIdleTime": "",
	"maxTasks": "", "minTasks": "", "rxBufSize": "", "txBufSize": "", "udpRxBufSize": "", "udpTxBufSize": "",
	"direct": "", "tcpNoDelay": "", "soKeepAlive": "", "ooBInline": "", "soReuseAddress": "", "soLingerOn": "",
	"soLingerTime": "", "soTrafficClass": "", "useBufferPool": "", "compress": "",
	"sendAck": "the Cluster's channelSendOptions decide acknowledgements", "doListen": "", "bind": "",
	"tcpListenTimeout": ""}

func receiverFields(r *Receiver) fields {
	return fields{
		"address":            fStr(&r.Address),
		"host":               fStr(&r.Address).as("address"),
		"tcpListenAddress":   fStr(&r.Address).as("address"),
		"port":               fInt(&r.Port),
		"tcpListenPort":      fInt(&r.Port).as("port"),
		"autoBind":           fInt(&r.AutoBind),
		"selectorTimeout":    fDur(&r.SelectorTimeout, time.Millisecond),
		"tcpSelectorTimeout": fDur(&r.SelectorTimeout, time.Millisecond).as("selectorTimeout"),
		"maxThreads":         fInt(&r.MaxThreads),
		"tcpThreadCount":     fInt(&r.MaxThreads).as("maxThreads"),
		"minThreads":         fInt(&r.MinThreads),
		"timeout":            fDur(&r.Timeout, time.Millisecond),
		"maxFrameSize":       fInt(&r.MaxFrameSize),

		"maxConnections":        fInt(&r.MaxConnections),
		"maxConnectionsPerHost": fInt(&r.MaxConnectionsPerHost),
		"minFrameRate":          fInt(&r.MinFrameRate),
	}
}

var senderInert = inert{"autoConnect": "", "compress": "", "keepAliveTimeout": "", "keepAliveMaxRequestCount": "",
	"resend": "", "recoverTimeout": "", "recoverCounter": "", "queueAddWaitTimeout": "", "queueRemoveWaitTimeout": "",
	"maxQueueLength": "", "threadPriority": "", "processSenderFrequency": "", "doTransmitterProcessingStats": "",
	"doProcessingStats": "", "queueDoStats": "", "queueTimeWait": "", "queueCheckLock": "", "txBufSize": "",
	"rxBufSize": "", "timeout": ""}

// senderFields includes Tomcat 5.5's sender attributes: replicationMode
// and waitForAck decide channelSendOptions, ackTimeout is the transport's
// timeout, maxPoolSocketLimit its pool size.
func senderFields(s *Sender, old *legacy) fields {
	return fields{
		"replicationMode": {set: func(p *parser, e *elem, a attr) {
			v := strings.ToLower(strings.TrimSpace(a.value))
			switch v {
			case "pooled", "synchronous", "asynchronous", "fastasyncqueue":
				old.mode, old.modePos = v, a.pos
			default:
				p.errorf(a.pos, e.name, a.name, "%q is not a Tomcat 5.5 replication mode (pooled, synchronous, asynchronous, fastasyncqueue)", a.value)
			}
		}},
		"waitForAck": {set: func(p *parser, e *elem, a attr) {
			if b, ok := p.bool(e, a); ok {
				old.waitForAck = &b
			}
		}},
		"ackTimeout":         fDur(&s.Transport.Timeout, time.Millisecond).as("timeout"),
		"maxPoolSocketLimit": fInt(&s.Transport.PoolSize).as("poolSize"),
	}
}

func (p *parser) sender(e *elem, s *Sender, old *legacy) {
	s.Pos = e.pos
	if cn, pos, ok := e.className(); ok {
		if _, ok := resolve(senderClasses, cn); !ok {
			p.errorf(pos, e.name, "className", "unsupported class %s (supported: %s)", cn, supported(senderClasses))
		}
	}
	// 5.5's ackTimeout lands on the Transport: mark it there.
	var n Node
	p.attrs(e, &n, senderFields(s, old), senderInert)
	for canon, m := range n.attrs {
		switch canon {
		case "timeout", "poolSize":
			s.Transport.mark(canon, m.Pos, m.as)
		default:
			s.mark(canon, m.Pos, m.as)
		}
	}
	for _, k := range e.kids {
		if k.name != "Transport" {
			p.ignore(k)
			continue
		}
		t := &s.Transport
		t.Pos = k.pos
		if cn, pos, ok := k.className(); ok {
			if _, ok := resolve(transportClasses, cn); !ok {
				p.errorf(pos, k.name, "className", "unsupported class %s (supported: %s)", cn, supported(transportClasses))
			}
		}
		p.attrs(k, &t.Node, fields{
			"timeout":          fDur(&t.Timeout, time.Millisecond),
			"maxRetryAttempts": fInt(&t.MaxRetryAttempts),
			"poolSize":         fInt(&t.PoolSize),
			"maxWait":          fDur(&t.MaxWait, time.Millisecond),
			"keepAliveCount":   fInt(&t.KeepAliveCount),
			"keepAliveTime":    fDur(&t.KeepAliveTime, time.Millisecond),
			"queueBytes":       fInt(&t.QueueBytes),
		}, inert{"rxBufSize": "", "txBufSize": "", "udpRxBufSize": "", "udpTxBufSize": "", "directBuffer": "",
			"tcpNoDelay": "", "soKeepAlive": "", "ooBInline": "", "soReuseAddress": "", "soLingerOn": "",
			"soLingerTime": "", "soTrafficClass": "", "throwOnFailedAck": "", "udpBased": "Gomcat replicates over TCP only"})
		for _, kk := range k.kids {
			p.ignore(kk)
		}
	}
}

// resolveLegacySend maps Tomcat 5.5's replicationMode/waitForAck to
// channelSendOptions when the Cluster does not say channelSendOptions:
//
//	asynchronous, fastasyncqueue             → 8 (async)
//	pooled, synchronous with waitForAck=true → 6 (use_ack,sync: 5.5 acked after processing)
//	pooled, synchronous otherwise            → 2 (use_ack: the nearest to 5.5's blocking write)
func (p *parser) resolveLegacySend(c *Cluster, old *legacy) {
	if old.mode == "" && old.waitForAck == nil {
		return
	}
	mode := old.mode
	if mode == "" {
		mode = "pooled" // 5.5's default
	}
	opts := SendUseAck
	switch {
	case mode == "asynchronous" || mode == "fastasyncqueue":
		opts = SendAsync
	case old.waitForAck != nil && *old.waitForAck:
		opts = SendUseAck | SendSyncAck
	}
	if c.Has("channelSendOptions") {
		if opts != c.ChannelSendOptions {
			p.warnf(old.modePos, "Sender", "replicationMode", "ignored: the Cluster's channelSendOptions=%d decides (the 5.5 sender settings mean %d)", c.ChannelSendOptions, opts)
		}
		return
	}
	c.ChannelSendOptions = opts
}

func (p *parser) interceptor(e *elem) *Interceptor {
	cn, pos, ok := e.className()
	if !ok {
		p.errorf(e.pos, e.name, "className", "required (supported: %s)", supported(interceptorClasses))
		return nil
	}
	short, ok := resolve(interceptorClasses, cn)
	if !ok {
		if reason, known := interceptorsNotNeeded[shortName(cn)]; known {
			p.warnf(pos, e.name, "className", "%s ignored: %s", shortName(cn), reason)
			return nil
		}
		p.errorf(pos, e.name, "className", "unsupported class %s (supported: %s)", cn, supported(interceptorClasses))
		return nil
	}
	in := newInterceptor(short)
	in.Pos = e.pos
	known := interceptorDefaults[short]
	for _, a := range e.attrs {
		if a.name == "className" {
			continue
		}
		def, isKnown := known[a.name]
		if !isKnown && a.name != "optionFlag" {
			fs := fields{}
			for k := range known {
				fs[k] = field{}
			}
			p.unknownAttr(e, a, fs, inert{})
			continue
		}
		v := strings.TrimSpace(a.value)
		_, err := strconv.Atoi(def)
		isInt := a.name == "optionFlag" || (def != "" && err == nil)
		isBool := def == "true" || def == "false"
		if isInt {
			if _, ok := p.int(e, a); !ok {
				continue
			}
		} else if isBool {
			if _, ok := p.bool(e, a); !ok {
				continue
			}
		}
		in.mark(a.name, a.pos, a.name)
		in.Attrs[a.name] = v
	}
	for _, k := range e.kids {
		if short == "StaticMembershipInterceptor" && (k.name == "Member" || k.name == "LocalMember") {
			if k.name == "LocalMember" {
				p.staticMember(k) // checked; Gomcat knows itself
				continue
			}
			if sm := p.staticMember(k); sm != nil {
				in.Members = append(in.Members, sm)
			}
			continue
		}
		p.ignore(k)
	}
	return in
}

// resolveInterceptors folds interceptors into the model: EncryptInterceptor's
// key becomes the cluster key, StaticMembershipInterceptor's members become
// the static membership.
func (p *parser) resolveInterceptors(c *Cluster, keyAt Pos) {
	for _, in := range c.Interceptors {
		switch in.ClassName {
		case "EncryptInterceptor":
			v, ok := in.Attrs["encryptionKey"]
			if !ok {
				p.errorf(in.Pos, in.Element, "encryptionKey", "required (32, 48 or 64 hex digits)")
				continue
			}
			k, err := ParseKey(v)
			if err != nil {
				p.errorf(in.AttrPos("encryptionKey"), in.Element, "encryptionKey", "%v", err)
				continue
			}
			if c.Key != nil && string(c.Key) != string(k) {
				p.errorf(in.AttrPos("encryptionKey"), in.Element, "encryptionKey", "differs from the Cluster's key at %s (give the key once)", keyAt)
				continue
			}
			c.Key = k
			if alg := in.Attrs["encryptionAlgorithm"]; alg != "AES/GCM/NoPadding" {
				p.warnf(in.AttrPos("encryptionAlgorithm"), in.Element, "encryptionAlgorithm", "%q ignored: Gomcat always seals with AES-GCM", alg)
			}
		case "DomainFilterInterceptor":
			if in.Attrs["domain"] == "" {
				p.errorf(in.Pos, in.Element, "domain", "required (the domain whose members are accepted)")
			}
		case "StaticMembershipInterceptor":
			if len(in.Members) == 0 {
				p.errorf(in.Pos, in.Element, "", "needs at least one nested <Member host port/>")
				continue
			}
			m := &c.Membership
			m.Members = append(m.Members, in.Members...)
			if m.ClassName == McastService && c.ChannelStartOptions&(4|8) != 0 {
				p.warnf(in.Pos, in.Element, "", "Gomcat uses either multicast or a static list: the static members are used and multicast is off (set the Cluster's channelStartOptions=\"3\" to say so)")
			}
			m.ClassName = StaticMembershipService
		}
	}
}

func valveFields(v *ReplicationValve, tc55 bool) fields {
	return fields{
		"filter": {set: func(p *parser, e *elem, a attr) {
			v.Filter = strings.TrimSpace(a.value)
			if tc55 {
				v.Filter = convertFilter55(v.Filter)
			}
		}},
		"primaryIndicator":     fBool(&v.PrimaryIndicator),
		"primaryIndicatorName": fStr(&v.PrimaryIndicatorName),
	}
}

// convertFilter55 turns Tomcat 5.5's ";"-separated list of regular
// expressions into one alternation (each part still matches the whole URI).
func convertFilter55(f string) string {
	var parts []string
	for part := range strings.SplitSeq(f, ";") {
		if part = strings.TrimSpace(part); part != "" {
			parts = append(parts, part)
		}
	}
	if len(parts) == 1 {
		return parts[0]
	}
	for i, part := range parts {
		parts[i] = "(?:" + part + ")"
	}
	return strings.Join(parts, "|")
}

func (p *parser) clusterValve(e *elem, c *Cluster) {
	cn, pos, ok := e.className()
	if !ok {
		p.errorf(e.pos, e.name, "className", "required (supported: %s)", supported(valveClasses))
		return
	}
	short, ok := resolve(valveClasses, cn)
	if !ok {
		if shortName(cn) == "ClusterSingleSignOn" {
			p.ignore(e)
			return
		}
		p.errorf(pos, e.name, "className", "unsupported class %s (supported: %s)", cn, supported(valveClasses))
		return
	}
	switch short {
	case "ReplicationValve":
		if c.ReplicationValve != nil {
			p.errorf(e.pos, e.name, "className", "a second ReplicationValve (the first is at line %d)", c.ReplicationValve.Line)
			return
		}
		v := newReplicationValve()
		v.Pos = e.pos
		p.attrs(e, &v.Node, valveFields(v, strings.HasPrefix(cn, tc55)), inert{"statistics": "", "doProcessingStats": "", "asyncSupported": ""})
		c.ReplicationValve = v
	case "JvmRouteBinderValve":
		if c.JvmRouteBinderValve != nil {
			p.errorf(e.pos, e.name, "className", "a second JvmRouteBinderValve (the first is at line %d)", c.JvmRouteBinderValve.Line)
			return
		}
		v := newJvmRouteBinderValve()
		v.Pos = e.pos
		p.attrs(e, &v.Node, fields{"enabled": fBool(&v.Enabled)}, inert{"sessionIdAttribute": "", "asyncSupported": ""})
		c.JvmRouteBinderValve = v
	}
	for _, k := range e.kids {
		p.ignore(k)
	}
}

func (p *parser) deployer(e *elem) *Deployer {
	d := newDeployer()
	d.Pos = e.pos
	if cn, pos, ok := e.className(); ok {
		if _, ok := resolve(deployerClasses, cn); !ok {
			p.errorf(pos, e.name, "className", "unsupported class %s (supported: %s)", cn, supported(deployerClasses))
		}
	}
	p.attrs(e, &d.Node, fields{
		"tempDir":      fStr(&d.TempDir),
		"deployDir":    fStr(&d.DeployDir),
		"watchDir":     fStr(&d.WatchDir),
		"watchEnabled": fBool(&d.WatchEnabled),
		"processDeployFrequency": {set: func(p *parser, e *elem, a attr) {
			if n, ok := p.int(e, a); ok {
				if n <= 0 {
					p.warnf(a.pos, e.name, a.name, "%d ignored, as in Tomcat (keeps %d)", n, d.ProcessDeployFrequency)
					return
				}
				d.ProcessDeployFrequency = n
			}
		}},
		"maxValidTime":  fDur(&d.MaxValidTime, time.Second),
		"maxBundleSize": fInt64(&d.MaxBundleSize),
		"senders": {set: func(p *parser, e *elem, a attr) {
			for _, s := range strings.Split(a.value, ",") {
				if s = strings.TrimSpace(s); s != "" {
					d.Senders = append(d.Senders, s)
				}
			}
		}},
		"maxTransfers": fInt(&d.MaxTransfers),
		"diskBudget":   fInt64(&d.DiskBudget),
	}, inert{})
	for _, k := range e.kids {
		p.ignore(k)
	}
	return d
}

func (p *parser) clusterListener(e *elem) *ClusterListener {
	cn, pos, ok := e.className()
	if !ok {
		p.errorf(e.pos, e.name, "className", "required (supported: %s)", supported(listenerClasses))
		return nil
	}
	short, ok := resolve(listenerClasses, cn)
	if !ok {
		p.errorf(pos, e.name, "className", "unsupported class %s (supported: %s)", cn, supported(listenerClasses))
		return nil
	}
	l := &ClusterListener{Node: Node{Pos: e.pos, Element: e.name}, ClassName: short}
	p.attrs(e, &l.Node, fields{}, inert{})
	for _, k := range e.kids {
		p.ignore(k)
	}
	return l
}
