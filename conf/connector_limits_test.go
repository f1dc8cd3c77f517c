package conf

import (
	"testing"
	"time"
)

// The connector's resource limits take Tomcat's attribute names.
func TestConnectorLimits(t *testing.T) {
	parse := func(attrs string) *Connector {
		t.Helper()
		s, _, err := Parse("server.xml", []byte(`<Server port="-1"><Service name="Catalina"><Connector port="8080" `+attrs+`/>
<Engine name="Catalina" defaultHost="localhost"><Host name="localhost"/></Engine></Service></Server>`))
		if err != nil {
			t.Fatal(err)
		}
		return s.Service().Connectors[0]
	}
	c := parse("")
	if c.MaxConnections != 8192 || c.MaxHeaderCount != 100 || !c.DisableUploadTimeout ||
		c.ConnectionUploadTimeout != 300*time.Second || c.MinUploadRate != 240 {
		t.Fatalf("defaults: %+v", c)
	}
	c = parse(`maxConnections="50" maxHeaderCount="-1" disableUploadTimeout="false" connectionUploadTimeout="7000" minUploadRate="-1"`)
	if c.MaxConnections != 50 || c.MaxHeaderCount != -1 || c.DisableUploadTimeout ||
		c.ConnectionUploadTimeout != 7*time.Second || c.MinUploadRate != -1 {
		t.Fatalf("set: %+v", c)
	}
	s, _, err := Parse("server.xml", []byte(`<Server port="-1"><Service name="Catalina"><Connector port="8080" maxConnections="-5"/>
<Engine name="Catalina" defaultHost="localhost"><Host name="localhost"/></Engine></Service></Server>`))
	if err == nil {
		err = s.Validate()
	}
	if err == nil {
		t.Fatal("maxConnections=-5 accepted")
	}
}
