package discovery

import "testing"

func TestParseTarget(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"198.18.0.1", "198.18.0.1"},
		{"198.18.0.1:4000", "198.18.0.1:4000"},
		{"[fd00::1]:4000", "[fd00::1]:4000"},
		{"fd00::1", "fd00::1"},
		{"::ffff:198.18.0.1", "198.18.0.1"},
	} {
		got, err := ParseTarget(c.in)
		if err != nil || got.String() != c.want {
			t.Errorf("ParseTarget(%q) = %v, %v; want %s", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{"", "host.example", "198.18.0.1:0", "198.18.0.1:x", "[fd00::1]"} {
		if _, err := ParseTarget(bad); err == nil {
			t.Errorf("ParseTarget(%q): no error", bad)
		}
	}
}

func FuzzParseTarget(f *testing.F) {
	for _, s := range []string{"198.18.0.1:4000", "[fd00::1]:4000", "fd00::1", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tg, err := ParseTarget(s)
		if err != nil {
			return
		}
		back, err := ParseTarget(tg.String())
		if err != nil || back != tg {
			t.Fatalf("%q -> %v -> %v, %v", s, tg, back, err)
		}
	})
}
