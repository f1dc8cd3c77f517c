package balancer

import (
	"net/http"
	"slices"
	"strings"
	"testing"
)

func TestRouteOf(t *testing.T) {
	for _, tc := range []struct{ id, want string }{
		{"5B4C9A.node1", "node1"},
		{"ABC", ""},
		{"ABC.", ""},
		{"ABC.a.b", "a.b"},
		{".node2", "node2"},
		{"", ""},
	} {
		if got := RouteOf(tc.id); got != tc.want {
			t.Errorf("RouteOf(%q) = %q, want %q", tc.id, got, tc.want)
		}
	}
}

func TestSessionRoutes(t *testing.T) {
	for _, tc := range []struct {
		name    string
		target  string
		cookies []string
		want    []string
	}{
		{"cookie", "/", []string{"JSESSIONID=5B4C.node1"}, []string{"node1"}},
		{"cookie among others", "/", []string{"a=1; JSESSIONID=5B4C.node2; b=2"}, []string{"node2"}},
		{"quoted cookie", "/", []string{`JSESSIONID="X.node1"`}, []string{"node1"}},
		{"no dot", "/", []string{"JSESSIONID=5B4C"}, nil},
		{"other cookie name", "/", []string{"MYSESSION=X.node1; jsessionid=Y.node2"}, nil},
		{"several cookies in order", "/", []string{"JSESSIONID=A.gone; JSESSIONID=B.node2", "JSESSIONID=C.node3"}, []string{"gone", "node2", "node3"}},
		{"route with dots", "/", []string{"JSESSIONID=A.node1.eu.x"}, []string{"node1.eu.x"}},
		{"path parameter", "/app/x;jsessionid=ABC.node2", nil, []string{"node2"}},
		{"path parameter mid path", "/app;jsessionid=ABC.node2/x?y=1", nil, []string{"node2"}},
		{"path parameter with others", "/app;foo=1;jsessionid=ABC.node2;bar=2", nil, []string{"node2"}},
		{"path parameter no dot", "/app;jsessionid=ABC", nil, nil},
		{"path parameter name prefix", "/app;jsessionidx=ABC.node2", nil, nil},
		{"query is not a path parameter", "/app?x=;jsessionid=ABC.node2", nil, nil},
		{"cookie then path", "/a;jsessionid=B.node2", []string{"JSESSIONID=A.node1"}, []string{"node1", "node2"}},
		{"none", "/", nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := http.NewRequest(http.MethodGet, "http://lb"+tc.target, nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range tc.cookies {
				r.Header.Add("Cookie", c)
			}
			got := sessionRoutes(nil, r, "JSESSIONID", "jsessionid")
			if !slices.Equal(got, tc.want) {
				t.Errorf("routes = %q, want %q", got, tc.want)
			}
		})
	}
}

// FuzzCookieRoutes: any Cookie header line yields routes that are substrings
// of it, without panicking.
func FuzzCookieRoutes(f *testing.F) {
	for _, s := range []string{"JSESSIONID=5B4C.node1", "a=1; JSESSIONID=X.n2; JSESSIONID=Y", `JSESSIONID="Q.a.b"`, ";;=;JSESSIONID=.", ""} {
		f.Add(s, "/x;jsessionid=A.node1;y")
	}
	f.Fuzz(func(t *testing.T, line, path string) {
		for _, rt := range cookieRoutes(nil, line, "JSESSIONID") {
			if rt == "" || !strings.Contains(line, rt) {
				t.Fatalf("route %q not in %q", rt, line)
			}
		}
		if v := pathParam(path, "jsessionid"); v != "" && !strings.Contains(path, v) {
			t.Fatalf("param %q not in %q", v, path)
		}
	})
}
