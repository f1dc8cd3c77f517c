package conf

import (
	"fmt"
	"strconv"
	"strings"
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
		sawInterceptor, sawValve, sawCL bool
	)
	old := &c.Sender.old
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
	p.attrs(e, &c.Node, clusterSpec.fields(c), clusterSpec.inert, skip...)
	for _, a := range prefixed {
		p.prefixedAttr(e, a, c)
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
			p.attrs(k, &Node{}, fields{}, channelSpec.inert)
			for _, kk := range k.kids {
				if kk.name == "Interceptor" {
					sawInterceptor = true
				}
				p.channelChild(kk, c)
			}
		case "Membership", "Receiver", "Sender":
			p.channelChild(k, c) // Tomcat 5.5 had no <Channel>
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
	p.resolveLegacySend(c, old)
	p.resolveInterceptors(c)
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
func (p *parser) prefixedAttr(e *elem, a attr, c *Cluster) {
	prefix, name, _ := strings.Cut(a.name, ".")
	var (
		n  *Node
		fs fields
		in inert
	)
	switch prefix {
	case "manager":
		n, fs, in = &c.Manager.Node, managerSpec.fields(&c.Manager), managerSpec.inert
	case "service":
		n, fs, in = &c.Membership.Node, membershipSpec.fields(&c.Membership), membershipSpec.inert
	case "receiver":
		n, fs, in = &c.Receiver.Node, receiverSpec.fields(&c.Receiver), receiverSpec.inert
	case "sender":
		n, fs, in = &c.Sender.Node, senderSpec.fields(&c.Sender), senderSpec.inert
	case "valve":
		if c.ReplicationValve == nil {
			c.ReplicationValve = newReplicationValve()
		}
		c.ReplicationValve.tc55 = true
		n, fs, in = &c.ReplicationValve.Node, replicationValveSpec.fields(c.ReplicationValve), replicationValveSpec.inert
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

// managerClass resolves a manager className to its short name ("" when
// it is not supported, which is reported).
func (p *parser) managerClass(e *elem, pos Pos, attrName, cn string) string {
	if short, ok := resolve(managerClasses, cn); ok {
		return short
	}
	switch shortName(cn) {
	case "SimpleTcpReplicationManager":
		p.warnf(pos, e.name, attrName, "Tomcat 5.5's SimpleTcpReplicationManager is served by DeltaManager (deltas instead of whole sessions)")
		return DeltaManager
	case "StandardManager", "PersistentManager":
		p.errorf(pos, e.name, attrName, "%s is not a cluster manager (use DeltaManager or BackupManager; a context that should not replicate leaves out distributable)", shortName(cn))
	default:
		p.errorf(pos, e.name, attrName, "unsupported class %s (supported: %s)", cn, supported(managerClasses))
	}
	return ""
}

// managerOnly names the <Manager> attributes that only one class reads.
var managerOnly = map[string]string{
	"mapSendOptions": BackupManager, "rpcTimeout": BackupManager, "accessTimeout": BackupManager,
	"terminateOnStartFailure": BackupManager, "backups": BackupManager, "rebalanceRate": BackupManager,
	"stateTransferTimeout": DeltaManager, "stateTransferSeniorTimeout": DeltaManager, "sendAllSessions": DeltaManager,
	"sendAllSessionsSize": DeltaManager, "sendAllSessionsWaitTime": DeltaManager, "stateTimestampDrop": DeltaManager,
	"expireSessionsOnShutdown": DeltaManager, "notifyListenersOnReplication": DeltaManager,
	"notifySessionListenersOnReplication": DeltaManager, "recordAllActions": DeltaManager, "replicatePrincipal": DeltaManager,
}

func (p *parser) manager(e *elem, m *Manager) {
	m.Pos = e.pos
	if cn, pos, ok := e.className(); ok {
		if short := p.managerClass(e, pos, "className", cn); short != "" {
			m.ClassName = short
		}
	}
	p.attrs(e, &m.Node, managerSpec.fields(m), managerSpec.inert)
	for _, a := range e.attrs {
		if cls, ok := managerOnly[a.name]; ok && cls != m.ClassName {
			p.warnf(a.pos, e.name, a.name, "ignored: only %s reads it (this Manager is a %s)", cls, m.ClassName)
		}
	}
	for _, k := range e.kids {
		p.ignore(k)
	}
}

// channelChild reads what sits in a <Channel> (or, in 5.5, in the Cluster).
func (p *parser) channelChild(e *elem, c *Cluster) {
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
		p.attrs(e, &c.Receiver.Node, receiverSpec.fields(&c.Receiver), receiverSpec.inert)
		if c.Receiver.AutoBind <= 0 {
			c.Receiver.AutoBind = 1 // as Tomcat
		}
		for _, k := range e.kids {
			p.ignore(k)
		}
	case "Sender":
		p.sender(e, &c.Sender)
	case "Interceptor":
		if in := p.interceptor(e); in != nil {
			c.Interceptors = append(c.Interceptors, in)
		}
	default:
		p.ignore(e)
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
		default:
			p.errorf(pos, e.name, "className", "unsupported class %s (supported: %s)", cn, supported(memberClasses))
		}
	}
	p.attrs(e, &m.Node, membershipSpec.fields(m), membershipSpec.inert)
	if m.ClassName == CloudMembershipService && !m.Has("connectTimeout") {
		m.ConnectTimeout = DefaultCloudConnectTimeout // Tomcat's, apart from the static 500 ms
	}
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
	p.attrs(e, &sm.Node, staticMemberSpec.fields(sm), staticMemberSpec.inert)
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

func (p *parser) sender(e *elem, s *Sender) {
	s.Pos = e.pos
	if cn, pos, ok := e.className(); ok {
		if _, ok := resolve(senderClasses, cn); !ok {
			p.errorf(pos, e.name, "className", "unsupported class %s (supported: %s)", cn, supported(senderClasses))
		}
	}
	// 5.5's ackTimeout lands on the Transport: mark it there.
	var n Node
	p.attrs(e, &n, senderSpec.fields(s), senderSpec.inert)
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
		p.attrs(k, &t.Node, transportSpec.fields(t), transportSpec.inert)
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
func (p *parser) resolveInterceptors(c *Cluster) {
	keyAt := c.AttrPos("key")
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
		v.tc55 = strings.HasPrefix(cn, tc55)
		p.attrs(e, &v.Node, replicationValveSpec.fields(v), replicationValveSpec.inert)
		c.ReplicationValve = v
	case "JvmRouteBinderValve":
		if c.JvmRouteBinderValve != nil {
			p.errorf(e.pos, e.name, "className", "a second JvmRouteBinderValve (the first is at line %d)", c.JvmRouteBinderValve.Line)
			return
		}
		v := newJvmRouteBinderValve()
		v.Pos = e.pos
		p.attrs(e, &v.Node, jvmRouteBinderSpec.fields(v), jvmRouteBinderSpec.inert)
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
	p.attrs(e, &d.Node, deployerSpec.fields(d), deployerSpec.inert)
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
	p.attrs(e, &l.Node, fields{}, clusterListenerSpec.inert)
	for _, k := range e.kids {
		p.ignore(k)
	}
	return l
}
