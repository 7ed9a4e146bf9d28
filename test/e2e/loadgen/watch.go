package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

var (
	gvrRelease = schema.GroupVersionResource{Group: "bluegreen.io", Version: "v1alpha1", Resource: "bluegreenreleases"}
	gvrRoute   = schema.GroupVersionResource{Group: "traefik.io", Version: "v1alpha1", Resource: "ingressroutes"}
	colors     = []string{"blue", "green"}
)

// event is one observed change, timestamped when this process saw it.
type event struct {
	T    time.Time
	What string
}

// colorState is what the watches show of one color.
type colorState struct {
	Revision       string // label of the Deployment
	SpecReplicas   int32
	Healthy        bool // Deployment caught up at the release's replicas and as many ready endpoints
	ReadyEndpoints int
	HealthySince   time.Time
	ShrunkAt       time.Time // last time spec.replicas went down (the scale-down of a color)
}

// observer follows the release's objects through watches (informers) and keeps the moments things changed.
type observer struct {
	release  string
	replicas int32

	mu        sync.Mutex
	deps      map[string]*appsv1.Deployment // by color
	slices    map[string]*discoveryv1.EndpointSlice
	rel       *unstructured.Unstructured
	route     *unstructured.Unstructured // the main IngressRoute (named like the release)
	state     map[string]colorState
	mainSvc   string // service of the main route, as written by the operator
	mainSince time.Time
	relLine   string
	events    []event
	addrs     map[string]map[string]bool // color -> every endpoint address its Service ever listed
	images    map[string]string          // revision -> image of its first container
}

func newObserver(release string, replicas int32) *observer {
	return &observer{release: release, replicas: replicas, deps: map[string]*appsv1.Deployment{},
		slices: map[string]*discoveryv1.EndpointSlice{}, state: map[string]colorState{},
		addrs: map[string]map[string]bool{"blue": {}, "green": {}}, images: map[string]string{}}
}

func (o *observer) start(ctx context.Context, kc kubernetes.Interface, dyn dynamic.Interface, ns string) error {
	f := informers.NewSharedInformerFactoryWithOptions(kc, 0, informers.WithNamespace(ns))
	df := dynamicinformer.NewFilteredDynamicSharedInformerFactory(dyn, 0, ns, nil)
	handler := func(del bool) func(any) {
		return func(obj any) {
			if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj, del = d.Obj, true
			}
			o.apply(obj, del)
		}
	}
	h := cache.ResourceEventHandlerFuncs{AddFunc: handler(false), UpdateFunc: func(_, n any) { handler(false)(n) },
		DeleteFunc: handler(true)}
	infs := []cache.SharedIndexInformer{f.Apps().V1().Deployments().Informer(), f.Discovery().V1().EndpointSlices().Informer(),
		df.ForResource(gvrRelease).Informer(), df.ForResource(gvrRoute).Informer()}
	for _, inf := range infs {
		if _, err := inf.AddEventHandler(h); err != nil {
			return err
		}
	}
	f.Start(ctx.Done())
	df.Start(ctx.Done())
	for _, inf := range infs {
		if !cache.WaitForCacheSync(ctx.Done(), inf.HasSynced) {
			return fmt.Errorf("watch caches did not sync")
		}
	}
	return nil
}

func (o *observer) logf(now time.Time, format string, args ...any) {
	o.events = append(o.events, event{now, fmt.Sprintf(format, args...)})
}

func (o *observer) apply(obj any, deleted bool) {
	now := time.Now()
	o.mu.Lock()
	defer o.mu.Unlock()
	switch x := obj.(type) {
	case *appsv1.Deployment:
		for _, c := range colors {
			if x.Name == o.release+"-"+c {
				if deleted {
					delete(o.deps, c)
				} else {
					o.deps[c] = x
				}
			}
		}
	case *discoveryv1.EndpointSlice:
		if deleted {
			delete(o.slices, x.Name)
		} else {
			o.slices[x.Name] = x
		}
	case *unstructured.Unstructured:
		switch {
		case x.GetKind() == "BlueGreenRelease" && x.GetName() == o.release:
			o.rel = x
			if deleted {
				o.rel = nil
			}
		case x.GetKind() == "IngressRoute" && x.GetName() == o.release:
			o.route = x
			if deleted {
				o.route = nil
			}
		default:
			return
		}
	default:
		return
	}
	o.recompute(now)
}

