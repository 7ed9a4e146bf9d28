// chaos: blue-green releases under faults, with invariant checks.
//
// It starts a private control plane (test/controlplane/start.sh with a state dir of its own), runs two
// operator replicas with leader election that reach the API server only through a proxy of its own
// (proxy.go), creates --releases BlueGreenReleases and then, round after round, changes the image of
// some of them and injects one fault at a random moment of the releases in flight:
//
//	kill-leader, kill-standby, kill-both   SIGKILL of operator replicas (restarted after 0-2 s)
//	apiserver-restart, etcd-restart        SIGKILL of the component, start.sh brings it back
//	watch-cut                              every watch stream through the proxy cut mid-answer
//	http-429, http-500, slow               a window (--window, 10 s) in which the proxy answers 30% of requests with 429
//	                                       (Retry-After: 1) or 500, or delays 50% of them 0.5-3 s
//	none                                   no fault (the baseline)
//
// Continuously (every 0.5 s, straight from the API server) and after every fault it checks: the main
// route names only a color whose Service has `replicas` ready endpoints (EndpointSlices with a port), the
// live color's Deployment exists at full size; in the proxy: no replica writes unless its current process
// holds the Lease, and no release gets more than --rate-max requests in --rate-window. After every fault
// all releases must converge (status for the current generation, Stable, the active color runs the spec's
// image) within --converge-timeout. It prints a table and exits 1 on any violation.
// --self-test then causes one violation of each checked kind on purpose and fails unless each is caught.
package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"
)

var allKinds = []string{"none", "kill-leader", "kill-standby", "kill-both", "apiserver-restart", "etcd-restart",
	"watch-cut", "http-429", "http-500", "slow"}

type config struct {
	repo, operator, out, planeDir  string
	releases, namespaces, perRound int
	rounds                         int
	kinds                          []string
	seed                           uint64
	convergeTimeout, rateWindow    time.Duration
	rateMax                        int
	selfTest, keep                 bool
	maxDelay, window               time.Duration
	maxDuration                    time.Duration
}

type faultResult struct {
	kind     string
	converge time.Duration // from the injection
	afterEnd time.Duration // from the end of the fault (window closed, component or replica started again)
	detail   string
	stages   map[string]int
	changed  int
}

type runner struct {
	cfg        config
	pl         *plane
	k          *kube
	rec        *recorder
	px         *proxy
	chk        *checker
	reps       map[string]*replica
	rels       []string // ns/name
	version    map[string]int
	results    []faultResult
	completed  int
	changes    int
	superseded int
	logMu      sync.Mutex
	logFile    *os.File
	t0         time.Time
}

func (r *runner) logf(format string, args ...any) {
	r.logMu.Lock()
	defer r.logMu.Unlock()
	line := fmt.Sprintf("[%6.1fs] %s", time.Since(r.t0).Seconds(), fmt.Sprintf(format, args...))
	fmt.Println(line)
	if r.logFile != nil {
		fmt.Fprintln(r.logFile, line)
	}
}

