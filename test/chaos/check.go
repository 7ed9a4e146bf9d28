package main

// The invariants read from the API server (pure evaluation of a snapshot, so it is unit-tested), and the
// record of violations shared with the proxy (lease terms, request rates).

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"
)

const (
	vRouteUnready = "main route names a color without ready endpoints"
	vLiveShrunk   = "live color deleted or shrunk"
	vLeaseTerm    = "write outside the writer's lease term"
	vRate         = "request rate per release above bound"
	vNotConverged = "status did not converge to spec"
)

var violationKinds = []string{vRouteUnready, vLiveShrunk, vLeaseTerm, vRate, vNotConverged}

type snapshot struct {
	at       time.Time
	releases []release
	routes   map[string]ingressRoute    // ns/name
	deploys  map[string]deployment      // ns/name
	slices   map[string][]endpointSlice // ns/service name
}

type problem struct {
	kind, release, detail string
}

type relState struct {
	converged bool
	stage     string
	image     string // spec image
}

func key(ns, name string) string { return ns + "/" + name }

// readyEndpoints counts ready endpoints of slices that carry a port number (a slice with `ports: null`
// lists addresses nothing can serve).
func readyEndpoints(slices []endpointSlice) int {
	n := 0
	for _, s := range slices {
		hasPort := false
		for _, p := range s.Ports {
			if p.Port != nil {
				hasPort = true
			}
		}
		if !hasPort {
			continue
		}
		for _, e := range s.Endpoints {
			if e.Conditions.Ready == nil || *e.Conditions.Ready {
				n++
			}
		}
	}
	return n
}

func condTrue(conds []condition, t string) bool {
	for _, c := range conds {
		if c.Type == t {
			return c.Status == "True"
		}
	}
	return false
}

// evaluate checks every release of a snapshot: the main route names only colors whose Service has
// `replicas` ready endpoints, the live color's Deployment exists at full size, and whether the release
// has converged (status for the current generation, Stable and Ready, the active color runs the spec's
// image at full size, the other color at standby).
func evaluate(s *snapshot) ([]problem, map[string]relState) {
	var probs []problem
	states := map[string]relState{}
	for i := range s.releases {
		r := &s.releases[i]
		k := key(r.Metadata.Namespace, r.Metadata.Name)
		st := relState{stage: r.Status.Stage, image: r.image()}
		route, ok := s.routes[k]
		live := []string{}
		if ok {
			for _, rt := range route.Spec.Routes {
				for _, svc := range rt.Services {
					live = append(live, svc.Name)
				}
			}
		}
		for _, svc := range live {
			ready := readyEndpoints(s.slices[key(r.Metadata.Namespace, svc)])
			if ready < r.Spec.Replicas {
				probs = append(probs, problem{vRouteUnready, k, fmt.Sprintf("route %s names %s with %d/%d ready endpoints (stage %s)",
					route.Metadata.Name, svc, ready, r.Spec.Replicas, r.Status.Stage)})
			}
			d, ok := s.deploys[key(r.Metadata.Namespace, svc)]
			switch {
			case !ok:
				probs = append(probs, problem{vLiveShrunk, k, fmt.Sprintf("Deployment %s of the live color is missing", svc)})
			case d.Metadata.DeletionTimestamp != "":
				probs = append(probs, problem{vLiveShrunk, k, fmt.Sprintf("Deployment %s of the live color is being deleted", svc)})
			case d.replicas() < r.Spec.Replicas:
				probs = append(probs, problem{vLiveShrunk, k, fmt.Sprintf("Deployment %s of the live color has replicas %d < %d",
					svc, d.replicas(), r.Spec.Replicas)})
			}
		}
		if len(live) == 1 && !r.Spec.Paused {
			active := live[0]
			color := strings.TrimPrefix(active, r.Metadata.Name+"-")
			other := r.Metadata.Name + "-blue"
			if color == "blue" {
				other = r.Metadata.Name + "-green"
			}
			d, okA := s.deploys[key(r.Metadata.Namespace, active)]
			o, okO := s.deploys[key(r.Metadata.Namespace, other)]
			st.converged = r.Status.ObservedGeneration == r.Metadata.Generation && r.Status.Stage == "Stable" &&
				condTrue(r.Status.Conditions, "Ready") && r.Status.ActiveColor == color &&
				okA && d.image() == r.image() && d.replicas() == r.Spec.Replicas && d.Status.ReadyReplicas == r.Spec.Replicas &&
				(!okO || o.replicas() == r.Spec.ScaleDown.StandbyReplicas)
		}
		states[k] = st
	}
	return probs, states
}

type violation struct {
	at       time.Time
	kind     string
	release  string
	detail   string
	selfTest bool // deliberately caused by --self-test
}

// recorder keeps violations; a condition that persists is recorded once (until it clears).
type recorder struct {
	mu       sync.Mutex
	start    time.Time
	list     []violation
	open     map[string]bool
	selfTest bool
	logf     func(format string, args ...any)
}

