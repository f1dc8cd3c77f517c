// Package kubernetes_test checks the Kubernetes example: no API server runs
// here, so the manifests are parsed (YAML → the expected kinds and fields,
// and the names that must agree across them), and the ConfigMap's
// server.xml goes through the node's own configuration checks with the
// environment a pod gets.
package kubernetes_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/gomcat/gomcat/conf"
	"github.com/gomcat/gomcat/runtime/node"
)

// object is the part of a Kubernetes object the test reads.
type object struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   struct {
		Name   string            `yaml:"name"`
		Labels map[string]string `yaml:"labels"`
	} `yaml:"metadata"`
	Data  map[string]string `yaml:"data"`
	Rules []struct {
		APIGroups []string `yaml:"apiGroups"`
		Resources []string `yaml:"resources"`
		Verbs     []string `yaml:"verbs"`
	} `yaml:"rules"`
	Subjects []struct{ Kind, Name string } `yaml:"subjects"`
	RoleRef  struct{ Kind, Name string }   `yaml:"roleRef"`
	Spec     struct {
		// Service
		ClusterIP                string    `yaml:"clusterIP"`
		PublishNotReadyAddresses bool      `yaml:"publishNotReadyAddresses"`
		Selector                 yaml.Node `yaml:"selector"`
		Ports                    []port    `yaml:"ports"`
		// StatefulSet
		ServiceName string `yaml:"serviceName"`
		Replicas    int    `yaml:"replicas"`
		Template    struct {
			Metadata struct {
				Labels map[string]string `yaml:"labels"`
			} `yaml:"metadata"`
			Spec podSpec `yaml:"spec"`
		} `yaml:"template"`
	} `yaml:"spec"`
}

type port struct {
	Name          string `yaml:"name"`
	Port          int    `yaml:"port"`
	ContainerPort int    `yaml:"containerPort"`
	TargetPort    string `yaml:"targetPort"`
}

type probe struct {
	HTTPGet struct {
		Path string `yaml:"path"`
		Port string `yaml:"port"`
	} `yaml:"httpGet"`
}

type podSpec struct {
	ServiceAccountName string `yaml:"serviceAccountName"`
	Containers         []struct {
		Name string `yaml:"name"`
		Env  []struct {
			Name      string `yaml:"name"`
			Value     string `yaml:"value"`
			ValueFrom struct {
				FieldRef struct {
					FieldPath string `yaml:"fieldPath"`
				} `yaml:"fieldRef"`
				SecretKeyRef struct{ Name, Key string } `yaml:"secretKeyRef"`
			} `yaml:"valueFrom"`
		} `yaml:"env"`
		Ports          []port `yaml:"ports"`
		ReadinessProbe probe  `yaml:"readinessProbe"`
		LivenessProbe  probe  `yaml:"livenessProbe"`
		VolumeMounts   []struct {
			Name      string `yaml:"name"`
			MountPath string `yaml:"mountPath"`
			SubPath   string `yaml:"subPath"`
		} `yaml:"volumeMounts"`
	} `yaml:"containers"`
	Volumes []struct {
		Name      string                `yaml:"name"`
		ConfigMap struct{ Name string } `yaml:"configMap"`
		Secret    struct {
			SecretName string                       `yaml:"secretName"`
			Items      []struct{ Key, Path string } `yaml:"items"`
		} `yaml:"secret"`
	} `yaml:"volumes"`
}

// load reads every document of every *.yaml file, by kind.
func load(t *testing.T) map[string]*object {
	t.Helper()
	files, _ := filepath.Glob("*.yaml")
	if len(files) == 0 {
		t.Fatal("no manifests")
	}
	byKind := map[string]*object{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		d := yaml.NewDecoder(bytes.NewReader(b))
		d.KnownFields(false)
		for {
			var o object
			err := d.Decode(&o)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			if o.APIVersion == "" || o.Kind == "" || o.Metadata.Name == "" {
				t.Fatalf("%s: a document without apiVersion, kind or name: %+v", f, o)
			}
			if byKind[o.Kind] != nil {
				t.Fatalf("%s: a second %s", f, o.Kind)
			}
			byKind[o.Kind] = &o
		}
	}
	want := []string{"ConfigMap", "Role", "RoleBinding", "Service", "ServiceAccount", "StatefulSet"}
	var got []string
	for k := range byKind {
		got = append(got, k)
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Fatalf("kinds %v, want %v", got, want)
	}
	return byKind
}