func main() {
	var cfg config
	var kinds string
	flag.StringVar(&cfg.repo, "repo", "", "repository root (default: two folders up from this program's sources, or the working directory)")
	flag.StringVar(&cfg.operator, "operator", "", "operator binary (default: build/{ci,dev,release}/operator/bluegreen-operator)")
	flag.StringVar(&cfg.out, "out", "", "folder for logs and results (default: build/chaos)")
	flag.StringVar(&cfg.planeDir, "plane-dir", "", "state dir of the private plane (default: a new temporary folder)")
	flag.IntVar(&cfg.releases, "releases", 20, "BlueGreenReleases")
	flag.IntVar(&cfg.namespaces, "namespaces", 4, "namespaces they are spread over")
	flag.IntVar(&cfg.perRound, "per-round", 8, "image changes per round")
	flag.IntVar(&cfg.rounds, "rounds", 30, "rounds (one fault each; kinds in turn, shuffled)")
	flag.StringVar(&kinds, "kinds", strings.Join(allKinds, ","), "fault kinds")
	flag.Uint64Var(&cfg.seed, "seed", 0, "random seed (0: from the clock)")
	flag.DurationVar(&cfg.convergeTimeout, "converge-timeout", 4*time.Minute, "longest wait for every release to converge after a fault")
	flag.DurationVar(&cfg.rateWindow, "rate-window", 10*time.Second, "window of the per-release request bound")
	flag.IntVar(&cfg.rateMax, "rate-max", 100, "most requests about one release in one window")
	flag.DurationVar(&cfg.maxDelay, "max-delay", 6*time.Second, "a fault comes a random 0..max-delay after a round's image changes")
	flag.DurationVar(&cfg.window, "window", 10*time.Second, "length of the 429/500/slow windows")
	flag.BoolVar(&cfg.selfTest, "self-test", false, "at the end, cause one violation of each kind and fail unless all are caught")
	flag.BoolVar(&cfg.keep, "keep", false, "leave the plane running (and its state dir) at the end")
	flag.DurationVar(&cfg.maxDuration, "max-duration", 0, "stop starting rounds after this long (0: no limit)")
	flag.Parse()
	cfg.kinds = strings.Split(kinds, ",")
	for _, k := range cfg.kinds {
		if !contains(allKinds, k) {
			fmt.Fprintf(os.Stderr, "chaos: unknown fault kind %q (%s)\n", k, strings.Join(allKinds, ","))
			os.Exit(2)
		}
	}
	if cfg.seed == 0 {
		cfg.seed = uint64(time.Now().UnixNano())
	}
	os.Exit(run(cfg))
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func findRepo() string {
	if wd, err := os.Getwd(); err == nil {
		for d := wd; d != "/"; d = filepath.Dir(d) {
			if _, err := os.Stat(filepath.Join(d, "test/controlplane/start.sh")); err == nil {
				return d
			}
		}
	}
	return ""
}

func run(cfg config) (code int) {
	r := &runner{cfg: cfg, t0: time.Now(), version: map[string]int{}, reps: map[string]*replica{}}
	if cfg.repo == "" {
		cfg.repo = findRepo()
	}
	if cfg.repo == "" {
		fmt.Fprintln(os.Stderr, "chaos: repository not found (--repo)")
		return 2
	}
	if cfg.operator == "" {
		for _, b := range []string{"ci", "dev", "release"} {
			p := filepath.Join(cfg.repo, "build", b, "operator", "bluegreen-operator")
			if st, err := os.Stat(p); err == nil && !st.IsDir() {
				cfg.operator = p
				break
			}
		}
	}
	if cfg.operator == "" {
		fmt.Fprintln(os.Stderr, "chaos: operator binary not found (--operator)")
		return 2
	}
	if cfg.out == "" {
		cfg.out = filepath.Join(cfg.repo, "build", "chaos")
	}
	_ = os.MkdirAll(cfg.out, 0o755)
	cfg.out, _ = filepath.Abs(cfg.out)
	r.cfg = cfg
	r.logFile, _ = os.Create(filepath.Join(cfg.out, "chaos.log"))
	r.rec = newRecorder(r.logf)
	rng := rand.New(rand.NewPCG(cfg.seed, cfg.seed^0x9e3779b97f4a7c15))
	r.logf("chaos: seed %d, %d releases in %d namespaces, %d rounds of %d changes, kinds %s; out %s",
		cfg.seed, cfg.releases, cfg.namespaces, cfg.rounds, cfg.perRound, strings.Join(cfg.kinds, ","), cfg.out)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		s := <-sigs
		r.logf("chaos: %v: stopping", s)
		cancel()
	}()

	// --- the private plane ---
	planeDir := cfg.planeDir
	if planeDir == "" {
		var err error
		if planeDir, err = os.MkdirTemp("", "bgo-plane-chaos."); err != nil {
			r.logf("chaos: %v", err)
			return 2
		}
	}
	defer func() {
		if cfg.keep {
			r.logf("chaos: plane left running in %s", planeDir)
			return
		}
		if d, err := os.ReadDir(filepath.Join(planeDir, "logs")); err == nil {
			_ = os.MkdirAll(filepath.Join(cfg.out, "plane-logs"), 0o755)
			for _, e := range d {
				if b, err := os.ReadFile(filepath.Join(planeDir, "logs", e.Name())); err == nil {
					_ = os.WriteFile(filepath.Join(cfg.out, "plane-logs", e.Name()), b, 0o644)
				}
			}
		}
		if err := r.plane("stop.sh", planeDir, "--purge"); err != nil {
			r.logf("chaos: WARNING: stop.sh --purge: %v", err)
		}
	}()
	r.logf("chaos: starting a private plane in %s", planeDir)
	if err := r.plane("start.sh", planeDir); err != nil {
		r.logf("chaos: start.sh: %v", err)
		return 2
	}
	var err error
	if r.pl, err = loadPlane(planeDir); err != nil {
		r.logf("chaos: %v", err)
		return 2
	}
	r.k = newKube(r.pl)
	if err := r.setup(ctx); err != nil {
		r.logf("chaos: setup: %v", err)
		return 2
	}

	// --- proxy and replicas ---
	relSet := map[string]bool{}
	for _, k := range r.rels {
		relSet[k] = true
	}
	r.px = newProxy(r.pl.server, r.pl.caPool(), r.rec, relSet, "chaos-system", cfg.rateWindow, cfg.rateMax)
	repCtx, repCancel := context.WithCancel(ctx)
	defer func() {
		repCancel()
		for _, rep := range r.reps {
			rep.stop()
		}
	}()
	var nsList []string
	for i := 0; i < cfg.namespaces; i++ {
		nsList = append(nsList, fmt.Sprintf("chaos-%d", i))
	}
	for _, name := range []string{"A", "B"} {
		port, err := r.px.serve(ctx, name, r.pl.certFile, r.pl.keyFile)
		if err != nil {
			r.logf("chaos: proxy: %v", err)
			return 2
		}
		kc := filepath.Join(cfg.out, "replica-"+name+".kubeconfig")
		if err := writeKubeconfig(kc, fmt.Sprintf("https://127.0.0.1:%d", port), r.pl.caPEM, r.pl.token); err != nil {
			r.logf("chaos: %v", err)
			return 2
		}
		_ = os.Remove(filepath.Join(cfg.out, "operator-"+name+".log"))
		rep := newReplica(name, cfg.operator, kc, "chaos-system", strings.Join(nsList, ","), cfg.out, r.px, r.logf)
		r.reps[name] = rep
		r.logf("chaos: replica %s talks to the proxy on 127.0.0.1:%d (log %s)", name, port, rep.logPath)
		go rep.run(repCtx)
	}

	r.chk = &checker{k: r.k, rec: r.rec, nsSet: map[string]bool{}}
	for _, ns := range nsList {
		r.chk.nsSet[ns] = true
	}
	go r.chk.run(ctx, 500*time.Millisecond)

	// --- the releases ---
	tCreate := time.Now()
	if err := r.createReleases(ctx); err != nil {
		r.logf("chaos: %v", err)
		return 2
	}
	if d, ok := r.waitConverged(ctx, tCreate, nil); !ok {
		r.logf("chaos: the releases never became Stable after creation")
		return r.finish(false)
	} else {
		r.logf("chaos: %d releases Stable %.1fs after creation", len(r.rels), d.Seconds())
	}

	// --- rounds ---
	schedule := []string{}
	for len(schedule) < cfg.rounds {
		batch := append([]string(nil), cfg.kinds...)
		rng.Shuffle(len(batch), func(i, j int) { batch[i], batch[j] = batch[j], batch[i] })
		schedule = append(schedule, batch...)
	}
	schedule = schedule[:cfg.rounds]
	for i, kind := range schedule {
		if ctx.Err() != nil {
			break
		}
		if cfg.maxDuration > 0 && time.Since(r.t0) > cfg.maxDuration {
			r.logf("chaos: --max-duration reached after %d rounds", i)
			break
		}
		if !r.round(ctx, rng, i, kind) {
			break
		}
	}
	selfOK := true
	if cfg.selfTest && ctx.Err() == nil {
		selfOK = r.selfTest(ctx)
	}
	return r.finish(selfOK)
}