func (o *observer) recompute(now time.Time) {
	for _, c := range colors {
		var s colorState
		prev := o.state[c]
		if d := o.deps[c]; d != nil {
			s.Revision = d.Labels["bluegreen.io/revision"]
			if cs := d.Spec.Template.Spec.Containers; len(cs) > 0 && s.Revision != "" {
				o.images[s.Revision] = cs[0].Image
			}
			if d.Spec.Replicas != nil {
				s.SpecReplicas = *d.Spec.Replicas
			}
			st := d.Status
			caught := st.ObservedGeneration >= d.Generation && s.SpecReplicas == o.replicas &&
				st.UpdatedReplicas == o.replicas && st.ReadyReplicas == o.replicas && st.AvailableReplicas == o.replicas &&
				st.Replicas == o.replicas
			for _, es := range o.slices {
				if es.Labels[discoveryv1.LabelServiceName] != o.release+"-"+c {
					continue
				}
				for _, ep := range es.Endpoints {
					for _, a := range ep.Addresses {
						o.addrs[c][a] = true
					}
					if ep.Conditions.Ready == nil || *ep.Conditions.Ready {
						s.ReadyEndpoints += len(ep.Addresses)
					}
				}
			}
			s.Healthy = caught && s.ReadyEndpoints >= int(o.replicas)
		}
		s.HealthySince, s.ShrunkAt = prev.HealthySince, prev.ShrunkAt
		if s.SpecReplicas < prev.SpecReplicas {
			s.ShrunkAt = now
		}
		if s.Healthy && (!prev.Healthy || prev.Revision != s.Revision) {
			s.HealthySince = now
			o.logf(now, "%s healthy at revision %s (%d/%d ready endpoints)", c, s.Revision, s.ReadyEndpoints, o.replicas)
		} else if !s.Healthy && prev.Healthy {
			o.logf(now, "%s no longer healthy (revision %s, %d ready endpoints, %d replicas)", c, s.Revision, s.ReadyEndpoints, s.SpecReplicas)
		}
		if s.SpecReplicas != prev.SpecReplicas || s.Revision != prev.Revision {
			o.logf(now, "deployment %s-%s: revision %s, %d replicas", o.release, c, s.Revision, s.SpecReplicas)
		}
		o.state[c] = s
	}
	if o.route != nil {
		routes, _, _ := unstructured.NestedSlice(o.route.Object, "spec", "routes")
		svc := ""
		if len(routes) > 0 {
			if m, ok := routes[0].(map[string]any); ok {
				if svcs, ok := m["services"].([]any); ok && len(svcs) > 0 {
					if s0, ok := svcs[0].(map[string]any); ok {
						svc, _ = s0["name"].(string)
					}
				}
			}
		}
		if svc != o.mainSvc {
			o.mainSvc, o.mainSince = svc, now
			o.logf(now, "operator: main route -> %s", svc)
		}
	}
	if o.rel != nil {
		stage, _, _ := unstructured.NestedString(o.rel.Object, "status", "stage")
		active, _, _ := unstructured.NestedString(o.rel.Object, "status", "activeColor")
		prom, _, _ := unstructured.NestedString(o.rel.Object, "status", "promotableSince")
		line := fmt.Sprintf("release: stage=%s active=%s promotableSince=%s stalled=%s", stage, active, prom, o.condition("Stalled"))
		if line != o.relLine {
			o.relLine = line
			o.logf(now, "%s", line)
		}
	}
}

// condition: status of a release condition ("" when absent). Call with mu held.
func (o *observer) condition(t string) string {
	if o.rel == nil {
		return ""
	}
	conds, _, _ := unstructured.NestedSlice(o.rel.Object, "status", "conditions")
	for _, c := range conds {
		if m, ok := c.(map[string]any); ok && m["type"] == t {
			s, _ := m["status"].(string)
			return s
		}
	}
	return ""
}

func (o *observer) snapshot() (map[string]colorState, string, time.Time) {
	o.mu.Lock()
	defer o.mu.Unlock()
	st := map[string]colorState{}
	for k, v := range o.state {
		st[k] = v
	}
	return st, o.mainSvc, o.mainSince
}

func (o *observer) releaseField(fields ...string) string {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.rel == nil {
		return ""
	}
	s, _, _ := unstructured.NestedString(o.rel.Object, fields...)
	return s
}

