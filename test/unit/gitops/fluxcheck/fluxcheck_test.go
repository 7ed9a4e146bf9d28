// Package fluxcheck validates gitops/flux/*.yaml against Flux's API types: every document decodes
// strictly (an unknown or misspelt field fails) into the type its kind names, and the examples point
// at what exists in this repository (the chart path, the CRD's group/version/kind).
package fluxcheck

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	sourcev1 "github.com/fluxcd/source-controller/api/v1"
	"sigs.k8s.io/yaml"
)

func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "..")
}

type typeMeta struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
}

// documents splits a multi-document YAML file.
func documents(t *testing.T, path string) [][]byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for _, d := range bytes.Split(data, []byte("\n---")) {
		if len(bytes.TrimSpace(stripComments(d))) > 0 {
			out = append(out, d)
		}
	}
	return out
}

func stripComments(d []byte) []byte {
	var b bytes.Buffer
	for _, line := range strings.Split(string(d), "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "#") {
			b.WriteString(line + "\n")
		}
	}
	return b.Bytes()
}

// decode strictly into the Flux type named by the document's apiVersion/kind.
func decode(t *testing.T, doc []byte) any {
	t.Helper()
	var tm typeMeta
	if err := yaml.Unmarshal(doc, &tm); err != nil {
		t.Fatalf("not YAML: %v", err)
	}
	var obj any
	switch tm.APIVersion + "/" + tm.Kind {
	case sourcev1.GroupVersion.String() + "/GitRepository":
		obj = &sourcev1.GitRepository{}
	case helmv2.GroupVersion.String() + "/HelmRelease":
		obj = &helmv2.HelmRelease{}
	case kustomizev1.GroupVersion.String() + "/Kustomization":
		obj = &kustomizev1.Kustomization{}
	default:
		t.Fatalf("unexpected %s %s (not a current Flux API version?)", tm.APIVersion, tm.Kind)
	}
	if err := yaml.UnmarshalStrict(doc, obj); err != nil {
		t.Fatalf("%s %s does not decode strictly: %v", tm.APIVersion, tm.Kind, err)
	}
	return obj
}

func TestFluxExamplesDecodeStrictly(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(repoRoot(), "gitops", "flux", "*.yaml"))
	if len(files) == 0 {
		t.Fatal("no gitops/flux/*.yaml")
	}
	kinds := map[string]int{}
	for _, f := range files {
		for _, doc := range documents(t, f) {
			switch o := decode(t, doc).(type) {
			case *sourcev1.GitRepository:
				kinds["GitRepository"]++
				if o.Spec.URL == "" || o.Spec.Interval.Duration <= 0 {
					t.Errorf("%s: GitRepository needs url and interval", f)
				}
			case *helmv2.HelmRelease:
				kinds["HelmRelease"]++
				if o.Spec.Chart == nil {
					t.Fatalf("%s: HelmRelease without chart", f)
				}
				chart := filepath.Join(repoRoot(), o.Spec.Chart.Spec.Chart, "Chart.yaml")
				if _, err := os.Stat(chart); err != nil {
					t.Errorf("%s: chart path %q has no Chart.yaml in this repository", f, o.Spec.Chart.Spec.Chart)
				}
				if o.Spec.Chart.Spec.SourceRef.Kind != sourcev1.GitRepositoryKind {
					t.Errorf("%s: chart source should be the GitRepository", f)
				}
			case *kustomizev1.Kustomization:
				kinds["Kustomization"]++
				if !o.Spec.Wait && len(o.Spec.HealthChecks) == 0 {
					t.Errorf("%s: Kustomization neither waits nor health-checks the release", f)
				}
				if o.Spec.Timeout == nil || o.Spec.Timeout.Duration < 10*time.Minute {
					t.Errorf("%s: timeout must outlast a release (>= 10m, progressDeadlineSeconds defaults to 600)", f)
				}
				for _, hc := range o.Spec.HealthChecks {
					if hc.Kind == "BlueGreenRelease" && hc.APIVersion != "bluegreen.io/v1alpha1" {
						t.Errorf("%s: health check apiVersion %q, want bluegreen.io/v1alpha1", f, hc.APIVersion)
					}
				}
			}
		}
	}
	for _, k := range []string{"GitRepository", "HelmRelease", "Kustomization"} {
		if kinds[k] == 0 {
			t.Errorf("no %s among the examples", k)
		}
	}
}

func TestStrictDecodingRejectsTypos(t *testing.T) {
	doc := []byte("apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata: {name: x}\nspec:\n  interval: 5m\n  prune: true\n  healthCheck: []\n  sourceRef: {kind: GitRepository, name: apps}\n")
	if err := yaml.UnmarshalStrict(doc, &kustomizev1.Kustomization{}); err == nil {
		t.Fatal("a Kustomization with the unknown field healthCheck decoded without error")
	}
}
