package session

import (
	"regexp"
	"testing"
)

func TestNewIDFormat(t *testing.T) {
	for _, route := range []string{"", "node1", "a_b-C9"} {
		id := NewID(route)
		want := `^[0-9A-F]{32}$`
		if route != "" {
			want = `^[0-9A-F]{32}\.` + regexp.QuoteMeta(route) + `$`
		}
		if !regexp.MustCompile(want).MatchString(id) {
			t.Errorf("NewID(%q) = %q, want %s", route, id, want)
		}
	}
}

func TestNewIDUnique(t *testing.T) {
	seen := make(map[string]bool)
	for range 10000 {
		id := NewID("n")
		if seen[id] {
			t.Fatalf("duplicate id %s", id)
		}
		seen[id] = true
	}
}

func TestSplitID(t *testing.T) {
	tests := []struct{ id, base, route string }{
		{"ABC.node1", "ABC", "node1"},
		{"ABC", "ABC", ""},
		{"ABC.n1.n2", "ABC", "n1.n2"},
		{".node1", ".node1", ""},
		{"", "", ""},
		{"ABC.", "ABC", ""},
	}
	for _, tt := range tests {
		b, r := SplitID(tt.id)
		if b != tt.base || r != tt.route {
			t.Errorf("SplitID(%q) = %q, %q; want %q, %q", tt.id, b, r, tt.base, tt.route)
		}
	}
}

func TestValidRoute(t *testing.T) {
	for name, want := range map[string]bool{
		"node1": true, "N_1-x": true, "": false, "a.b": false, "a b": false, "ü": false, "a/b": false, "a;b": false,
	} {
		if got := ValidRoute(name); got != want {
			t.Errorf("ValidRoute(%q) = %v, want %v", name, got, want)
		}
	}
}
