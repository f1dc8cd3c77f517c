package cli

import (
	"io"
	"slices"
	"testing"
)

func TestInterspersed(t *testing.T) {
	app := App(io.Discard, io.Discard)
	for _, tc := range []struct{ in, want []string }{
		{[]string{"gomcat", "deploy", "shop.gar", "--home", "n1"}, []string{"gomcat", "deploy", "--home", "n1", "shop.gar"}},
		{[]string{"gomcat", "deploy", "--home", "n1", "shop.gar"}, []string{"gomcat", "deploy", "--home", "n1", "shop.gar"}},
		{[]string{"gomcat", "deploy", "shop.gar", "--home=n1", "--timeout", "5s"}, []string{"gomcat", "deploy", "--home=n1", "--timeout", "5s", "shop.gar"}},
		{[]string{"gomcat", "bundle", "create", "dir", "-o", "x.gar", "--path", "/x"}, []string{"gomcat", "bundle", "create", "-o", "x.gar", "--path", "/x", "dir"}},
		{[]string{"gomcat", "bundle", "inspect", "x.gar"}, []string{"gomcat", "bundle", "inspect", "x.gar"}},
		{[]string{"gomcat", "deploy", "a.gar", "--", "--odd"}, []string{"gomcat", "deploy", "a.gar", "--", "--odd"}},
		{[]string{"gomcat", "unknown", "x", "--y"}, []string{"gomcat", "unknown", "x", "--y"}},
		{[]string{"gomcat"}, []string{"gomcat"}},
	} {
		if got := interspersed(app, tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("interspersed(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