func newRecorder(logf func(string, ...any)) *recorder {
	return &recorder{start: time.Now(), open: map[string]bool{}, logf: logf}
}

func (r *recorder) add(kind, rel, detail string) {
	r.mu.Lock()
	v := violation{time.Now(), kind, rel, detail, r.selfTest}
	r.list = append(r.list, v)
	r.mu.Unlock()
	tag := "VIOLATION"
	if v.selfTest {
		tag = "VIOLATION (self-test, expected)"
	}
	r.logf("%s [%s] %s: %s", tag, kind, rel, detail)
}

// persisting records problems that are present now and were not at the last call.
func (r *recorder) persisting(probs []problem) {
	now := map[string]bool{}
	var fresh []problem
	r.mu.Lock()
	for _, p := range probs {
		id := p.kind + "|" + p.release
		now[id] = true
		if !r.open[id] {
			fresh = append(fresh, p)
		}
	}
	r.open = now
	r.mu.Unlock()
	for _, p := range fresh {
		r.add(p.kind, p.release, p.detail)
	}
}

func (r *recorder) setSelfTest(on bool) {
	r.mu.Lock()
	r.selfTest = on
	r.mu.Unlock()
}

func (r *recorder) snapshot() []violation {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]violation(nil), r.list...)
}

// checker polls the API server (directly, as admin) and keeps the latest per-release state.
type checker struct {
	k        *kube
	rec      *recorder
	nsSet    map[string]bool
	mu       sync.Mutex
	states   map[string]relState
	lastOK   time.Time
	polls    int
	failures int
}

func (c *checker) take(ctx context.Context) (*snapshot, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	s := &snapshot{at: time.Now(), routes: map[string]ingressRoute{}, deploys: map[string]deployment{}, slices: map[string][]endpointSlice{}}
	var rels list[release]
	var routes list[ingressRoute]
	var deps list[deployment]
	var slices list[endpointSlice]
	// Routes first, then what they point at: a switch between the reads only makes the old color
	// (still warm) the one checked.
	if err := c.k.get(ctx, "/apis/traefik.io/v1alpha1/ingressroutes", &routes); err != nil {
		return nil, err
	}
	if err := c.k.get(ctx, "/apis/bluegreen.io/v1alpha1/bluegreenreleases", &rels); err != nil {
		return nil, err
	}
	if err := c.k.get(ctx, "/apis/apps/v1/deployments?labelSelector=app.kubernetes.io%2Fmanaged-by%3Dbluegreen-operator", &deps); err != nil {
		return nil, err
	}
	if err := c.k.get(ctx, "/apis/discovery.k8s.io/v1/endpointslices", &slices); err != nil {
		return nil, err
	}
	for _, r := range rels.Items {
		if c.nsSet[r.Metadata.Namespace] {
			s.releases = append(s.releases, r)
		}
	}
	for _, r := range routes.Items {
		s.routes[key(r.Metadata.Namespace, r.Metadata.Name)] = r
	}
	for _, d := range deps.Items {
		s.deploys[key(d.Metadata.Namespace, d.Metadata.Name)] = d
	}
	for _, sl := range slices.Items {
		svc := sl.Metadata.Labels["kubernetes.io/service-name"]
		s.slices[key(sl.Metadata.Namespace, svc)] = append(s.slices[key(sl.Metadata.Namespace, svc)], sl)
	}
	return s, nil
}

// once takes a snapshot, and when it shows a problem takes a second one at once: only problems present
// in both count (lists are read one after another, not atomically).
func (c *checker) once(ctx context.Context) error {
	s, err := c.take(ctx)
	if err != nil {
		c.mu.Lock()
		c.failures++
		c.mu.Unlock()
		return err
	}
	probs, states := evaluate(s)
	if len(probs) > 0 {
		s2, err := c.take(ctx)
		if err != nil {
			return err
		}
		probs2, states2 := evaluate(s2)
		seen := map[string]bool{}
		for _, p := range probs {
			seen[p.kind+"|"+p.release] = true
		}
		var both []problem
		for _, p := range probs2 {
			if seen[p.kind+"|"+p.release] {
				both = append(both, p)
			}
		}
		probs, states = both, states2
	}
	c.rec.persisting(probs)
	c.mu.Lock()
	c.states, c.lastOK = states, time.Now()
	c.polls++
	c.mu.Unlock()
	return nil
}

func (c *checker) run(ctx context.Context, every time.Duration) {
	for ctx.Err() == nil {
		_ = c.once(ctx)
		select {
		case <-ctx.Done():
		case <-time.After(every):
		}
	}
}

// convergedAt returns the releases not converged in the latest snapshot taken after t (nil, false when
// there is none yet).
func (c *checker) notConverged(after time.Time) ([]string, map[string]relState, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.lastOK.Before(after) || c.states == nil {
		return nil, nil, false
	}
	var out []string
	for k, st := range c.states {
		if !st.converged {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out, c.states, true
}
