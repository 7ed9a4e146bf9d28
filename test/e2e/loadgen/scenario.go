package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

const replicas = 3

// switchMeasure is one change of the main route, from the release's point of view.
// Traefik switches its entry points one after the other (v3.6 cmd/traefik/traefik.go switchRouter ranges
// over a map), so its API entry point can show a new route a moment before the web entry point serves it:
// measured once, an old-color answer to a request started 1.3 ms after the API showed the switch on a loaded
// machine. Answers inside this window are reported, not failed; the operator's scale-down clock starts
// seconds later (scaleDown.delaySeconds), so such a request is still served.
const apiLead = 50 * time.Millisecond

type switchMeasure struct {
	Kind           string    `json:"kind"` // release | rollback
	From           string    `json:"from"`
	FromRev        string    `json:"fromRevision"`
	To             string    `json:"to"`
	ToRev          string    `json:"toRevision"`
	Patched        time.Time `json:"patched"`         // the release's template was changed
	Healthy        time.Time `json:"healthy"`         // watch: To's Deployment caught up and its EndpointSlices list every replica ready
	Promotable     time.Time `json:"promotable"`      // healthy + readyForSeconds (a warm rollback: the patch)
	StatusSince    string    `json:"promotableSince"` // status.promotableSince as written by the operator
	OperatorSwitch time.Time `json:"operatorSwitch"`  // watch: the main IngressRoute names To's Service
	TraefikConfirm time.Time `json:"traefikConfirm"`  // Traefik's API: the router uses To's Service, with servers
	FirstNew       time.Time `json:"firstNew"`        // start of the first main-host request answered by To
	LastOld        time.Time `json:"lastOld"`         // start of the last main-host request answered by From
	ScaleDown      time.Time `json:"scaleDown"`       // From's Deployment scaled down
	LateOld        int       `json:"lateOld"`         // answers from From to requests started after TraefikConfirm + apiLead
	APILeadOld     int       `json:"apiLeadOld"`      // answers from From to requests started within apiLead after TraefikConfirm

	PromotableToFirstNewMs float64 `json:"promotableToFirstNewMs"`
	PromotableToLastOldMs  float64 `json:"promotableToLastOldMs"`
	SwitchToConfirmMs      float64 `json:"switchToConfirmMs"`
	ConfirmToScaleDownMs   float64 `json:"confirmToScaleDownMs"`
}

type previewCheck struct {
	T      time.Time `json:"t"`
	Host   string    `json:"host"`
	Want   string    `json:"want"`
	Got    string    `json:"got"`
	Passed bool      `json:"passed"`
}

type mark struct {
	T     time.Time `json:"t"`
	Kind  string    `json:"kind"` // switch | confirm | promotable | scaledown | failed
	Label string    `json:"label"`
}

type result struct {
	Scenario  string             `json:"scenario"`
	Host      string             `json:"host"`
	Start     time.Time          `json:"start"`
	End       time.Time          `json:"end"`
	Rate      int                `json:"rate"`
	Requests  int                `json:"requests"`
	KeepAlive int                `json:"keepAliveRequests"`
	NewConn   int                `json:"newConnectionRequests"`
	Errors    int                `json:"errors"`
	ByAnswer  map[string]int     `json:"byAnswer"` // color/revision -> responses
	LatencyMs map[string]float64 `json:"latencyMs"`
	Switches  []switchMeasure    `json:"switches"`
	Kills     map[string]int     `json:"kills,omitempty"` // kill scenario: SIGKILLs of the operator by stage
	Previews  []previewCheck     `json:"previews"`
	Marks     []mark             `json:"marks"`
	Failures  []string           `json:"failures"`
	Notes     []string           `json:"notes"`
	HookRuns  map[string]int     `json:"hookRuns,omitempty"` // database scenario: runs of each hook, counted in the database
	Images    map[string]string  `json:"images"`             // revision -> image

	records  []*record
	events   []event
	routes   []routeState
	byBucket map[int]map[string]int
}

func (r *result) failf(format string, args ...any) {
	r.Failures = append(r.Failures, fmt.Sprintf(format, args...))
}
func (r *result) notef(format string, args ...any) {
	r.Notes = append(r.Notes, fmt.Sprintf(format, args...))
}

