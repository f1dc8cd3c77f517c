package kubernetes_test

import (
	"context"
	"net"
	"slices"
	"testing"

	"github.com/gomcat/gomcat/discovery/kubernetes"
	"github.com/gomcat/gomcat/discovery/kubernetes/kubernetestest"
)

// TestFromEnvAgainstAPI configures the provider from a pod's environment
// only, against the stand-in API on IPv4 and IPv6 loopback: the selector
// is applied by the API, the token is rotated under it.
func TestFromEnvAgainstAPI(t *testing.T) {
	for _, network := range []string{"127.0.0.1:0", "[::1]:0"} {
		t.Run(network, func(t *testing.T) {
			l, err := net.Listen("tcp", network)
			if err != nil {
				t.Skipf("no %s: %v", network, err)
			}
			api := kubernetestest.New(t, l, "shop")
			app := map[string]string{"app": "gomcat"}
			api.SetPods(
				kubernetestest.Pod{Name: "gomcat-0", Phase: "Running", IPs: []string{"198.18.1.7", "fd00:10:244:1::7"}, Labels: app},
				kubernetestest.Pod{Name: "gomcat-1", Phase: "Pending", Labels: app},
				kubernetestest.Pod{Name: "redis-0", Phase: "Running", IPs: []string{"198.18.1.8"}, Labels: map[string]string{"app": "redis"}},
			)
			env := api.Env("app=gomcat")
			cfg, err := kubernetes.FromEnv(func(k string) string { return env[k] })
			if err != nil {
				t.Fatal(err)
			}
			p, err := kubernetes.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			check := func() {
				t.Helper()
				ts, err := p.Targets(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				for _, tg := range ts {
					got = append(got, tg.String())
				}
				slices.Sort(got)
				if want := []string{"198.18.1.7", "fd00:10:244:1::7"}; !slices.Equal(got, want) {
					t.Errorf("targets %v, want %v", got, want)
				}
			}
			check()
			if err := api.RotateToken("token-2"); err != nil {
				t.Fatal(err)
			}
			check()
			if n, q := api.Hits(); n != 2 || q.Get("labelSelector") != "app=gomcat" {
				t.Errorf("%d requests, last %v", n, q)
			}
			if p.String() != "kubernetes:shop/app=gomcat" {
				t.Errorf("String %q", p)
			}
		})
	}
}
