package kubernetes

import (
	"os"
	"testing"
)

func FuzzParsePods(f *testing.F) {
	for _, name := range []string{"testdata/podlist.json", "testdata/forbidden.json"} {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"items":[{"metadata":{"name":"a"},"status":{"phase":"Running","podIP":"fe80::1%eth0","podIPs":[{"ip":"::ffff:198.18.0.1"},{"ip":"198.18.0.1"}]}}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		ts, skipped, err := parsePods(body, 4000)
		if err != nil {
			if ts != nil || skipped != 0 {
				t.Fatalf("error %v with %d targets, %d skipped", err, len(ts), skipped)
			}
			return
		}
		for _, tg := range ts {
			if !tg.Addr.IsValid() || tg.Addr.Zone() != "" || tg.Addr.Is4In6() || tg.Port != 4000 {
				t.Fatalf("bad target %#v", tg)
			}
		}
		statusMessage(body)
	})
}

func TestParsePodsDedup(t *testing.T) {
	ts, skipped, err := parsePods([]byte(`{"kind":"PodList","items":[
		{"metadata":{"name":"a"},"status":{"phase":"Running","podIP":"fe80::1%eth0","podIPs":[{"ip":"::ffff:198.18.0.1"},{"ip":"198.18.0.1"}]}},
		{"kind":"Service","metadata":{"name":"b"},"status":{"phase":"Running","podIP":"198.18.0.2"}},
		{"metadata":{},"status":{"phase":"Running","podIP":"198.18.0.3"}},
		{"metadata":{"name":"d"},"status":{"phase":"Running","podIP":"not-an-ip"}}]}`), 0)
	if err != nil || len(ts) != 1 || ts[0].String() != "198.18.0.1" || skipped != 3 {
		t.Fatalf("%v, %d skipped, %v", ts, skipped, err)
	}
}