// env is what a scenario works with.
type env struct {
	c     config
	kc    kubernetes.Interface
	dyn   dynamic.Interface
	name  string
	host  string
	obs   *observer
	poll  *traefikPoller
	tgt   *httpTarget
	res   *result
	delay int // spec.scaleDown.delaySeconds

	killsMu sync.Mutex
	kills   map[string]int // kill scenario: SIGKILLs sent, by stage
}

func runScenario(ctx context.Context, c config) (*result, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", c.kubeconfig)
	if err != nil {
		return nil, err
	}
	cfg.QPS, cfg.Burst = 50, 100
	e := &env{c: c, kc: kubernetes.NewForConfigOrDie(cfg), dyn: dynamic.NewForConfigOrDie(cfg), name: c.scenario,
		host: c.scenario + ".shop.example", tgt: newTarget(c.web), delay: c.scaleDelay, kills: map[string]int{}}
	if c.scenario == "rollback" || c.scenario == "database" {
		e.delay = c.rollbackWait
	}
	e.res = &result{Scenario: c.scenario, Host: e.host, Rate: c.rate, ByAnswer: map[string]int{}}
	e.obs = newObserver(e.name, replicas)
	e.poll = newTraefikPoller(c.api, e.host)
	wctx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	if err := e.obs.start(wctx, e.kc, e.dyn, c.namespace); err != nil {
		return nil, err
	}
	var pollWG sync.WaitGroup
	pollWG.Add(1)
	go func() { defer pollWG.Done(); e.poll.run(wctx) }()
	defer func() { stopWatch(); pollWG.Wait() }()

	rel := e.dyn.Resource(gvrRelease).Namespace(c.namespace)
	_ = rel.Delete(ctx, e.name, metav1.DeleteOptions{}) // a leftover of an interrupted run
	if err := e.waitFor(ctx, 60*time.Second, "leftover release gone", func() bool {
		_, err := rel.Get(ctx, e.name, metav1.GetOptions{})
		return apierrors.IsNotFound(err)
	}); err != nil {
		return nil, err
	}
	if c.scenario == "database" {
		if err := e.dbSetup(ctx); err != nil {
			return nil, err
		}
	}
	if _, err := rel.Create(ctx, e.release(e.template("1.0", nil), 600), metav1.CreateOptions{}); err != nil {
		return nil, fmt.Errorf("create release: %w", err)
	}
	e.obs.note("created release %s (image 1.0)", e.name)
	defer func() {
		// The release as it ended, for the record; then it goes (its objects by garbage collection).
		if last, err := rel.Get(context.Background(), e.name, metav1.GetOptions{}); err == nil {
			if b, err := json.MarshalIndent(last.Object, "", "  "); err == nil {
				_ = os.WriteFile(filepath.Join(c.out, c.scenario+"-release.json"), b, 0o644)
			}
		}
		_ = rel.Delete(context.Background(), e.name, metav1.DeleteOptions{})
	}()
	if err := e.waitFor(ctx, 120*time.Second, "blue serving the main host (release Stable, Traefik routing to blue)", func() bool {
		st, svc, _ := e.obs.snapshot()
		cur, _ := e.poll.current()
		return st["blue"].Healthy && svc == e.name+"-blue" && e.obs.releaseField("status", "stage") == "Stable" &&
			e.obs.serves(cur, "blue")
	}); err != nil {
		return nil, err
	}
	st, _, _ := e.obs.snapshot()
	rev1 := st["blue"].Revision
	e.preview(ctx, "blue", rev1)

	// --- the load ---
	lctx, stopLoad := context.WithCancel(ctx)
	ld := &loader{t: e.tgt, host: e.host, rate: c.rate}
	e.res.Start = time.Now()
	loadDone := make(chan struct{})
	go func() { ld.run(lctx); close(loadDone) }()
	hardStop := time.Now().Add(c.maxDuration)
	sleep(ctx, 3*time.Second)

	var serr error
	switch c.scenario {
	case "switch":
		serr = e.switchScenario(ctx)
	case "rollback":
		serr = e.rollbackScenario(ctx)
	case "failed":
		serr = e.failedScenario(ctx, rev1)
	case "kill":
		serr = e.killScenario(ctx)
	case "database":
		serr = e.databaseScenario(ctx, rev1)
	}
	if serr == nil {
		for ld.count() < c.minRequests && time.Now().Before(hardStop) && ctx.Err() == nil {
			sleep(ctx, 200*time.Millisecond)
		}
	}
	stopLoad()
	<-loadDone
	e.res.records = ld.wait()
	e.res.End = time.Now()
	sleep(ctx, 300*time.Millisecond) // let the poller see the last state
	stopWatch()
	pollWG.Wait()
	e.res.events = e.obs.allEvents()
	e.res.Images = e.obs.revisionImages()
	e.res.routes = e.poll.all()
	e.analyse(rev1)
	if c.scenario == "database" {
		e.analyseDatabase()
	}
	if serr != nil {
		e.res.failf("%v", serr)
	}
	if e.res.Requests < c.minRequests {
		e.res.failf("only %d requests at the main host (at least %d wanted; --max-duration %v)", e.res.Requests, c.minRequests, c.maxDuration)
	}
	return e.res, nil
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

func (e *env) waitFor(ctx context.Context, timeout time.Duration, what string, cond func() bool) error {
	deadline := time.Now().Add(timeout)
	for !cond() {
		if ctx.Err() != nil {
			return fmt.Errorf("interrupted while waiting for %s", what)
		}
		if time.Now().After(deadline) {
			st, svc, _ := e.obs.snapshot()
			cur, _ := e.poll.current()
			return fmt.Errorf("timed out after %v waiting for %s (blue %+v, green %+v, main route %q, %s, Traefik: router %q service %q status %q servers %v, API error %q)",
				timeout, what, st["blue"], st["green"], svc, e.obs.releaseField("status", "stage"), cur.Router, cur.Service, cur.Status, cur.Servers, e.poll.lastErr)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return nil
}

// template: the pod template of a release; image tag and pod annotations vary.
func (e *env) template(tag string, annotations map[string]any) map[string]any {
	meta := map[string]any{"labels": map[string]any{"app": e.name}}
	if annotations != nil {
		meta["annotations"] = annotations
	}
	container := map[string]any{
		"name": "app", "image": "registry.example/shop:" + tag,
		"ports":          []any{map[string]any{"name": "http", "containerPort": int64(8080)}},
		"readinessProbe": map[string]any{"httpGet": map[string]any{"path": "/readyz", "port": "http"}},
	}
	if e.c.scenario == "database" {
		container["env"] = e.dbEnv(tag)
	}
	return map[string]any{"metadata": meta, "spec": map[string]any{"containers": []any{container}}}
}

func (e *env) release(tmpl map[string]any, deadline int) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "bluegreen.io/v1alpha1", "kind": "BlueGreenRelease",
		"metadata": map[string]any{"name": e.name, "namespace": e.c.namespace},
		"spec": map[string]any{
			"replicas":  int64(replicas),
			"template":  tmpl,
			"service":   map[string]any{"port": int64(80), "targetPort": int64(8080)},
			"routing":   map[string]any{"entryPoints": []any{"web"}, "host": e.host},
			"promotion": map[string]any{"readyForSeconds": int64(e.c.readyFor), "progressDeadlineSeconds": int64(deadline)},
			"scaleDown": map[string]any{"delaySeconds": int64(e.delay), "standbyReplicas": int64(0)},
		},
	}}
	if e.c.scenario == "database" {
		u.Object["spec"].(map[string]any)["hooks"] = e.hooks(tagOf(tmpl))
	}
	return u
}