// runningHook: the Job of a hook the release reports Running (status.hooks[]), or "".
func (o *observer) runningHook() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.rel == nil {
		return ""
	}
	hooks, _, _ := unstructured.NestedSlice(o.rel.Object, "status", "hooks")
	for _, h := range hooks {
		if m, ok := h.(map[string]any); ok && m["phase"] == "Running" {
			job, _ := m["job"].(string)
			return job
		}
	}
	return ""
}

func (o *observer) releaseCondition(t string) string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.condition(t)
}

func (o *observer) note(format string, args ...any) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.logf(time.Now(), format, args...)
}

func (o *observer) revisionImages() map[string]string {
	o.mu.Lock()
	defer o.mu.Unlock()
	m := map[string]string{}
	for k, v := range o.images {
		m[k] = v
	}
	return m
}

func (o *observer) allEvents() []event {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]event(nil), o.events...)
}

// --- Traefik's API -----------------------------------------------------------------------------------------

// routeState is what Traefik's API says about the router of one host.
type routeState struct {
	T       time.Time
	Router  string
	Service string
	Status  string
	Servers []string
}

func (r routeState) key() string {
	return r.Router + "|" + r.Service + "|" + r.Status + "|" + strings.Join(r.Servers, ",")
}

// traefikPoller asks Traefik's API every 50 ms which service and servers the main host's router uses.
type traefikPoller struct {
	api  string
	rule string
	hc   *http.Client

	mu      sync.Mutex
	history []routeState // one entry per change
	lastErr string
}

func newTraefikPoller(api, host string) *traefikPoller {
	return &traefikPoller{api: strings.TrimRight(api, "/"), rule: "Host(`" + host + "`)", hc: &http.Client{Timeout: 2 * time.Second}}
}

func (p *traefikPoller) getJSON(path string, v any) error {
	resp, err := p.hc.Get(p.api + path)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		return errNotFound
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: HTTP %d", path, resp.StatusCode)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

var errNotFound = fmt.Errorf("not found")

func (p *traefikPoller) poll() (routeState, error) {
	var routers []struct {
		Name     string `json:"name"`
		Rule     string `json:"rule"`
		Service  string `json:"service"`
		Status   string `json:"status"`
		Provider string `json:"provider"`
	}
	st := routeState{T: time.Now()}
	if err := p.getJSON("/api/http/routers?per_page=1000", &routers); err != nil {
		return st, err
	}
	for _, r := range routers {
		if r.Rule != p.rule || r.Provider != "kubernetescrd" {
			continue
		}
		st.Router, st.Service, st.Status = r.Name, r.Service, r.Status
		svc := r.Service
		if !strings.Contains(svc, "@") {
			svc += "@" + r.Provider
		}
		var service struct {
			LoadBalancer struct {
				Servers []struct {
					URL string `json:"url"`
				} `json:"servers"`
			} `json:"loadBalancer"`
		}
		if err := p.getJSON("/api/http/services/"+url.PathEscape(svc), &service); err != nil && err != errNotFound {
			return st, err
		}
		for _, s := range service.LoadBalancer.Servers {
			st.Servers = append(st.Servers, s.URL)
		}
		sort.Strings(st.Servers)
		break
	}
	return st, nil
}

func (p *traefikPoller) run(ctx context.Context) {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		st, err := p.poll()
		p.mu.Lock()
		if err != nil {
			p.lastErr = err.Error()
		} else if n := len(p.history); n == 0 || p.history[n-1].key() != st.key() {
			p.history = append(p.history, st)
		}
		p.mu.Unlock()
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

func (p *traefikPoller) current() (routeState, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.history) == 0 {
		return routeState{}, false
	}
	return p.history[len(p.history)-1], true
}

func (p *traefikPoller) all() []routeState {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]routeState(nil), p.history...)
}

// serves: the router is enabled and every server behind it (at least one) is an address of the color's pods.
// (Traefik names the service of a one-service route after the IngressRoute, not the Kubernetes Service.)
func (o *observer) serves(r routeState, color string) bool {
	if r.Router == "" || r.Status != "enabled" || len(r.Servers) == 0 {
		return false
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, s := range r.Servers {
		u, err := url.Parse(s)
		if err != nil || !o.addrs[color][u.Hostname()] {
			return false
		}
	}
	return true
}
