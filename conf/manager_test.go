package conf

import (
	"strings"
	"testing"
	"time"
)

// A BackupManager is accepted by its full and short names with Tomcat's
// defaults; configtest shows its attributes and not DeltaManager's.
func TestBackupManager(t *testing.T) {
	for _, cn := range []string{"org.apache.catalina.ha.session.BackupManager", "BackupManager"} {
		doc := srv(`port="8005"`, `jvmRoute="n1"`, `<Cluster className="SimpleTcpCluster">
        <Manager className="`+cn+`" backups="2" mapSendOptions="async" maxActiveSessions="100"/>
      </Cluster>`)
		s, warns, err := Parse("t.xml", []byte(doc))
		if err != nil || len(warns) > 0 {
			t.Fatalf("%s: err %v, warnings %v", cn, err, warns)
		}
		if err := s.Validate(); err != nil {
			t.Fatal(err)
		}
		m := s.Cluster().Manager
		want := Manager{ClassName: BackupManager, MapSendOptions: SendAsync, RPCTimeout: 15 * time.Second,
			AccessTimeout: 5 * time.Second, Backups: 2, RebalanceRate: 200, MaxActiveSessions: 100}
		if m.ClassName != want.ClassName || m.MapSendOptions != want.MapSendOptions || m.RPCTimeout != want.RPCTimeout ||
			m.AccessTimeout != want.AccessTimeout || m.TerminateOnStartFailure || m.Backups != want.Backups ||
			m.RebalanceRate != want.RebalanceRate || m.MaxActiveSessions != want.MaxActiveSessions {
			t.Errorf("%s: got %+v", cn, m)
		}
		var b strings.Builder
		s.Describe(&b)
		d := b.String()
		for _, line := range []string{"Manager BackupManager", "mapSendOptions:", "8 (async)", "rpcTimeout:", "15000 ms", "backups:", "rebalanceRate:"} {
			if !strings.Contains(d, line) {
				t.Errorf("%s: configtest lacks %q:\n%s", cn, line, d)
			}
		}
		if strings.Contains(d, "stateTransferTimeout") {
			t.Errorf("%s: configtest shows DeltaManager's stateTransferTimeout for a BackupManager", cn)
		}
	}
}

// An attribute only the other manager class reads is ignored with a warning.
func TestManagerClassOnlyAttributes(t *testing.T) {
	for _, tt := range []struct{ class, attr, want string }{
		{"BackupManager", `stateTransferTimeout="10"`, `t.xml:6: element <Manager> attribute stateTransferTimeout: ignored: only DeltaManager reads it (this Manager is a BackupManager)`},
		{"DeltaManager", `backups="2"`, `t.xml:6: element <Manager> attribute backups: ignored: only BackupManager reads it (this Manager is a DeltaManager)`},
	} {
		doc := srv(`port="8005"`, `jvmRoute="n1"`, `<Cluster className="SimpleTcpCluster">
        <Manager className="`+tt.class+`" `+tt.attr+`/>
      </Cluster>`)
		s, warns, err := Parse("t.xml", []byte(doc))
		if err != nil {
			t.Fatal(err)
		}
		if len(warns) != 1 || warns[0].String() != tt.want {
			t.Errorf("%s %s: warnings %v, want %q", tt.class, tt.attr, warns, tt.want)
		}
		if err := s.Validate(); err != nil {
			t.Errorf("%s %s: %v", tt.class, tt.attr, err)
		}
	}
}

// hostDoc is a server.xml whose Engine holds cluster (may be "") and one
// Host with the given contexts.
func hostDoc(cluster, contexts string) string {
	return `<Server port="8005">
  <Service name="Catalina">
    <Connector port="8080"/>
    <Engine name="Catalina" defaultHost="localhost" jvmRoute="n1">
` + cluster + `
      <Host name="localhost" appBase="webapps">
` + contexts + `
      </Host>
    </Engine>
  </Service>
</Server>
`
}