func TestManifests(t *testing.T) {
	m := load(t)
	sa, role, rb, svc, sts, cm := m["ServiceAccount"], m["Role"], m["RoleBinding"], m["Service"], m["StatefulSet"], m["ConfigMap"]
	for kind, v := range map[string]string{"Role": "rbac.authorization.k8s.io/v1", "RoleBinding": "rbac.authorization.k8s.io/v1",
		"StatefulSet": "apps/v1", "Service": "v1", "ServiceAccount": "v1", "ConfigMap": "v1"} {
		if m[kind].APIVersion != v {
			t.Errorf("%s apiVersion %q, want %q", kind, m[kind].APIVersion, v)
		}
	}

	// RBAC: the pods' service account may list pods (and nothing more).
	if len(role.Rules) != 1 || !slices.Equal(role.Rules[0].APIGroups, []string{""}) ||
		!slices.Equal(role.Rules[0].Resources, []string{"pods"}) || !slices.Contains(role.Rules[0].Verbs, "list") {
		t.Errorf("Role rules %+v: want list on pods", role.Rules)
	}
	if rb.RoleRef.Kind != "Role" || rb.RoleRef.Name != role.Metadata.Name ||
		len(rb.Subjects) != 1 || rb.Subjects[0].Kind != "ServiceAccount" || rb.Subjects[0].Name != sa.Metadata.Name {
		t.Errorf("RoleBinding %+v %+v does not bind %s to %s", rb.RoleRef, rb.Subjects, sa.Metadata.Name, role.Metadata.Name)
	}

	// The headless Service publishes pods before they are ready.
	var sel map[string]string
	if err := svc.Spec.Selector.Decode(&sel); err != nil {
		t.Fatal(err)
	}
	if svc.Spec.ClusterIP != "None" || !svc.Spec.PublishNotReadyAddresses {
		t.Errorf("Service: clusterIP %q, publishNotReadyAddresses %v: want headless, true", svc.Spec.ClusterIP, svc.Spec.PublishNotReadyAddresses)
	}

	// The StatefulSet.
	tpl := sts.Spec.Template
	if sts.Spec.ServiceName != svc.Metadata.Name || tpl.Spec.ServiceAccountName != sa.Metadata.Name || sts.Spec.Replicas < 2 {
		t.Errorf("StatefulSet serviceName %q, serviceAccountName %q, replicas %d", sts.Spec.ServiceName, tpl.Spec.ServiceAccountName, sts.Spec.Replicas)
	}
	for k, v := range sel {
		if tpl.Metadata.Labels[k] != v {
			t.Errorf("Service selector %s=%s does not match the pods' labels %v", k, v, tpl.Metadata.Labels)
		}
	}
	if len(tpl.Spec.Containers) != 1 {
		t.Fatalf("%d containers", len(tpl.Spec.Containers))
	}
	c := tpl.Spec.Containers[0]
	ports := map[string]int{}
	for _, p := range c.Ports {
		ports[p.Name] = p.ContainerPort
	}
	for _, p := range svc.Spec.Ports {
		if ports[p.TargetPort] == 0 {
			t.Errorf("Service port %s targets %q, not a container port", p.Name, p.TargetPort)
		}
	}
	if c.ReadinessProbe.HTTPGet.Path != "/readyz" || ports[c.ReadinessProbe.HTTPGet.Port] == 0 ||
		c.LivenessProbe.HTTPGet.Path != "/livez" || ports[c.LivenessProbe.HTTPGet.Port] == 0 {
		t.Errorf("probes %+v, %+v: want /readyz and /livez on a container port", c.ReadinessProbe, c.LivenessProbe)
	}

	// The pod's environment, as the kubelet fills it in for pod gomcat-0.
	env := map[string]string{}
	fields := map[string]string{"metadata.name": "gomcat-0", "status.podIP": "198.18.1.7", "metadata.namespace": "shop"}
	secret := ""
	for _, e := range c.Env {
		switch {
		case e.ValueFrom.FieldRef.FieldPath != "":
			v, ok := fields[e.ValueFrom.FieldRef.FieldPath]
			if !ok {
				t.Errorf("env %s: unexpected field %s", e.Name, e.ValueFrom.FieldRef.FieldPath)
			}
			env[e.Name] = v
		case e.ValueFrom.SecretKeyRef.Name != "":
			secret = e.ValueFrom.SecretKeyRef.Name
			env[e.Name] = strings.Repeat("ab", 32) // kubectl create secret … cluster-key=<64 hex digits>
		default:
			env[e.Name] = e.Value
		}
	}
	if env["GOMCAT_JVM_ROUTE"] != "gomcat-0" || env["GOMCAT_RECEIVER_ADDRESS"] != "198.18.1.7" ||
		env["KUBERNETES_NAMESPACE"] != "shop" || env["GOMCAT_CLUSTER_KEY"] == "" {
		t.Errorf("env %v: want jvmRoute, receiver address, namespace and the cluster key from a Secret", env)
	}
	// KUBERNETES_LABELS selects exactly the StatefulSet's pods.
	for _, kv := range strings.Split(env["KUBERNETES_LABELS"], ",") {
		k, v, _ := strings.Cut(kv, "=")
		if tpl.Metadata.Labels[k] != v {
			t.Errorf("KUBERNETES_LABELS %q: %s is not a label of the pods %v", env["KUBERNETES_LABELS"], kv, tpl.Metadata.Labels)
		}
	}

	// Volumes: server.xml from the ConfigMap, the admin token from the same
	// Secret as the key.
	mounts := map[string]string{}
	for _, vm := range c.VolumeMounts {
		mounts[vm.Name] = vm.MountPath
		if vm.SubPath != "" && vm.SubPath != filepath.Base(vm.MountPath) {
			t.Errorf("mount %s: subPath %s", vm.Name, vm.SubPath)
		}
	}
	var tokenFile string
	for _, v := range tpl.Spec.Volumes {
		switch {
		case v.ConfigMap.Name != "":
			if v.ConfigMap.Name != cm.Metadata.Name || mounts[v.Name] != "/var/lib/gomcat/node/conf/server.xml" {
				t.Errorf("volume %s: ConfigMap %s at %s", v.Name, v.ConfigMap.Name, mounts[v.Name])
			}
		case v.Secret.SecretName != "":
			if v.Secret.SecretName != secret || len(v.Secret.Items) != 1 {
				t.Errorf("volume %s: Secret %s %+v, want %s", v.Name, v.Secret.SecretName, v.Secret.Items, secret)
			} else {
				tokenFile = filepath.Join(mounts[v.Name], v.Secret.Items[0].Path)
			}
		}
	}

	// server.xml passes the node's checks in that environment.
	xml, ok := cm.Data["server.xml"]
	if !ok {
		t.Fatal("ConfigMap has no server.xml")
	}
	home := t.TempDir()
	if err := os.MkdirAll(filepath.Join(home, "conf"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, "conf", "server.xml"), []byte(xml), 0o644); err != nil {
		t.Fatal(err)
	}
	s, _, err := conf.Load(home)
	if err != nil {
		t.Fatal(err)
	}
	o, err := conf.OverridesFromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	s.Apply(o)
	if err := s.Validate(); err != nil {
		t.Fatalf("server.xml: %v", err)
	}
	if err := node.CheckClusterKeys(s); err != nil {
		t.Fatalf("server.xml: %v", err)
	}
	if s.Admin == nil || s.Admin.TokenFile != tokenFile || ports["admin"] != s.Admin.Port {
		t.Errorf("admin listener %+v: want port %d and tokenFile %s (the Secret's mount)", s.Admin, ports["admin"], tokenFile)
	}
	cl := s.Cluster()
	if cl == nil || cl.Receiver.Port != ports["cluster"] || s.Engine().JvmRoute != "gomcat-0" {
		t.Fatalf("cluster %+v: want the receiver on the container port %d", cl, ports["cluster"])
	}
	if cl.Membership.ClassName != conf.CloudMembershipService || cl.Membership.MembershipProvider != "kubernetes" {
		t.Errorf("membership %s %q: want CloudMembershipService over kubernetes", cl.Membership.ClassName, cl.Membership.MembershipProvider)
	}
}
