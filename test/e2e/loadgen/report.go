package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
)

// reportCmd reads every *-summary.json under the given folders and prints the median and worst of the
// switch timings, per kind (release, rollback).
func reportCmd(dirs []string) int {
	if len(dirs) == 0 {
		return fail("usage: loadgen report DIR...")
	}
	byKind := map[string][]switchMeasure{}
	files := 0
	for _, d := range dirs {
		err := filepath.WalkDir(d, func(path string, de os.DirEntry, err error) error {
			if err != nil || de.IsDir() || filepath.Ext(path) != ".json" || len(path) < 13 || path[len(path)-13:] != "-summary.json" {
				return err
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			var r result
			if err := json.Unmarshal(b, &r); err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
			files++
			if r.Scenario == "kill" {
				return nil // its timings include the operator's restarts: not a reaction time
			}
			for _, m := range r.Switches {
				byKind[m.Kind] = append(byKind[m.Kind], m)
			}
			return nil
		})
		if err != nil {
			return fail(err.Error())
		}
	}
	fmt.Printf("switch timings from %d scenario summaries\n", files)
	for _, kind := range []string{"release", "rollback"} {
		ms := byKind[kind]
		if len(ms) == 0 {
			continue
		}
		from := "promotable"
		if kind == "rollback" {
			from = "rollback requested"
		}
		fmt.Printf("%-54s %10s %10s   (n)\n", fmt.Sprintf("%s (%d switches)", kind, len(ms)), "median", "worst")
		row := func(label string, get func(switchMeasure) (float64, bool)) {
			var v []float64
			for _, m := range ms {
				if x, ok := get(m); ok {
					v = append(v, x)
				}
			}
			if len(v) == 0 {
				return
			}
			sort.Float64s(v)
			med := v[len(v)/2]
			if len(v)%2 == 0 {
				med = (v[len(v)/2-1] + v[len(v)/2]) / 2
			}
			fmt.Printf("  %-52s %7.0f ms %7.0f ms   (%d)\n", label, med, v[len(v)-1], len(v))
		}
		row(from+" -> first answer from the new color", func(m switchMeasure) (float64, bool) { return m.PromotableToFirstNewMs, true })
		row(from+" -> last answer from the old color", func(m switchMeasure) (float64, bool) { return m.PromotableToLastOldMs, true })
		row(from+" -> operator switches the route", func(m switchMeasure) (float64, bool) {
			return float64(m.OperatorSwitch.Sub(m.Promotable).Microseconds()) / 1000, true
		})
		row("operator switch -> Traefik's API confirms", func(m switchMeasure) (float64, bool) { return m.SwitchToConfirmMs, true })
		row("Traefik confirms -> old color scaled down", func(m switchMeasure) (float64, bool) { return m.ConfirmToScaleDownMs, !m.ScaleDown.IsZero() })
	}
	return 0
}