// tagOf: the image tag of a template made by template().
func tagOf(tmpl map[string]any) string {
	c := tmpl["spec"].(map[string]any)["containers"].([]any)[0].(map[string]any)
	img := c["image"].(string)
	return img[strings.LastIndex(img, ":")+1:]
}

// setTemplate replaces the release's pod template (and optionally the progress deadline).
func (e *env) setTemplate(ctx context.Context, tmpl map[string]any, deadline int) (time.Time, error) {
	ops := []map[string]any{{"op": "replace", "path": "/spec/template", "value": tmpl}}
	if e.c.scenario == "database" { // a version and its hooks change together, as in one Git commit
		ops = append(ops, map[string]any{"op": "replace", "path": "/spec/hooks", "value": e.hooks(tagOf(tmpl))})
	}
	if deadline > 0 {
		ops = append(ops, map[string]any{"op": "replace", "path": "/spec/promotion/progressDeadlineSeconds", "value": deadline})
	}
	body, _ := json.Marshal(ops)
	t := time.Now()
	_, err := e.dyn.Resource(gvrRelease).Namespace(e.c.namespace).Patch(ctx, e.name, types.JSONPatchType, body, metav1.PatchOptions{})
	return t, err
}

func other(c string) string {
	if c == "blue" {
		return "green"
	}
	return "blue"
}

