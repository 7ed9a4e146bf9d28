// Package kindcheck validates the repository's kind-config.yaml against kind's v1alpha4 API types:
// strict decoding (an unknown or misspelt field fails), kind's defaults, and the checks
// `kind create cluster` makes on nodes and port mappings, plus what the install guide relies on.
package kindcheck

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"sigs.k8s.io/kind/pkg/apis/config/v1alpha4"
	"sigs.k8s.io/yaml"
)

func configPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("KIND_CONFIG"); p != "" {
		return p
	}
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "..", "kind-config.yaml")
}

func load(t *testing.T, path string) *v1alpha4.Cluster {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	var c v1alpha4.Cluster
	if err := yaml.UnmarshalStrict(data, &c); err != nil {
		t.Fatalf("%s does not decode strictly into kind v1alpha4.Cluster: %v", path, err)
	}
	return &c
}

// validate mirrors kind's own config validation (pkg/internal/apis/config/validate.go), which is
// internal to kind's module and cannot be imported.
func validate(c *v1alpha4.Cluster) []string {
	var errs []string
	if c.Kind != "Cluster" || c.APIVersion != "kind.x-k8s.io/v1alpha4" {
		errs = append(errs, "kind/apiVersion must be Cluster/kind.x-k8s.io/v1alpha4, got "+c.Kind+"/"+c.APIVersion)
	}
	controlPlanes := 0
	for i, n := range c.Nodes {
		switch n.Role {
		case v1alpha4.ControlPlaneRole:
			controlPlanes++
		case v1alpha4.WorkerRole:
		default:
			errs = append(errs, fmt.Sprintf("nodes[%d]: unknown role %q", i, n.Role))
		}
		seen := map[int32]bool{}
		for _, m := range n.ExtraPortMappings {
			if m.ContainerPort < 1 || m.ContainerPort > 65535 || m.HostPort < 0 || m.HostPort > 65535 {
				errs = append(errs, fmt.Sprintf("nodes[%d]: port out of range in %+v", i, m))
			}
			if m.HostPort > 0 && seen[m.HostPort] {
				errs = append(errs, fmt.Sprintf("nodes[%d]: host port %d mapped twice", i, m.HostPort))
			}
			seen[m.HostPort] = true
			switch m.Protocol {
			case v1alpha4.PortMappingProtocolTCP, v1alpha4.PortMappingProtocolUDP, v1alpha4.PortMappingProtocolSCTP:
			default:
				errs = append(errs, fmt.Sprintf("nodes[%d]: invalid protocol %q", i, m.Protocol))
			}
		}
	}
	if controlPlanes < 1 {
		errs = append(errs, "at least one control-plane node is required")
	}
	return errs
}

func TestKindConfigDecodesStrictlyAndValidates(t *testing.T) {
	c := load(t, configPath(t))
	v1alpha4.SetDefaultsCluster(c)
	for _, e := range validate(c) {
		t.Error(e)
	}
}

func TestKindConfigPublishesTraefikNodePorts(t *testing.T) {
	c := load(t, configPath(t))
	v1alpha4.SetDefaultsCluster(c)
	want := map[int32]int32{80: 30080, 443: 30443} // host port -> Traefik's NodePort
	for _, n := range c.Nodes {
		if n.Role != v1alpha4.ControlPlaneRole {
			continue
		}
		for _, m := range n.ExtraPortMappings {
			if cp, ok := want[m.HostPort]; ok && cp == m.ContainerPort && m.Protocol == v1alpha4.PortMappingProtocolTCP {
				delete(want, m.HostPort)
			}
		}
	}
	for host, node := range want {
		t.Errorf("no TCP mapping hostPort %d -> containerPort %d on a control-plane node", host, node)
	}
}

func TestStrictDecodingRejectsTypos(t *testing.T) {
	// Guards the guard: a misspelt field must fail, or the test above proves nothing.
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	typo := "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n- role: control-plane\n  extraPortMapping:\n  - containerPort: 30080\n    hostPort: 80\n"
	if err := os.WriteFile(bad, []byte(typo), 0o600); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(bad)
	var c v1alpha4.Cluster
	if err := yaml.UnmarshalStrict(data, &c); err == nil {
		t.Fatal("a config with the unknown field extraPortMapping decoded without error")
	}
	dup := &v1alpha4.Cluster{TypeMeta: v1alpha4.TypeMeta{Kind: "Cluster", APIVersion: "kind.x-k8s.io/v1alpha4"},
		Nodes: []v1alpha4.Node{{Role: "master", ExtraPortMappings: []v1alpha4.PortMapping{
			{ContainerPort: 1, HostPort: 80, Protocol: "TCP"}, {ContainerPort: 2, HostPort: 80, Protocol: "HTTP"}}}}}
	if errs := validate(dup); len(errs) != 4 {
		t.Fatalf("want 4 errors (role, duplicate port, protocol, no control plane), got %v", errs)
	}
}
