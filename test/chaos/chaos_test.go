package main

// The checks themselves: each must catch the violation it is for.

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func ptr[T any](v T) *T { return &v }

func testSnapshot() *snapshot {
	s := &snapshot{routes: map[string]ingressRoute{}, deploys: map[string]deployment{}, slices: map[string][]endpointSlice{}}
	var r release
	r.Metadata = objMeta{Name: "shop", Namespace: "ns", Generation: 3}
	r.Spec.Replicas = 2
	r.Spec.Template.Spec.Containers = append(r.Spec.Template.Spec.Containers, struct {
		Image string `json:"image"`
	}{"app:v2"})
	r.Status.ObservedGeneration, r.Status.Stage, r.Status.ActiveColor = 3, "Stable", "green"
	r.Status.Conditions = []condition{{Type: "Ready", Status: "True"}}
	s.releases = []release{r}
	var route ingressRoute
	route.Metadata.Name = "shop"
	route.Spec.Routes = append(route.Spec.Routes, struct {
		Match    string `json:"match"`
		Services []struct {
			Name string `json:"name"`
		} `json:"services"`
	}{Match: "Host(`x`)", Services: []struct {
		Name string `json:"name"`
	}{{"shop-green"}}})
	s.routes["ns/shop"] = route
	for color, n := range map[string]int{"blue": 0, "green": 2} {
		var d deployment
		d.Metadata.Name = "shop-" + color
		d.Spec.Replicas = ptr(n)
		d.Status.ReadyReplicas = n
		d.Spec.Template.Spec.Containers = append(d.Spec.Template.Spec.Containers, struct {
			Image string `json:"image"`
		}{"app:v2"})
		s.deploys["ns/shop-"+color] = d
	}
	var sl endpointSlice
	sl.Ports = append(sl.Ports, struct {
		Port *int `json:"port"`
	}{ptr(8080)})
	for i := 0; i < 2; i++ {
		sl.Endpoints = append(sl.Endpoints, struct {
			Conditions struct {
				Ready *bool `json:"ready"`
			} `json:"conditions"`
		}{})
		sl.Endpoints[i].Conditions.Ready = ptr(true)
	}
	s.slices["ns/shop-green"] = []endpointSlice{sl}
	return s
}

func kinds(ps []problem) string {
	var k []string
	for _, p := range ps {
		k = append(k, p.kind)
	}
	return strings.Join(k, ",")
}

func TestEvaluateHealthyReleaseIsConvergedWithoutProblems(t *testing.T) {
	probs, st := evaluate(testSnapshot())
	if len(probs) != 0 || !st["ns/shop"].converged {
		t.Fatalf("problems %v, state %+v", probs, st["ns/shop"])
	}
}

func TestEvaluateRouteToColorWithoutReadyEndpoints(t *testing.T) {
	s := testSnapshot()
	s.slices["ns/shop-green"][0].Endpoints[1].Conditions.Ready = ptr(false)
	if probs, _ := evaluate(s); kinds(probs) != vRouteUnready {
		t.Fatalf("got %v", probs)
	}
	s = testSnapshot()
	s.slices["ns/shop-green"][0].Ports[0].Port = nil // ready addresses nothing can serve
	if probs, _ := evaluate(s); kinds(probs) != vRouteUnready {
		t.Fatalf("got %v", probs)
	}
}

func TestEvaluateLiveColorShrunkOrDeleted(t *testing.T) {
	s := testSnapshot()
	d := s.deploys["ns/shop-green"]
	d.Spec.Replicas = ptr(1)
	s.deploys["ns/shop-green"] = d
	if probs, _ := evaluate(s); kinds(probs) != vLiveShrunk {
		t.Fatalf("got %v", probs)
	}
	s = testSnapshot()
	delete(s.deploys, "ns/shop-green")
	if probs, _ := evaluate(s); kinds(probs) != vLiveShrunk {
		t.Fatalf("got %v", probs)
	}
}

func TestEvaluateNotConvergedWhileStatusLagsOrImageDiffers(t *testing.T) {
	s := testSnapshot()
	s.releases[0].Metadata.Generation = 4
	if _, st := evaluate(s); st["ns/shop"].converged {
		t.Fatal("converged with an old observedGeneration")
	}
	s = testSnapshot()
	s.releases[0].Spec.Template.Spec.Containers[0].Image = "app:v3"
	if _, st := evaluate(s); st["ns/shop"].converged {
		t.Fatal("converged while the active color runs another image")
	}
}

func TestRecorderRecordsAPersistingProblemOnce(t *testing.T) {
	rec := newRecorder(t.Logf)
	p := []problem{{vRouteUnready, "ns/shop", "x"}}
	rec.persisting(p)
	rec.persisting(p)
	rec.persisting(nil)
	rec.persisting(p)
	if n := len(rec.snapshot()); n != 2 {
		t.Fatalf("%d violations, want 2 (recorded again after it cleared)", n)
	}
}