// step changes the template and follows the switch through: To healthy, preview hosts, the operator's
// switch, Traefik's confirmation and (unless the old color is to stay warm) the old color's scale-down.
func (e *env) step(ctx context.Context, kind, tag string, waitScaleDown bool) error {
	st, svc, _ := e.obs.snapshot()
	from := strings.TrimPrefix(svc, e.name+"-")
	to := other(from)
	m := switchMeasure{Kind: kind, From: from, FromRev: st[from].Revision, To: to}
	if kind == "rollback" {
		m.ToRev = st[to].Revision
	}
	var annotations map[string]any
	if e.c.scenario == "kill" { // pods take a while to be ready: time to be killed in Deploying
		annotations = map[string]any{"sim.bluegreen.io/ready-after-seconds": "2"}
	}
	patched, err := e.setTemplate(ctx, e.template(tag, annotations), 0)
	if err != nil {
		return fmt.Errorf("patch release to image %s: %w", tag, err)
	}
	m.Patched = patched
	e.obs.note("template -> image %s (%s: %s -> %s)", tag, kind, from, to)
	if err := e.waitFor(ctx, 90*time.Second, to+" healthy at a new revision", func() bool {
		s, _, _ := e.obs.snapshot()
		return s[to].Healthy && s[to].Revision != "" && s[to].Revision != m.FromRev
	}); err != nil {
		return err
	}
	st, _, _ = e.obs.snapshot()
	m.ToRev, m.Healthy = st[to].Revision, st[to].HealthySince
	// Both preview hosts, while both colors run: the new one answers with the new revision, the old with the old.
	var pw sync.WaitGroup
	pw.Add(2)
	go func() { defer pw.Done(); e.preview(ctx, to, m.ToRev) }()
	go func() { defer pw.Done(); e.preview(ctx, from, m.FromRev) }()
	if err := e.waitFor(ctx, 90*time.Second, "the operator to switch the main route to "+to, func() bool {
		_, s, _ := e.obs.snapshot()
		return s == e.name+"-"+to
	}); err != nil {
		return err
	}
	_, _, m.OperatorSwitch = e.obs.snapshot()
	m.StatusSince = e.obs.releaseField("status", "promotableSince")
	if err := e.waitFor(ctx, 30*time.Second, "Traefik's API to show the main router on "+to, func() bool {
		cur, ok := e.poll.current()
		return ok && e.obs.serves(cur, to)
	}); err != nil {
		return err
	}
	for _, r := range e.poll.all() {
		if e.obs.serves(r, to) && !r.T.Before(m.OperatorSwitch.Add(-time.Second)) {
			m.TraefikConfirm = r.T
			break
		}
	}
	pw.Wait()
	if m.Healthy.After(m.Patched) {
		m.Promotable = m.Healthy.Add(time.Duration(e.c.readyFor) * time.Second)
	} else { // a warm rollback target: promotable the moment the release asks for it
		m.Promotable = m.Patched
	}
	if !waitScaleDown {
		e.res.Switches = append(e.res.Switches, m)
		return nil
	}
	if err := e.waitFor(ctx, time.Duration(e.delay+60)*time.Second, from+" scaled down", func() bool {
		s, _, _ := e.obs.snapshot()
		return s[from].SpecReplicas == 0 && !s[from].ShrunkAt.IsZero() && s[from].ShrunkAt.After(m.OperatorSwitch)
	}); err != nil {
		return err
	}
	st, _, _ = e.obs.snapshot()
	m.ScaleDown = st[from].ShrunkAt
	e.res.Switches = append(e.res.Switches, m)
	sleep(ctx, 1500*time.Millisecond) // traffic while the old pods are gone
	return nil
}

func (e *env) switchScenario(ctx context.Context) error {
	for i := 0; i < e.c.switches; i++ {
		if err := e.step(ctx, "release", fmt.Sprintf("1.%d", i+1), true); err != nil {
			return err
		}
	}
	return nil
}

func (e *env) rollbackScenario(ctx context.Context) error {
	if err := e.step(ctx, "release", "1.1", false); err != nil {
		return err
	}
	// Blue still runs 1.0 at full size (warm for rollbackWait seconds): going back to 1.0 switches at once.
	return e.stepRollback(ctx)
}

