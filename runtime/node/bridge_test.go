package node

import (
	"strings"
	"testing"

	"github.com/gomcat/gomcat/conf"
)

// TestNewBridgeRefuses: a bridge needs a DeltaManager cluster, a jvmRoute
// of its own and a context with a RedisManager to move sessions into.
func TestNewBridgeRefuses(t *testing.T) {
	const redisCtx = `<Context path="/" app="example" distributable="true"><Manager className="gomcat.RedisManager" address="redis://127.0.0.1:1"/></Context>`
	const cluster = `<Cluster className="org.apache.catalina.ha.tcp.SimpleTcpCluster" insecure="true"/>`
	xml := func(route, clus, ctx string) string {
		return `<Server port="-1" shutdown="X"><Service name="Catalina"><Connector port="0" address="127.0.0.1"/>` +
			`<Engine name="Catalina" defaultHost="localhost"` + route + `><Host name="localhost" appBase="webapps">` +
			ctx + clus + `</Host></Engine></Service></Server>`
	}
	for _, tc := range []struct{ name, xml, want string }{
		{"no cluster", xml(` jvmRoute="bridge"`, "", redisCtx), "no <Cluster>"},
		{"no route", xml("", cluster, redisCtx), "jvmRoute is required"},
		{"no redis context", xml(` jvmRoute="bridge"`, cluster, `<Context path="/" app="example" distributable="true"/>`), "nothing to move"},
		{"backup manager", xml(` jvmRoute="bridge"`, `<Cluster className="org.apache.catalina.ha.tcp.SimpleTcpCluster" insecure="true"><Manager className="org.apache.catalina.ha.session.BackupManager"/></Cluster>`, redisCtx), "BackupManager"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, _, err := conf.Parse("server.xml", []byte(tc.xml))
			if err != nil {
				t.Fatal(err)
			}
			_, err = NewBridge(BridgeConfig{Server: s, Home: t.TempDir()})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("NewBridge = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}
