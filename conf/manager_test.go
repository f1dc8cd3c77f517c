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