// plane runs a script of test/controlplane for the private plane, its output into plane.log.
func (r *runner) plane(script, dir string, args ...string) error {
	f, err := os.OpenFile(filepath.Join(r.cfg.out, "plane.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	cmd := exec.Command(filepath.Join(r.cfg.repo, "test/controlplane", script), args...)
	cmd.Env = append(os.Environ(), "BGO_PLANE_DIR="+dir)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s %v: %w (see %s)", script, args, err, f.Name())
	}
	return nil
}

func (r *runner) setup(ctx context.Context) error {
	kubeBin, err := exec.Command(filepath.Join(r.cfg.repo, "test/controlplane/build.sh"), "--bin-dir", "kube").Output()
	if err != nil {
		return fmt.Errorf("build.sh --bin-dir kube: %w", err)
	}
	kubectl := filepath.Join(strings.TrimSpace(string(kubeBin)), "kubectl")
	admin := filepath.Join(r.pl.dir, "admin.kubeconfig")
	crd := filepath.Join(r.cfg.repo, "crds/bluegreen.io_bluegreenreleases.yaml")
	for _, args := range [][]string{
		{"apply", "--server-side", "--force-conflicts", "-f", crd},
		{"wait", "--for=condition=Established", "--timeout=60s", "crd/bluegreenreleases.bluegreen.io"},
	} {
		out, err := exec.Command(kubectl, append([]string{"--kubeconfig", admin}, args...)...).CombinedOutput()
		if err != nil {
			return fmt.Errorf("kubectl %s: %v: %s", args[0], err, out)
		}
	}
	for _, ns := range append([]string{"chaos-system"}, nsNames(r.cfg.namespaces)...) {
		if err := r.k.create(ctx, "/api/v1/namespaces", map[string]any{"apiVersion": "v1", "kind": "Namespace",
			"metadata": map[string]any{"name": ns}}); err != nil {
			return err
		}
	}
	for i := 0; i < r.cfg.releases; i++ {
		r.rels = append(r.rels, key(fmt.Sprintf("chaos-%d", i%r.cfg.namespaces), fmt.Sprintf("r%02d", i)))
	}
	return nil
}

func nsNames(n int) []string {
	var out []string
	for i := 0; i < n; i++ {
		out = append(out, fmt.Sprintf("chaos-%d", i))
	}
	return out
}

func image(v int) string { return fmt.Sprintf("registry.example/app:v%d", v) }

func (r *runner) createReleases(ctx context.Context) error {
	for _, k := range r.rels {
		ns, name, _ := strings.Cut(k, "/")
		r.version[k] = 1
		obj := map[string]any{
			"apiVersion": "bluegreen.io/v1alpha1", "kind": "BlueGreenRelease",
			"metadata": map[string]any{"name": name, "namespace": ns},
			"spec": map[string]any{
				"replicas": 2,
				"template": map[string]any{
					"metadata": map[string]any{"labels": map[string]any{"app": name}},
					"spec": map[string]any{"containers": []any{map[string]any{"name": "app", "image": image(1),
						"ports": []any{map[string]any{"name": "http", "containerPort": 8080}}}}},
				},
				"service":   map[string]any{"port": 80, "targetPort": "http"},
				"routing":   map[string]any{"entryPoints": []any{"web"}, "host": name + "." + ns + ".chaos.example"},
				"promotion": map[string]any{"auto": true, "readyForSeconds": 1, "progressDeadlineSeconds": 600},
				"scaleDown": map[string]any{"delaySeconds": 2, "standbyReplicas": 0},
			},
		}
		if err := retry(ctx, "create "+k, func() error {
			return r.k.create(ctx, "/apis/bluegreen.io/v1alpha1/namespaces/"+ns+"/bluegreenreleases", obj)
		}); err != nil {
			return err
		}
	}
	r.logf("chaos: created %d BlueGreenReleases", len(r.rels))
	return nil
}

func (r *runner) setImage(ctx context.Context, k string, v int) error {
	ns, name, _ := strings.Cut(k, "/")
	patch := map[string]any{"spec": map[string]any{"template": map[string]any{"spec": map[string]any{
		"containers": []any{map[string]any{"name": "app", "image": image(v),
			"ports": []any{map[string]any{"name": "http", "containerPort": 8080}}}}}}}}
	cctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	return retry(cctx, "image of "+k, func() error {
		return r.k.mergePatch(cctx, "/apis/bluegreen.io/v1alpha1/namespaces/"+ns+"/bluegreenreleases/"+name, patch)
	})
}

// waitConverged waits until a snapshot taken after `after` shows every release converged (and running
// the images in want). Returns the time from `after`.
func (r *runner) waitConverged(ctx context.Context, after time.Time, want map[string]string) (time.Duration, bool) {
	deadline := after.Add(r.cfg.convergeTimeout)
	var pending []string
	var states map[string]relState
	for time.Now().Before(deadline) && ctx.Err() == nil {
		nc, st, ok := r.chk.notConverged(after)
		if ok {
			pending, states = nc, st
			for k, img := range want {
				if s, ok := st[k]; ok && s.image != img && !contains(pending, k) {
					pending = append(pending, k)
				}
			}
			if len(st) == len(r.rels) && len(pending) == 0 {
				return time.Since(after), true
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	if ctx.Err() != nil {
		return 0, false
	}
	for _, k := range pending {
		r.rec.add(vNotConverged, k, fmt.Sprintf("not converged %s after the fault: stage %q, spec image %s",
			r.cfg.convergeTimeout, states[k].stage, states[k].image))
	}
	if len(pending) == 0 {
		r.rec.add(vNotConverged, "-", "no snapshot of the API server in "+r.cfg.convergeTimeout.String())
	}
	return 0, false
}

// round changes the image of perRound releases (some twice), injects one fault at a random moment and
// waits until every release converged.
func (r *runner) round(ctx context.Context, rng *rand.Rand, i int, kind string) bool {
	picked := append([]string(nil), r.rels...)
	rng.Shuffle(len(picked), func(a, b int) { picked[a], picked[b] = picked[b], picked[a] })
	picked = picked[:min(r.cfg.perRound, len(picked))]
	want := map[string]string{}
	for _, k := range picked {
		r.version[k]++
		if err := r.setImage(ctx, k, r.version[k]); err != nil {
			r.logf("chaos: %v", err)
			return false
		}
		want[k] = image(r.version[k])
		r.changes++
	}
	// A newer image while one is in flight (the preview color's template is replaced; gates start over).
	var wg sync.WaitGroup
	var supMu sync.Mutex
	for _, k := range picked {
		if rng.Float64() < 0.15 {
			r.version[k]++
			v, delay := r.version[k], time.Duration(500+rng.IntN(3000))*time.Millisecond
			want[k] = image(v)
			r.changes++
			wg.Add(1)
			go func(k string) {
				defer wg.Done()
				time.Sleep(delay)
				if err := r.setImage(ctx, k, v); err != nil {
					r.logf("chaos: %v", err)
				}
				supMu.Lock()
				r.superseded++
				supMu.Unlock()
			}(k)
		}
	}
	time.Sleep(time.Duration(rng.Int64N(int64(r.cfg.maxDelay) + 1))) // a random point of the releases in flight
	stages := map[string]int{}
	if _, st, ok := r.chk.notConverged(time.Time{}); ok {
		for _, k := range picked {
			stages[st[k].stage]++
		}
	}
	tInj := time.Now()
	detail := r.inject(ctx, rng, kind)
	tEnd := time.Now()
	wg.Wait()
	_, ok := r.waitConverged(ctx, time.Now(), want)
	conv, afterEnd := time.Since(tInj), time.Since(tEnd)
	if ok {
		r.completed += len(picked)
	}
	r.results = append(r.results, faultResult{kind: kind, converge: conv, afterEnd: afterEnd, detail: detail, stages: stages, changed: len(picked)})
	r.logf("round %2d: %-17s %-44s converged %5.1fs after the fault, %5.1fs after its end (stages at the fault: %s)%s",
		i+1, kind, detail, conv.Seconds(), afterEnd.Seconds(), fmtStages(stages), map[bool]string{true: "", false: "  NOT CONVERGED"}[ok])
	return ok && ctx.Err() == nil // after a release that never converged, later rounds would only wait too
}

func fmtStages(m map[string]int) string {
	var parts []string
	for k, v := range m {
		parts = append(parts, fmt.Sprintf("%s %d", k, v))
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}

// inject causes one fault and returns once it is over (a window closed, a component restarted; killed
// replicas are restarted by their supervisor after the chosen pause).
func (r *runner) inject(ctx context.Context, rng *rand.Rand, kind string) string {
	pause := time.Duration(rng.IntN(2000)) * time.Millisecond
	switch kind {
	case "none":
		return "-"
	case "kill-leader", "kill-standby":
		leader := r.px.leader()
		target := leader
		if kind == "kill-standby" || leader == "" {
			target = map[string]string{"A": "B", "B": "A", "": "A"}[leader]
		}
		r.reps[target].kill(pause)
		time.Sleep(pause) // the fault ends when the replica is started again
		return fmt.Sprintf("SIGKILL replica %s (leader %s), back after %.1fs", target, orDash(leader), pause.Seconds())
	case "kill-both":
		r.reps["A"].kill(pause)
		r.reps["B"].kill(pause)
		time.Sleep(pause)
		return fmt.Sprintf("SIGKILL both replicas, back after %.1fs", pause.Seconds())
	case "apiserver-restart", "etcd-restart":
		comp := strings.TrimSuffix(kind, "-restart")
		if comp == "apiserver" {
			comp = "kube-apiserver"
		}
		t := time.Now()
		pid := r.pl.pid(comp)
		if pid > 0 {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			for i := 0; i < 100 && processRuns(pid); i++ {
				time.Sleep(50 * time.Millisecond)
			}
		}
		time.Sleep(pause)
		if err := r.plane("start.sh", r.pl.dir); err != nil {
			r.logf("chaos: restarting %s: %v", comp, err)
		}
		return fmt.Sprintf("SIGKILL %s, down %.1fs", comp, time.Since(t).Seconds())
	case "watch-cut":
		n := r.px.cutWatches()
		return fmt.Sprintf("%d watch streams cut", n)
	case "http-429", "http-500", "slow":
		mode := map[string]faultMode{"http-429": fault429, "http-500": fault500, "slow": faultSlow}[kind]
		prob := 0.3
		if mode == faultSlow {
			prob = 0.5
		}
		r.px.mu.Lock()
		before := r.px.injected[mode]
		r.px.mu.Unlock()
		r.px.setFault(mode, prob)
		select {
		case <-ctx.Done():
		case <-time.After(r.cfg.window):
		}
		r.px.setFault(faultNone, 0)
		r.px.mu.Lock()
		n := r.px.injected[mode] - before
		r.px.mu.Unlock()
		return fmt.Sprintf("%s window, %d answers affected", r.cfg.window, n)
	}
	return "?"
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// processRuns: the pid exists and is not a zombie.
func processRuns(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 && i+2 < len(s) {
		return s[i+2] != 'Z'
	}
	return true
}

// selfTest causes one violation of each kind the run checks continuously and reports whether each was
// caught: a write through the standby's proxy port (outside its lease term), a burst of requests about
// one release, and a main route pointed by hand at the scaled-down color of a paused release (unready
// endpoints, and a live color below its size).
func (r *runner) selfTest(ctx context.Context) bool {
	r.logf("self-test: causing one violation of each kind on purpose")
	r.rec.setSelfTest(true)
	defer r.rec.setSelfTest(false)
	// The report's request figures are the operator's: the self-test's own requests are taken out again.
	saved := r.px.saveCounts()
	defer r.px.restoreCounts(saved)
	leader := r.px.leader()
	if leader == "" {
		leader = "A"
	}
	standby := map[string]string{"A": "B", "B": "A"}[leader]
	portOf := func(rep string) string {
		b, _ := os.ReadFile(filepath.Join(r.cfg.out, "replica-"+rep+".kubeconfig"))
		for _, l := range strings.Split(string(b), "\n") {
			if s, ok := strings.CutPrefix(strings.TrimSpace(l), "server: "); ok {
				return s
			}
		}
		return ""
	}
	hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: r.pl.caPool()}}}
	send := func(server, method, path, body string) {
		req, _ := http.NewRequestWithContext(ctx, method, server+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+r.pl.token)
		req.Header.Set("Content-Type", "application/json")
		if resp, err := hc.Do(req); err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}
	// 1. a write by the replica that does not hold the lease
	send(portOf(standby), http.MethodPost, "/api/v1/namespaces/chaos-0/configmaps",
		`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"chaos-self-test"}}`)
	// 2. a hot loop about one release
	ns0, n0, _ := strings.Cut(r.rels[0], "/")
	for i := 0; i <= r.cfg.rateMax; i++ {
		send(portOf(leader), http.MethodGet, "/apis/apps/v1/namespaces/"+ns0+"/deployments/"+n0+"-blue", "")
	}
	// 3. the main route of a paused release pointed at its scaled-down color
	ns1, n1, _ := strings.Cut(r.rels[1], "/")
	relPath := "/apis/bluegreen.io/v1alpha1/namespaces/" + ns1 + "/bluegreenreleases/" + n1
	routePath := "/apis/traefik.io/v1alpha1/namespaces/" + ns1 + "/ingressroutes/" + n1
	_ = r.k.mergePatch(ctx, relPath, map[string]any{"spec": map[string]any{"paused": true}})
	time.Sleep(2 * time.Second) // the operator sees the pause before the route changes
	var route map[string]any
	var original []any
	if err := r.k.get(ctx, routePath, &route); err == nil {
		spec, _ := route["spec"].(map[string]any)
		routes, _ := spec["routes"].([]any)
		b, _ := json.Marshal(routes)
		_ = json.Unmarshal(b, &original)
		for _, rt := range routes {
			for _, s := range rt.(map[string]any)["services"].([]any) {
				svc := s.(map[string]any)
				name := svc["name"].(string)
				if strings.HasSuffix(name, "-blue") {
					svc["name"] = strings.TrimSuffix(name, "-blue") + "-green"
				} else {
					svc["name"] = strings.TrimSuffix(name, "-green") + "-blue"
				}
			}
		}
		_ = r.k.mergePatch(ctx, routePath, map[string]any{"spec": map[string]any{"routes": routes}})
	}
	want := []string{vLeaseTerm, vRate, vRouteUnready, vLiveShrunk}
	caught := map[string]bool{}
	for end := time.Now().Add(20 * time.Second); time.Now().Before(end) && len(caught) < len(want); time.Sleep(200 * time.Millisecond) {
		for _, v := range r.rec.snapshot() {
			if v.selfTest {
				caught[v.kind] = true
			}
		}
	}
	// put things back
	if original != nil {
		_ = r.k.mergePatch(ctx, routePath, map[string]any{"spec": map[string]any{"routes": original}})
	}
	_ = r.k.mergePatch(ctx, relPath, map[string]any{"spec": map[string]any{"paused": false}})
	_ = r.k.do(ctx, http.MethodDelete, "/api/v1/namespaces/chaos-0/configmaps/chaos-self-test", "", nil, nil)
	ok := true
	for _, k := range want {
		r.logf("self-test: %-50s %s", k, map[bool]string{true: "caught", false: "NOT CAUGHT"}[caught[k]])
		ok = ok && caught[k]
	}
	return ok
}
