package node

import (
	"fmt"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// <Manager replicatePrincipal stateTransferSeniorTimeout> reach deltamgr;
// both default to the safe values.
func TestManagerHardeningAttributes(t *testing.T) {
	const tmpl = `<Server port="-1"><Service name="Catalina"><Connector port="8080"/>
<Engine name="Catalina" defaultHost="localhost" jvmRoute="n1"><Host name="localhost" appBase="webapps">
<Cluster className="org.apache.catalina.ha.tcp.SimpleTcpCluster">%s</Cluster></Host></Engine></Service></Server>`
	for _, tc := range []struct {
		manager   string
		principal bool
		senior    time.Duration
	}{
		{``, false, 10 * time.Second},
		{`<Manager className="org.apache.catalina.ha.session.DeltaManager" replicatePrincipal="true" stateTransferSeniorTimeout="3"/>`, true, 3 * time.Second},
	} {
		s := parse(t, fmt.Sprintf(tmpl, tc.manager))
		dc := deltaConfig(s.Cluster(), &s.Cluster().Manager, "localhost#", "n1", 0, 0, zerolog.Nop())
		if dc.ReplicatePrincipal != tc.principal || dc.StateTransferSeniorTimeout != tc.senior {
			t.Errorf("%q: replicatePrincipal %v, stateTransferSeniorTimeout %v", tc.manager, dc.ReplicatePrincipal, dc.StateTransferSeniorTimeout)
		}
		if err := dc.Validate(); err != nil {
			t.Error(err)
		}
	}
}
