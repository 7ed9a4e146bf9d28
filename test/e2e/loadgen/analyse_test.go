package main

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// A blue -> green switch, 300 requests/s for 10 s; the switch is confirmed at 5 s.
func fixture(t0 time.Time) (*env, *switchMeasure) {
	m := switchMeasure{Kind: "release", From: "blue", FromRev: "r1", To: "green", ToRev: "r2",
		Patched: t0.Add(1 * time.Second), Healthy: t0.Add(2 * time.Second), Promotable: t0.Add(4 * time.Second),
		OperatorSwitch: t0.Add(4500 * time.Millisecond), TraefikConfirm: t0.Add(5 * time.Second),
		ScaleDown: t0.Add(11 * time.Second)}
	c := config{scenario: "switch", readyFor: 2}
	e := &env{c: c, delay: 5, res: &result{Scenario: "switch", Start: t0, End: t0.Add(10 * time.Second), ByAnswer: map[string]int{}}}
	for i := 0; i < 3000; i++ {
		start := t0.Add(time.Duration(i) * time.Second / 300)
		rec := &record{Start: start, End: start.Add(time.Millisecond), NewConn: i%2 == 1, Status: 200, Color: "blue", Rev: "r1"}
		if start.After(m.TraefikConfirm.Add(-20 * time.Millisecond)) {
			rec.Color, rec.Rev = "green", "r2"
		}
		e.res.records = append(e.res.records, rec)
	}
	return e, &m
}

func analysed(e *env, m *switchMeasure) *result {
	e.res.Switches = []switchMeasure{*m}
	e.analyse("r1")
	return e.res
}

func TestAnalyseCleanSwitchHasNoFailures(t *testing.T) {
	r := analysed(fixture(time.Unix(1000, 0)))
	if len(r.Failures) != 0 || r.Requests != 3000 || r.Errors != 0 || r.KeepAlive != 1500 || r.NewConn != 1500 {
		t.Fatalf("failures %v, requests %d, errors %d, keep-alive %d, new %d", r.Failures, r.Requests, r.Errors, r.KeepAlive, r.NewConn)
	}
	s := r.Switches[0]
	if s.PromotableToFirstNewMs < 960 || s.PromotableToFirstNewMs > 985 || s.LateOld != 0 {
		t.Fatalf("first green %v ms after promotable, late old %d", s.PromotableToFirstNewMs, s.LateOld)
	}
}

func TestAnalyseFailsOnEveryNon2xx(t *testing.T) {
	e, m := fixture(time.Unix(1000, 0))
	e.res.records[100].Status, e.res.records[100].Err, e.res.records[100].Color = 404, "HTTP 404", ""
	e.res.records[200].Status, e.res.records[200].Err, e.res.records[200].Color = 0, "connection reset", ""
	r := analysed(e, m)
	if r.Errors != 2 || len(r.Failures) != 2 || !strings.Contains(strings.Join(r.Failures, "\n"), "HTTP 404") {
		t.Fatalf("errors %d, failures %v", r.Errors, r.Failures)
	}
	var svg bytes.Buffer
	r.svg(&svg)
	if n := strings.Count(svg.String(), `stroke="`+redFill+`" stroke-width="1.5"`); n != 2 {
		t.Fatalf("%d red error ticks in the picture, want 2", n)
	}
}

func TestAnalyseFailsOnOldColorAfterTraefikConfirmed(t *testing.T) {
	e, m := fixture(time.Unix(1000, 0))
	late := e.res.records[2000] // started at 6.67 s, after the confirmation at 5 s
	late.Color, late.Rev = "blue", "r1"
	r := analysed(e, m)
	if r.Switches[0].LateOld != 1 || len(r.Failures) != 1 || !strings.Contains(r.Failures[0], "after Traefik confirmed") {
		t.Fatalf("late old %d, failures %v", r.Switches[0].LateOld, r.Failures)
	}
}

func TestAnalyseReportsButDoesNotFailAnOldAnswerWithinTheAPILead(t *testing.T) {
	e, m := fixture(time.Unix(1000, 0))
	for i, x := range e.res.records {
		if !x.Start.Before(m.TraefikConfirm) {
			// the first request started at or after the confirmation, within apiLead of it
			if x.Start.Sub(m.TraefikConfirm) >= apiLead {
				t.Fatalf("fixture has no request within %v of the confirmation", apiLead)
			}
			e.res.records[i].Color, e.res.records[i].Rev = "blue", "r1"
			break
		}
	}
	r := analysed(e, m)
	if r.Switches[0].LateOld != 0 || r.Switches[0].APILeadOld != 1 || len(r.Failures) != 0 {
		t.Fatalf("late old %d, api lead %d, failures %v", r.Switches[0].LateOld, r.Switches[0].APILeadOld, r.Failures)
	}
}

func TestAnalyseFailsOnSwitchBeforeReadyForSeconds(t *testing.T) {
	e, m := fixture(time.Unix(1000, 0))
	m.OperatorSwitch = m.Healthy.Add(100 * time.Millisecond)
	r := analysed(e, m)
	if len(r.Failures) != 1 || !strings.Contains(r.Failures[0], "before readyForSeconds") {
		t.Fatalf("failures %v", r.Failures)
	}
}

func TestAnalyseFailsOnEarlyScaleDown(t *testing.T) {
	e, m := fixture(time.Unix(1000, 0))
	m.ScaleDown = m.TraefikConfirm.Add(2 * time.Second) // delaySeconds is 5
	r := analysed(e, m)
	if len(r.Failures) != 1 || !strings.Contains(r.Failures[0], "scaled down") {
		t.Fatalf("failures %v", r.Failures)
	}
}

func TestAnalyseFailedReleaseAcceptsOnlyTheActiveColor(t *testing.T) {
	e, _ := fixture(time.Unix(1000, 0))
	e.c.scenario = "failed"
	for _, x := range e.res.records {
		x.Color, x.Rev = "blue", "r1"
	}
	e.res.records[42].Color, e.res.records[42].Rev = "green", "r2"
	e.analyse("r1")
	if len(e.res.Failures) != 1 || !strings.Contains(e.res.Failures[0], "green/r2") {
		t.Fatalf("failures %v", e.res.Failures)
	}
}