func (e *env) stepRollback(ctx context.Context) error {
	sleep(ctx, 5*time.Second) // green serves a while: the new version "turns out bad"
	st, _, _ := e.obs.snapshot()
	if s := st["blue"]; !s.Healthy || s.SpecReplicas != replicas {
		return fmt.Errorf("blue is not warm for the rollback: %+v", s)
	}
	return e.step(ctx, "rollback", "1.0", true)
}

// The stages of a release the operator is SIGKILLed in, once each, while the load runs.
var killStages = []string{"Deploying", "Verifying", "Switching", "Draining"}

// Releases one after another while a killer SIGKILLs the operator the first time it sees the release in
// each stage (a supervisor in run.sh restarts it); up to four releases to catch every stage. Every request
// must still succeed, and every usual promise hold.
func (e *env) killScenario(ctx context.Context) error {
	kctx, stopKiller := context.WithCancel(ctx)
	done := make(chan map[string]int)
	go func() { done <- e.killer(kctx) }()
	for i := 0; i < 4; i++ {
		if err := e.step(ctx, "release", fmt.Sprintf("1.%d", i+1), true); err != nil {
			stopKiller()
			<-done
			return err
		}
		e.killsMu.Lock()
		all := len(e.kills) == len(killStages)
		e.killsMu.Unlock()
		if all {
			break
		}
	}
	stopKiller()
	kills := <-done
	for _, st := range killStages {
		if kills[st] == 0 {
			e.res.failf("the operator was never SIGKILLed in stage %s (the stage passed between two looks)", st)
		}
	}
	e.res.Kills = kills
	return nil
}

func (e *env) killer(ctx context.Context) map[string]int {
	for ctx.Err() == nil {
		stage := e.obs.releaseField("status", "stage")
		wanted := false
		for _, st := range killStages {
			wanted = wanted || st == stage
		}
		if e.c.scenario == "database" { // once while each hook Job runs
			stage = e.obs.runningHook()
			wanted = stage != ""
			if wanted {
				stage = "hook " + stage
			}
		}
		e.killsMu.Lock()
		_, killed := e.kills[stage]
		e.killsMu.Unlock()
		if wanted && !killed {
			b, err := os.ReadFile(e.c.operatorPID)
			pid, perr := strconv.Atoi(strings.TrimSpace(string(b)))
			if err == nil && perr == nil && pid > 1 && syscall.Kill(pid, syscall.SIGKILL) == nil {
				e.obs.note("MARK kill: SIGKILL operator (pid %d) in stage %s", pid, stage)
				e.killsMu.Lock()
				e.kills[stage]++
				e.killsMu.Unlock()
			}
		}
		sleep(ctx, 20*time.Millisecond)
	}
	e.killsMu.Lock()
	defer e.killsMu.Unlock()
	out := map[string]int{}
	for k, v := range e.kills {
		out[k] = v
	}
	return out
}

func (e *env) failedScenario(ctx context.Context, rev1 string) error {
	ann := map[string]any{"sim.bluegreen.io/ready": "false"}
	const deadline = 15
	if _, err := e.setTemplate(ctx, e.template("2.0-broken", ann), deadline); err != nil {
		return fmt.Errorf("patch release to a never-ready image: %w", err)
	}
	e.obs.note("template -> image 2.0-broken, pods never ready, progressDeadlineSeconds %d", deadline)
	var failedAt time.Time
	if err := e.waitFor(ctx, time.Duration(deadline+60)*time.Second, "the release marked Failed and Stalled", func() bool {
		if e.obs.releaseField("status", "stage") == "Failed" && e.obs.releaseCondition("Stalled") == "True" {
			failedAt = time.Now()
			return true
		}
		return false
	}); err != nil {
		return err
	}
	e.res.Marks = append(e.res.Marks, mark{failedAt, "failed", "release Failed (deadline " + fmt.Sprint(deadline) + " s)"})
	// The broken pods run, answer requests, but say they are not ready, as a real app would.
	if err := e.checkPods(ctx, "green", false); err != nil {
		return err
	}
	if err := e.checkPods(ctx, "blue", true); err != nil {
		return err
	}
	e.preview(ctx, "blue", rev1)
	// The broken color has no ready endpoint: Traefik drops its preview route (404 on green.<host>).
	resp := e.getOnce(ctx, "green."+e.host)
	e.res.notef("green.%s during the failed release: %s (no ready endpoint: Traefik drops that route)", e.host, resp)
	sleep(ctx, 5*time.Second)
	if s := e.obs.releaseField("status", "activeColor"); s != "blue" {
		return fmt.Errorf("status.activeColor is %q after the failed release, want blue", s)
	}
	return nil
}

