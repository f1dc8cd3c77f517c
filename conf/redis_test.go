package conf

import (
	"strings"
	"testing"
	"time"
)

func TestRedisManager(t *testing.T) {
	base := func(mgr string) string {
		return `<Server port="8005" shutdown="SHUTDOWN"><Service><Connector port="8080"/><Engine name="C" defaultHost="localhost"><Host name="localhost" appBase="webapps">` +
			`<Context path="/shop" app="example">` + mgr + `</Context></Host></Engine></Service></Server>`
	}
	for _, tt := range []struct {
		name, xml string
		check     func(*RedisManager) bool
		problem   string
	}{
		{"defaults", base(`<Manager className="gomcat.RedisManager" address="redis://127.0.0.1:6379/2"/>`), func(m *RedisManager) bool {
			return m.Address == "redis://127.0.0.1:6379/2" && m.KeyPrefix == "gomcat" && m.Database == -1 && m.FlushMode == "onRequestEnd" &&
				m.WriteMode == "changedAttributes" && m.Timeout == time.Second && m.ConfigureNotifications && !m.Sticky
		}, ""},
		{"sentinel", base(`<Manager className="gomcat.RedisManager" sentinel="127.0.0.1:26379, 127.0.0.2:26379" masterName="gm" keyPrefix="shop" database="3" flushMode="immediate" writeMode="whole" sticky="true" timeout="250" passwordFile="conf/redis.pass" username="app"/>`), func(m *RedisManager) bool {
			return len(m.Sentinel) == 2 && m.Sentinel[1] == "127.0.0.2:26379" && m.MasterName == "gm" && m.KeyPrefix == "shop" && m.Database == 3 &&
				m.FlushMode == "immediate" && m.WriteMode == "whole" && m.Sticky && m.Timeout == 250*time.Millisecond && m.PasswordFile == "conf/redis.pass" && m.Username == "app"
		}, ""},
		{"none", base(`<Manager className="gomcat.RedisManager"/>`), nil, "exactly one of address, sentinel and cluster"},
		{"two", base(`<Manager className="gomcat.RedisManager" address="redis://h:1" cluster="h:2"/>`), nil, "exactly one of"},
		{"no master", base(`<Manager className="gomcat.RedisManager" sentinel="h:1"/>`), nil, "needs masterName"},
		{"bad mode", base(`<Manager className="gomcat.RedisManager" address="redis://h:1" flushMode="sometimes"/>`), nil, "onRequestEnd or immediate"},
		{"cluster database", base(`<Manager className="gomcat.RedisManager" cluster="h:1,h:2" database="2"/>`), nil, "only database 0"},
		{"timeout", base(`<Manager className="gomcat.RedisManager" address="redis://h:1" timeout="0"/>`), nil, "timeout"},
		{"other manager ignored", base(`<Manager className="org.apache.catalina.session.StandardManager"/>`), func(m *RedisManager) bool { return m == nil }, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, _, err := Parse("server.xml", []byte(tt.xml))
			if err == nil {
				err = s.Validate()
			}
			if tt.problem != "" {
				if err == nil || !strings.Contains(err.Error(), tt.problem) {
					t.Fatalf("Validate = %v, want %q", err, tt.problem)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			m := s.Engine().Hosts[0].Contexts[0].Manager
			if !tt.check(m) {
				t.Fatalf("Manager = %+v", m)
			}
		})
	}
}

func TestRedisManagerDescribe(t *testing.T) {
	xml := `<Server port="8005" shutdown="SHUTDOWN"><Service><Connector port="8080"/><Engine name="C" defaultHost="localhost"><Host name="localhost" appBase="webapps">` +
		`<Context path="/shop" app="example" distributable="true"><Manager className="gomcat.RedisManager" address="redis://app:s3cret@127.0.0.1:6379/1" sticky="true"/></Context></Host></Engine></Service></Server>`
	s, _, err := Parse("server.xml", []byte(xml))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	s.Describe(&b)
	out := b.String()
	for _, want := range []string{"Manager gomcat.RedisManager", "redis://app:xxxxx@127.0.0.1:6379/1", "sticky", "flushMode", "onRequestEnd"} {
		if !strings.Contains(out, want) {
			t.Errorf("Describe lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "s3cret") {
		t.Errorf("Describe shows the password:\n%s", out)
	}
}
