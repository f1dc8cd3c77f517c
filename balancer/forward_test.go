package balancer

import "testing"

func TestForwardedElement(t *testing.T) {
	for _, c := range []struct{ remote, host, proto, want string }{
		{"127.0.0.1:5000", "shop.example", "http", "for=127.0.0.1;host=shop.example;proto=http"},
		{"[::1]:5000", "shop.example:8443", "https", `for="[::1]";host="shop.example:8443";proto=https`},
		{"unix", "", "http", "for=unix;proto=http"},
		{"1.2.3.4:1", `a"b\c`, "http", `for=1.2.3.4;host="a\"b\\c";proto=http`},
	} {
		if got := forwardedElement(c.remote, c.host, c.proto); got != c.want {
			t.Errorf("forwardedElement(%q, %q) = %q, want %q", c.remote, c.host, got, c.want)
		}
	}
}