// A fake API server that answers lease writes with the lease they carry and everything else with {}.
func newTestProxy(t *testing.T, rateMax int) (*proxy, *recorder) {
	up := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if strings.HasPrefix(r.URL.Path, "/apis/coordination.k8s.io/") && len(b) > 0 {
			_, _ = w.Write(b)
			return
		}
		_, _ = w.Write([]byte("{}"))
	}))
	t.Cleanup(up.Close)
	rec := newRecorder(t.Logf)
	pool := up.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
	px := newProxy(up.URL, pool, rec, map[string]bool{"ns/shop": true}, "sys", 10*time.Second, rateMax)
	return px, rec
}

func send(px *proxy, replica, method, path, body string) int {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req = req.WithContext(context.WithValue(req.Context(), replicaKey{}, replica))
	w := httptest.NewRecorder()
	px.handle(w, req, replica)
	return w.Code
}

func lease(holder string) string {
	return fmt.Sprintf(`{"metadata":{"name":"op","namespace":"sys"},"spec":{"holderIdentity":%q}}`, holder)
}

func count(rec *recorder, kind string) int {
	n := 0
	for _, v := range rec.snapshot() {
		if v.kind == kind {
			n++
		}
	}
	return n
}

func TestProxyCatchesWritesOutsideTheLeaseTerm(t *testing.T) {
	px, rec := newTestProxy(t, 1000)
	const leasePath = "/apis/coordination.k8s.io/v1/namespaces/sys/leases/op"
	deploy := "/apis/apps/v1/namespaces/ns/deployments/shop-blue"
	send(px, "A", http.MethodPut, leasePath, lease("a-1"))
	send(px, "A", http.MethodPatch, deploy, "{}")
	if n := count(rec, vLeaseTerm); n != 0 {
		t.Fatalf("the holder's write counted as a violation (%d)", n)
	}
	if px.leader() != "A" {
		t.Fatalf("leader %q, want A", px.leader())
	}
	send(px, "B", http.MethodPatch, deploy, "{}") // B never held the lease
	if n := count(rec, vLeaseTerm); n != 1 {
		t.Fatalf("%d violations, want 1", n)
	}
	send(px, "B", http.MethodPut, leasePath, lease("b-1")) // B takes over
	send(px, "B", http.MethodPatch, deploy, "{}")
	send(px, "A", http.MethodPatch, deploy, "{}") // A in B's term
	if n := count(rec, vLeaseTerm); n != 2 {
		t.Fatalf("%d violations, want 2", n)
	}
	px.forget("B") // B's process replaced: the new one holds nothing yet
	send(px, "B", http.MethodPost, "/api/v1/namespaces/ns/events", `{"involvedObject":{"name":"shop"}}`)
	if n := count(rec, vLeaseTerm); n != 3 {
		t.Fatalf("%d violations, want 3", n)
	}
}

func TestProxyBoundsRequestsPerRelease(t *testing.T) {
	px, rec := newTestProxy(t, 20)
	for i := 0; i < 20; i++ {
		send(px, "A", http.MethodGet, "/apis/apps/v1/namespaces/ns/deployments/shop-green", "")
	}
	send(px, "A", http.MethodGet, "/apis/apps/v1/namespaces/ns/deployments/other", "") // not a release of the run
	if n := count(rec, vRate); n != 0 {
		t.Fatalf("%d violations at the bound", n)
	}
	send(px, "A", http.MethodGet, "/apis/traefik.io/v1alpha1/namespaces/ns/ingressroutes/shop-preview", "")
	send(px, "A", http.MethodGet, "/apis/traefik.io/v1alpha1/namespaces/ns/ingressroutes/shop", "")
	if n := count(rec, vRate); n != 1 {
		t.Fatalf("%d violations above the bound, want 1 (once per window)", n)
	}
}

func TestProxyInjectsErrors(t *testing.T) {
	px, _ := newTestProxy(t, 1000)
	px.setFault(fault429, 1)
	if c := send(px, "A", http.MethodGet, "/api/v1/namespaces/ns/pods", ""); c != 429 {
		t.Fatalf("code %d, want 429", c)
	}
	px.setFault(fault500, 1)
	if c := send(px, "A", http.MethodGet, "/api/v1/namespaces/ns/pods", ""); c != 500 {
		t.Fatalf("code %d, want 500", c)
	}
	px.setFault(faultNone, 0)
	if c := send(px, "A", http.MethodGet, "/api/v1/namespaces/ns/pods", ""); c != 200 {
		t.Fatalf("code %d, want 200", c)
	}
}

func TestRunFailsOnAViolationButNotOnASelfTestOne(t *testing.T) {
	newRunner := func() *runner {
		r := &runner{cfg: config{out: t.TempDir()}, t0: time.Now()}
		r.rec = newRecorder(t.Logf)
		return r
	}
	r := newRunner()
	r.rec.setSelfTest(true)
	r.rec.add(vLeaseTerm, "ns/shop", "caused on purpose")
	r.rec.setSelfTest(false)
	if code := r.finish(true); code != 0 {
		t.Fatalf("exit %d with only a self-test violation, want 0", code)
	}
	if code := r.finish(false); code != 1 {
		t.Fatalf("exit %d when the self-test missed a violation, want 1", code)
	}
	r = newRunner()
	r.rec.add(vRouteUnready, "ns/shop", "real")
	if code := r.finish(true); code != 1 {
		t.Fatalf("exit %d with a violation, want 1", code)
	}
}
