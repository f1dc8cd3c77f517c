package conf

import (
	"strings"
	"testing"
)

func TestAdminListener(t *testing.T) {
	base := func(listener string) string {
		return `<Server port="8005" shutdown="SHUTDOWN">` + listener +
			`<Listener className="org.apache.catalina.startup.VersionLoggerListener"/>` +
			`<Service name="Catalina"><Connector port="8080"/><Engine name="Catalina" defaultHost="localhost"><Host name="localhost" appBase="webapps"/></Engine></Service></Server>`
	}
	tests := []struct {
		name, xml string
		want      *Admin // nil: no listener
		problem   string // in Validate's error
	}{
		{"absent", base(""), nil, ""},
		{"loopback", base(`<Listener className="org.gomcat.AdminListener" port="9080"/>`), &Admin{Address: "127.0.0.1", Port: 9080}, ""},
		{"short name", base(`<Listener className="AdminListener" address="::1" port="0"/>`), &Admin{Address: "::1", Port: 0}, ""},
		{"off loopback with token", base(`<Listener className="AdminListener" address="0.0.0.0" port="9080" tokenFile="conf/admin.token"/>`),
			&Admin{Address: "0.0.0.0", Port: 9080, TokenFile: "conf/admin.token"}, ""},
		{"off loopback without token", base(`<Listener className="AdminListener" address="0.0.0.0" port="9080"/>`), nil, "needs tokenFile"},
		{"port clash", base(`<Listener className="AdminListener" port="8080"/>`), nil, "already used"},
		{"bad port", base(`<Listener className="AdminListener" port="70000"/>`), nil, "not a valid port"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _, err := Parse("server.xml", []byte(tt.xml))
			if err != nil {
				t.Fatal(err)
			}
			err = s.Validate()
			if tt.problem != "" {
				if err == nil || !strings.Contains(err.Error(), tt.problem) {
					t.Fatalf("Validate = %v, want %q", err, tt.problem)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if (s.Admin == nil) != (tt.want == nil) {
				t.Fatalf("Admin = %+v, want %+v", s.Admin, tt.want)
			}
			if tt.want != nil && (s.Admin.Address != tt.want.Address || s.Admin.Port != tt.want.Port || s.Admin.TokenFile != tt.want.TokenFile) {
				t.Fatalf("Admin = %+v, want %+v", s.Admin, tt.want)
			}
		})
	}
}

func TestAdminOverride(t *testing.T) {
	s, _, err := Parse("server.xml", []byte(`<Server port="8005" shutdown="SHUTDOWN"><Service><Connector port="8080"/><Engine name="C" defaultHost="localhost"><Host name="localhost"/></Engine></Service></Server>`))
	if err != nil {
		t.Fatal(err)
	}
	env, err := OverridesFromEnv(func(k string) string {
		if k == "GOMCAT_ADMIN" {
			return "127.0.0.1:9181"
		}
		return ""
	})
	if err != nil {
		t.Fatal(err)
	}
	s.Apply(env)
	if s.Admin == nil || s.Admin.Address != "127.0.0.1" || s.Admin.Port != 9181 {
		t.Fatalf("after GOMCAT_ADMIN: %+v", s.Admin)
	}
	off := "off"
	s.Apply(Overrides{Admin: &off})
	if s.Admin.Port != -1 {
		t.Fatalf("after --admin off: %+v", s.Admin)
	}
	if _, err := OverridesFromEnv(func(k string) string {
		if k == "GOMCAT_ADMIN" {
			return "nonsense"
		}
		return ""
	}); err == nil {
		t.Fatal("GOMCAT_ADMIN=nonsense accepted")
	}
	for _, v := range []string{"127.0.0.1:x", "host", "1.2.3.4:70000"} {
		if _, _, err := ParseAdmin(v); err == nil {
			t.Errorf("ParseAdmin(%q) accepted", v)
		}
	}
}
