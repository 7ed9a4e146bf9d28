package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func worst(ds []time.Duration) time.Duration {
	var w time.Duration
	for _, d := range ds {
		w = max(w, d)
	}
	return w
}

// finish prints the table, writes results.json and returns the exit code.
func (r *runner) finish(selfOK bool) int {
	var b strings.Builder
	byKind := map[string][]time.Duration{}
	byKindEnd := map[string][]time.Duration{}
	changed := map[string]int{}
	for _, res := range r.results {
		byKind[res.kind] = append(byKind[res.kind], res.converge)
		byKindEnd[res.kind] = append(byKindEnd[res.kind], res.afterEnd)
		changed[res.kind] += res.changed
	}
	fmt.Fprintf(&b, "\n%-18s %8s %9s %-27s %-27s\n", "", "", "", "converge after the fault", "converge after its end")
	fmt.Fprintf(&b, "%-18s %8s %9s %13s %13s %13s %13s\n", "fault kind", "injected", "releases", "median", "worst", "median", "worst")
	var all, allEnd []time.Duration
	for _, k := range allKinds {
		ds, de := byKind[k], byKindEnd[k]
		if len(ds) == 0 {
			continue
		}
		all, allEnd = append(all, ds...), append(allEnd, de...)
		fmt.Fprintf(&b, "%-18s %8d %9d %12.1fs %12.1fs %12.1fs %12.1fs\n", k, len(ds), changed[k],
			median(ds).Seconds(), worst(ds).Seconds(), median(de).Seconds(), worst(de).Seconds())
	}
	fmt.Fprintf(&b, "%-18s %8d %9d %12.1fs %12.1fs %12.1fs %12.1fs\n", "all", len(all), r.changes-r.superseded,
		median(all).Seconds(), worst(all).Seconds(), median(allEnd).Seconds(), worst(allEnd).Seconds())
	stages := map[string]int{}
	for _, res := range r.results {
		for s, n := range res.stages {
			stages[s] += n
		}
	}
	real := map[string]int{}
	nReal := 0
	for _, v := range r.rec.snapshot() {
		if !v.selfTest {
			real[v.kind]++
			nReal++
		}
	}
	fmt.Fprintf(&b, "\nreleases: %d BlueGreenReleases, %d image changes (%d replaced mid-release by a newer one), %d releases completed\n",
		len(r.rels), r.changes, r.superseded, r.completed)
	fmt.Fprintf(&b, "stages of the changed releases when their fault hit: %s\n", fmtStages(stages))
	fmt.Fprintf(&b, "invariant violations: %d\n", nReal)
	for _, k := range violationKinds {
		fmt.Fprintf(&b, "  %-52s %d\n", k, real[k])
	}
	res := map[string]any{"seed": r.cfg.seed, "releases": len(r.rels), "changes": r.changes, "superseded": r.superseded,
		"completed": r.completed, "violations": nReal, "violationsByKind": real, "stages": stages,
		"durationSeconds": time.Since(r.t0).Seconds()}
	if r.px != nil {
		r.px.mu.Lock()
		var perRel []int
		for _, n := range r.px.relTotal {
			perRel = append(perRel, n)
		}
		sort.Ints(perRel)
		fmt.Fprintf(&b, "proxy: %d requests (A %d, B %d), %d writes (A %d, B %d; leases excluded), %d lease holder changes seen\n",
			r.px.requests["A"]+r.px.requests["B"], r.px.requests["A"], r.px.requests["B"],
			r.px.writes["A"]+r.px.writes["B"], r.px.writes["A"], r.px.writes["B"], r.px.terms)
		fmt.Fprintf(&b, "proxy faults: %d answers 429, %d answers 500, %d slowed, %d watch streams cut\n",
			r.px.injected[fault429], r.px.injected[fault500], r.px.injected[faultSlow], r.px.cut)
		if len(perRel) > 0 {
			total := 0
			for _, n := range perRel {
				total += n
			}
			fmt.Fprintf(&b, "requests about one release: most in one %s window %d (%s; bound %d); over the run median %d, most %d (%.1f per release completed)\n",
				r.px.rateWin, r.px.maxWindow, r.px.maxWinRel, r.px.rateMax, perRel[len(perRel)/2], perRel[len(perRel)-1],
				float64(total)/float64(max(1, r.completed+len(r.rels))))
		}
		res["proxy"] = map[string]any{"requests": r.px.requests, "writes": r.px.writes, "leaseHolderChanges": r.px.terms,
			"injected429": r.px.injected[fault429], "injected500": r.px.injected[fault500], "slowed": r.px.injected[faultSlow],
			"watchesCut": r.px.cut, "maxPerReleaseWindow": r.px.maxWindow, "rateBound": r.px.rateMax}
		r.px.mu.Unlock()
	}
	for _, name := range []string{"A", "B"} {
		if rep := r.reps[name]; rep != nil {
			rep.mu.Lock()
			fmt.Fprintf(&b, "replica %s: %d starts, exits of its own: %d %v\n", name, rep.starts, len(rep.selfExits), rep.selfExits)
			res["replica"+name] = map[string]any{"starts": rep.starts, "selfExits": rep.selfExits}
			rep.mu.Unlock()
		}
	}
	if r.chk != nil {
		r.chk.mu.Lock()
		fmt.Fprintf(&b, "checker: %d snapshots of the API server (%d failed while it was away)\n", r.chk.polls, r.chk.failures)
		r.chk.mu.Unlock()
	}
	faults := []map[string]any{}
	for _, f := range r.results {
		faults = append(faults, map[string]any{"kind": f.kind, "detail": f.detail, "convergeSeconds": f.converge.Seconds(), "afterEndSeconds": f.afterEnd.Seconds(), "stages": f.stages})
	}
	res["faults"] = faults
	var vl []map[string]any
	for _, v := range r.rec.snapshot() {
		vl = append(vl, map[string]any{"at": v.at.Sub(r.rec.start).Seconds(), "kind": v.kind, "release": v.release,
			"detail": v.detail, "selfTest": v.selfTest})
	}
	res["violationList"] = vl
	if j, err := json.MarshalIndent(res, "", "  "); err == nil {
		_ = os.WriteFile(filepath.Join(r.cfg.out, "results.json"), j, 0o644)
	}
	code := 0
	if nReal > 0 {
		fmt.Fprintf(&b, "FAIL: %d invariant violations (listed above and in %s)\n", nReal, filepath.Join(r.cfg.out, "chaos.log"))
		code = 1
	}
	if !selfOK {
		fmt.Fprintf(&b, "FAIL: the self-test's violations were not all caught\n")
		code = 1
	}
	if code == 0 {
		fmt.Fprintf(&b, "PASS in %s\n", time.Since(r.t0).Round(time.Second))
	}
	r.logf("%s", b.String())
	return code
}