// A <Context>'s own DeltaManager or BackupManager (full or short name)
// replaces the Cluster's template for that context, as in Tomcat: its
// attributes start from the defaults, not from the template's; the
// other contexts keep the template; configtest shows it under the context.
func TestContextManager(t *testing.T) {
	doc := hostDoc(`<Cluster className="SimpleTcpCluster">
        <Manager className="DeltaManager" maxActiveSessions="50"/>
      </Cluster>`, `
        <Context path="/full" distributable="true">
          <Manager className="org.apache.catalina.ha.session.BackupManager" backups="2" rpcTimeout="3000" mapSendOptions="async"/>
        </Context>
        <Context path="/short" distributable="true"><Manager className="BackupManager"/></Context>
        <Context path="/delta" distributable="true"><Manager className="DeltaManager" stateTransferTimeout="5"/></Context>
        <Context path="/tmpl" distributable="true"/>`)
	s, warns, err := Parse("t.xml", []byte(doc))
	if err != nil || len(warns) > 0 {
		t.Fatalf("err %v, warnings %v", err, warns)
	}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	ctx := map[string]*Context{}
	for _, c := range s.Engine().Host("localhost").Contexts {
		ctx[c.Path] = c
	}
	full := ctx["/full"].ClusterManager
	if full == nil || full.ClassName != BackupManager || full.Backups != 2 || full.RPCTimeout != 3*time.Second ||
		full.MapSendOptions != SendAsync || full.AccessTimeout != 5*time.Second || full.RebalanceRate != 200 ||
		full.MaxActiveSessions != -1 || full.Element != "Manager" || full.Line != 11 {
		t.Errorf("/full: %+v", full)
	}
	short := ctx["/short"].ClusterManager
	if short == nil || short.ClassName != BackupManager || short.Backups != 1 || short.MapSendOptions != 6 || short.MaxActiveSessions != -1 {
		t.Errorf("/short: %+v", short)
	}
	if d := ctx["/delta"].ClusterManager; d == nil || d.ClassName != DeltaManager || d.StateTransferTimeout != 5*time.Second {
		t.Errorf("/delta: %+v", d)
	}
	if ctx["/tmpl"].ClusterManager != nil || s.Cluster().Manager.ClassName != DeltaManager || s.Cluster().Manager.MaxActiveSessions != 50 {
		t.Errorf("/tmpl: %+v, template %+v", ctx["/tmpl"].ClusterManager, s.Cluster().Manager)
	}
	var b strings.Builder
	s.Describe(&b)
	d := b.String()
	i := strings.Index(d, "Context /full")
	j := strings.Index(d, "Context /short")
	if i < 0 || j < i || !strings.Contains(d[i:j], "Manager BackupManager (the context's own; the Cluster's <Manager> does not apply)") ||
		!strings.Contains(d[i:j], "backups:") || !strings.Contains(d[i:j], "8 (async)") || strings.Contains(d[i:j], "stateTransferTimeout") {
		t.Errorf("configtest of /full:\n%s", d)
	}
}

// A context's cluster manager needs a covering <Cluster> and a
// distributable context, one <Manager> per context, and its attributes
// are checked as the template's; other classes are still ignored.
func TestContextManagerMessages(t *testing.T) {
	cluster := `<Cluster className="SimpleTcpCluster"/>`
	for _, tt := range []struct {
		name, cluster, ctx string
		want               []string
	}{
		{"not distributable", cluster, `<Context path="/a"><Manager className="BackupManager"/></Context>`,
			[]string{`t.xml:7: element <Manager> attribute className: a BackupManager replicates only a distributable context: set distributable="true" on the <Context> (or leave out the <Manager>)`}},
		{"no cluster", "", `<Context path="/a" distributable="true"><Manager className="BackupManager"/></Context>`,
			[]string{`t.xml:7: element <Manager> attribute className: a BackupManager needs a <Cluster> in the Host or the Engine (Tomcat: no cluster associated with the context)`}},
		{"two managers", cluster, `<Context path="/a" distributable="true"><Manager className="BackupManager"/>
          <Manager className="DeltaManager"/></Context>`,
			[]string{`t.xml:8: element <Manager>: only one <Manager> per <Context> (the first is at line 7)`}},
		{"redis and backup", cluster, `<Context path="/a" distributable="true"><Manager className="gomcat.RedisManager" address="redis://127.0.0.1:6379"/>
          <Manager className="BackupManager"/></Context>`,
			[]string{`t.xml:8: element <Manager>: only one <Manager> per <Context> (the first is at line 7)`}},
		{"range", cluster, `<Context path="/a" distributable="true"><Manager className="BackupManager" backups="9" mapSendOptions="16"/></Context>`,
			[]string{`t.xml:7: element <Manager> attribute mapSendOptions: 16 (secure) is not supported (async=8, use_ack=2, use_ack,sync=6)`,
				`t.xml:7: element <Manager> attribute backups: 9 is not allowed (1..8 members holding a copy)`}},
	} {
		got := problems(t, hostDoc(tt.cluster, tt.ctx))
		if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
			t.Errorf("%s:\n got %q\nwant %q", tt.name, got, tt.want)
		}
	}
	// A StandardManager in a context is still only ignored (its sessions
	// stay local or go to the cluster's template).
	s, warns, err := Parse("t.xml", []byte(hostDoc(cluster, `<Context path="/a" distributable="true"><Manager className="org.apache.catalina.session.StandardManager"/></Context>`)))
	if err != nil || len(warns) != 1 || !strings.Contains(warns[0].String(), "element <Manager>") || s.Engine().Host("localhost").Contexts[0].ClusterManager != nil {
		t.Errorf("StandardManager: err %v, warnings %v", err, warns)
	}
}
