package node

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gomcat/gomcat/conf"
)

// Check finds what start would refuse, each problem at its element: a
// subsystem's limit the model did not stop (a DeltaManager value set by a
// program rather than read from a file), an app this binary lacks, a
// static context without its directory. A sound model passes.
func TestCheck(t *testing.T) {
	home := t.TempDir()
	if err := os.MkdirAll(filepath.Join(home, "webapps", "static"), 0o755); err != nil {
		t.Fatal(err)
	}
	xml := `<Server port="-1"><Service name="Catalina">
  <Connector port="0"/>
  <Engine name="Catalina" defaultHost="localhost" jvmRoute="node1">
    <Host name="localhost" appBase="webapps">
      <Context path="" app="example" distributable="true"/>
      <Context path="/static" docBase="static"/>
      <Context path="/gone" docBase="gone"/>
      <Context path="/other" app="nosuch"/>
    </Host>
    <Cluster key="` + strings.Repeat("ab", 32) + `">
      <Manager className="org.apache.catalina.ha.session.DeltaManager"/>
    </Cluster>
  </Engine>
</Service></Server>`
	s := parse(t, xml)
	s.Home = home
	err := Check(s, "")
	var got []*conf.Error
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		var ce *conf.Error
		if !errors.As(e, &ce) {
			t.Fatalf("problem without a position: %v", e)
		}
		got = append(got, ce)
	}
	if len(got) != 2 {
		t.Fatalf("Check: %d problems, want 2 (gone, nosuch):\n%v", len(got), err)
	}
	if g := got[0]; g.Line != 7 || g.Attr != "docBase" || !strings.Contains(g.Msg, "does not exist") {
		t.Errorf("missing docBase: %+v", g)
	}
	if g := got[1]; g.Line != 8 || g.Attr != "app" || !strings.Contains(g.Msg, `unknown app "nosuch"`) {
		t.Errorf("unknown app: %+v", g)
	}

	s.Cluster().Manager.SendAllSessionsSize = 2_000_000 // past deltamgr's limit, unchecked by conf here
	err = Check(s, "")
	if err == nil || !strings.Contains(err.Error(), "server.xml:11: element <Manager>: deltamgr") {
		t.Errorf("DeltaManager's own limit not reported at its <Manager>: %v", err)
	}
}

// A context's own <Manager className="BackupManager"> is checked as
// backupmgr would build it and reported at that element; the Cluster's
// template still checks the other distributable contexts.
func TestCheckContextManager(t *testing.T) {
	xml := `<Server port="-1"><Service name="Catalina">
  <Connector port="0"/>
  <Engine name="Catalina" defaultHost="localhost" jvmRoute="node1">
    <Host name="localhost" appBase="webapps">
      <Context path="" app="example" distributable="true">
        <Manager className="BackupManager" backups="2"/>
      </Context>
      <Context path="/d" app="example" distributable="true"/>
    </Host>
    <Cluster key="` + strings.Repeat("ab", 32) + `">
      <Manager className="org.apache.catalina.ha.session.DeltaManager"/>
    </Cluster>
  </Engine>
</Service></Server>`
	s := parse(t, xml)
	s.Home = t.TempDir()
	if err := Check(s, ""); err != nil {
		t.Fatalf("sound model: %v", err)
	}
	own := s.Engine().Host("localhost").Contexts[0].ClusterManager
	own.Backups = 20 // past backupmgr's limit, set by a program
	err := Check(s, "")
	if err == nil || !strings.Contains(err.Error(), "server.xml:6: element <Manager>: backupmgr: config: Backups 20") {
		t.Errorf("the context's BackupManager not checked at its <Manager>: %v", err)
	}
	own.Backups = 2
	s.Cluster().Manager.SendAllSessionsSize = 2_000_000 // the template, used by /d
	err = Check(s, "")
	if err == nil || !strings.Contains(err.Error(), "server.xml:11: element <Manager>: deltamgr") || strings.Contains(err.Error(), "server.xml:6:") {
		t.Errorf("the template of /d: %v", err)
	}
}