// checkPods sends requests straight to every pod of a color (its address in the network namespace).
func (e *env) checkPods(ctx context.Context, color string, wantReady bool) error {
	pods, err := e.kc.CoreV1().Pods(e.c.namespace).List(ctx, metav1.ListOptions{
		LabelSelector: "bluegreen.io/release=" + e.name + ",bluegreen.io/color=" + color})
	if err != nil {
		return err
	}
	if len(pods.Items) != replicas {
		return fmt.Errorf("%d %s pods, want %d", len(pods.Items), color, replicas)
	}
	hc := &http.Client{Timeout: 3 * time.Second}
	for _, p := range pods.Items {
		if p.Status.PodIP == "" || !podReadyIs(&p, wantReady) {
			return fmt.Errorf("pod %s: ip %q, Ready condition not %v", p.Name, p.Status.PodIP, wantReady)
		}
		want := http.StatusServiceUnavailable
		if wantReady {
			want = http.StatusOK
		}
		for _, c := range []struct {
			path string
			code int
		}{{"/readyz", want}, {"/", http.StatusOK}} {
			resp, err := hc.Get("http://" + p.Status.PodIP + ":8080" + c.path)
			if err != nil {
				return fmt.Errorf("pod %s (%s) %s: %v", p.Name, p.Status.PodIP, c.path, err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != c.code {
				return fmt.Errorf("pod %s (%s) %s: HTTP %d, want %d (%q)", p.Name, p.Status.PodIP, c.path, resp.StatusCode, c.code, body)
			}
			if c.path == "/" && !strings.Contains(string(body), `"color":"`+color+`"`) {
				return fmt.Errorf("pod %s answered %q, want color %s", p.Name, body, color)
			}
		}
	}
	e.res.notef("%s pods answer directly: /readyz %s, / 200 with their color", color, map[bool]string{true: "200", false: "503"}[wantReady])
	return nil
}

func podReadyIs(p *corev1.Pod, want bool) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return (c.Status == corev1.ConditionTrue) == want
		}
	}
	return !want
}

func (e *env) getOnce(ctx context.Context, host string) string {
	var r record
	e.tgt.get(ctx, host, false, &r)
	if r.ok() {
		return fmt.Sprintf("200 %s/%s", r.Color, r.Rev)
	}
	return r.Err
}

// preview: the color's preview host answers from that color at that revision (5 in a row, within 15 s: Traefik
// applies a new endpoint a moment after it is ready).
func (e *env) preview(ctx context.Context, color, rev string) {
	host := color + "." + e.host
	want := color + "/" + rev
	deadline := time.Now().Add(15 * time.Second)
	got, streak := "", 0
	for time.Now().Before(deadline) && ctx.Err() == nil && streak < 5 {
		var r record
		e.tgt.get(ctx, host, streak%2 == 1, &r)
		if r.ok() {
			got = r.Color + "/" + r.Rev
		} else {
			got = r.Err
		}
		if got == want {
			streak++
		} else {
			streak = 0
			time.Sleep(100 * time.Millisecond)
		}
	}
	pc := previewCheck{T: time.Now(), Host: host, Want: want, Got: got, Passed: streak >= 5}
	e.res.Previews = append(e.res.Previews, pc)
	if !pc.Passed {
		e.res.failf("preview host %s: want answers from %s, last got %q", host, want, got)
	}
}

// --- analysis ------------------------------------------------------------------------------------------------

