package conf

import (
	"os"
	"strings"
	"testing"
)

// stockServerXML returns Tomcat 10's own server.xml (never copied into the
// repository): from GOMCAT_TOMCAT10_SERVER_XML, else Debian's path. Missing
// skips, except under CI=true where it fails.
func stockServerXML(t *testing.T) (string, []byte) {
	t.Helper()
	path := os.Getenv("GOMCAT_TOMCAT10_SERVER_XML")
	if path == "" {
		path = "/usr/share/tomcat10/etc/server.xml"
	}
	data, err := os.ReadFile(path)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("Tomcat 10 server.xml required under CI: %v (set GOMCAT_TOMCAT10_SERVER_XML)", err)
		}
		t.Skipf("no Tomcat 10 server.xml at %s (set GOMCAT_TOMCAT10_SERVER_XML)", path)
	}
	return path, data
}

func TestTomcat10StockServerXML(t *testing.T) {
	path, data := stockServerXML(t)
	s, warns, err := Parse(path, data)
	if err != nil {
		t.Fatalf("stock server.xml refused: %v", err)
	}
	if err := s.Validate(); err != nil {
		t.Fatalf("stock server.xml invalid: %v", err)
	}
	// Debian ships port="-1"; upstream ships 8005.
	if s.Port != -1 && s.Port != 8005 {
		t.Errorf("shutdown port = %d", s.Port)
	}
	if c := s.Connector(); c == nil || c.Port != 8080 || c.ConnectionTimeout.Milliseconds() != 20000 {
		t.Errorf("connector = %+v, want port 8080 timeout 20000 ms", c)
	}
	e := s.Engine()
	if e.Name != "Catalina" || e.DefaultHost != "localhost" || e.Host("localhost") == nil || s.Cluster() != nil {
		t.Errorf("engine = %+v", e)
	}
	all := ""
	for _, w := range warns {
		all += w.String() + "\n"
	}
	for _, want := range []string{"<Listener>", "<GlobalNamingResources>", "<Realm>", "AccessLogValve"} {
		if !strings.Contains(all, want) {
			t.Errorf("no warning about %s; warnings:\n%s", want, all)
		}
	}
}

// Uncommenting the stock file's Cluster line (and adding a jvmRoute) gives
// Tomcat's default cluster.
func TestTomcat10StockClusterEnabled(t *testing.T) {
	path, data := stockServerXML(t)
	doc := string(data)
	const line = `<Cluster className="org.apache.catalina.ha.tcp.SimpleTcpCluster"/>`
	i := strings.Index(doc, line)
	if i < 0 {
		t.Skip("stock server.xml has no commented Cluster line")
	}
	open := strings.LastIndex(doc[:i], "<!--")
	end := strings.Index(doc[i:], "-->") + i
	doc = doc[:open] + line + doc[end+3:]
	doc = strings.Replace(doc, `<Engine name="Catalina" defaultHost="localhost">`, `<Engine name="Catalina" defaultHost="localhost" jvmRoute="tc10">`, 1)
	s, _, err := Parse(path, []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	c := s.Cluster()
	if c == nil || c.Membership.Port != 45564 || c.Receiver.Port != 4000 || len(c.Interceptors) != 2 {
		t.Fatalf("cluster = %+v", c)
	}
}