func (e *env) analyse(rev1 string) {
	r := e.res
	lat := []float64{}
	errs := map[string][]*record{}
	for _, x := range r.records {
		r.Requests++
		if x.NewConn {
			r.NewConn++
		} else {
			r.KeepAlive++
		}
		if !x.ok() {
			r.Errors++
			k := x.Err
			if x.Status != 0 {
				k = fmt.Sprintf("HTTP %d", x.Status)
			}
			errs[k] = append(errs[k], x)
			continue
		}
		r.ByAnswer[x.Color+"/"+x.Rev]++
		lat = append(lat, float64(x.End.Sub(x.Start).Microseconds())/1000)
	}
	sort.Float64s(lat)
	if n := len(lat); n > 0 {
		r.LatencyMs = map[string]float64{"p50": lat[n/2], "p99": lat[n*99/100], "max": lat[n-1]}
	}
	for k, xs := range errs {
		ex := xs[0]
		r.failf("%d main-host requests failed with %s (first at t=%.3fs: %s)", len(xs), k, ex.Start.Sub(r.Start).Seconds(), ex.Err)
	}
	if e.c.scenario == "failed" {
		for k, n := range r.ByAnswer {
			if k != "blue/"+rev1 {
				r.failf("%d main-host answers from %s during the failed release (only blue/%s may answer)", n, k, rev1)
			}
		}
	}
	for i := range r.Switches {
		m := &r.Switches[i]
		end := r.End
		if i+1 < len(r.Switches) {
			end = r.Switches[i+1].Patched
		}
		early := 0
		for _, x := range r.records {
			if !x.ok() || x.Start.Before(m.Patched) || !x.Start.Before(end) {
				continue
			}
			if x.Color == m.To && x.Rev == m.ToRev {
				if m.FirstNew.IsZero() || x.Start.Before(m.FirstNew) {
					m.FirstNew = x.Start
				}
				if m.Kind == "release" && x.Start.Before(m.Healthy) {
					early++
				}
			}
			if x.Color == m.From && x.Rev == m.FromRev {
				if x.Start.After(m.LastOld) {
					m.LastOld = x.Start
				}
				if !x.Start.Before(m.TraefikConfirm.Add(apiLead)) {
					m.LateOld++
				} else if !x.Start.Before(m.TraefikConfirm) {
					m.APILeadOld++
				}
			}
		}
		ms := func(a, b time.Time) float64 { return float64(b.Sub(a).Microseconds()) / 1000 }
		m.PromotableToFirstNewMs = ms(m.Promotable, m.FirstNew)
		m.PromotableToLastOldMs = ms(m.Promotable, m.LastOld)
		m.SwitchToConfirmMs = ms(m.OperatorSwitch, m.TraefikConfirm)
		if !m.ScaleDown.IsZero() {
			m.ConfirmToScaleDownMs = ms(m.TraefikConfirm, m.ScaleDown)
		}
		what := fmt.Sprintf("%s %d (%s/%s -> %s/%s)", m.Kind, i+1, m.From, m.FromRev, m.To, m.ToRev)
		if m.FirstNew.IsZero() {
			r.failf("%s: no main-host answer from %s", what, m.To)
		}
		if m.LateOld > 0 {
			r.failf("%s: %d answers from %s to requests started more than %v after Traefik confirmed the switch", what, m.LateOld, m.From, apiLead)
		}
		if m.APILeadOld > 0 {
			r.notef("%s: %d answers from %s within %v after Traefik's API showed the switch (its API entry point switched before the web one)", what, m.APILeadOld, m.From, apiLead)
		}
		if early > 0 {
			r.failf("%s: %d answers from %s before it was healthy", what, early, m.To)
		}
		// The operator's watch may see To healthy a moment before ours does: 300 ms of slack.
		if m.Kind == "release" && m.OperatorSwitch.Before(m.Promotable.Add(-300*time.Millisecond)) {
			r.failf("%s: the operator switched %.0f ms after %s became healthy, before readyForSeconds (%d s) had passed",
				what, ms(m.Healthy, m.OperatorSwitch), m.To, e.c.readyFor)
		}
		if !m.ScaleDown.IsZero() && m.ConfirmToScaleDownMs < float64(e.delay)*1000-500 {
			r.failf("%s: %s scaled down %.0f ms after Traefik confirmed the switch (delaySeconds %d)", what, m.From, m.ConfirmToScaleDownMs, e.delay)
		}
		r.Marks = append(r.Marks,
			mark{m.Promotable, "promotable", m.To + " promotable"},
			mark{m.OperatorSwitch, "switch", "operator switch to " + m.To},
			mark{m.TraefikConfirm, "confirm", "Traefik confirms " + m.To})
		if !m.ScaleDown.IsZero() {
			r.Marks = append(r.Marks, mark{m.ScaleDown, "scaledown", m.From + " scaled down"})
		}
	}
}
