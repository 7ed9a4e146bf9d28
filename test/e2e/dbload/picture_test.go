package main

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"
)

var testColors = map[string]string{"5433": "blue", "5434": "green"}

// 10 s of load: 20 new connections/s, blue until 6 s, then green; two long-lived connections on blue all
// along (5 queries/s each). The release changed at 3 s, the operator moved the route at 4 s, Traefik
// listed green at 5.5 s.
func fixture(t0 time.Time) ([]record, []mark) {
	var recs []record
	for i := 0; i < 200; i++ {
		at := t0.Add(time.Duration(i) * 50 * time.Millisecond)
		port := "5433"
		if !at.Before(t0.Add(6 * time.Second)) {
			port = "5434"
		}
		recs = append(recs, record{at, "new", port, ""})
	}
	for i := 0; i < 50; i++ {
		at := t0.Add(time.Duration(i) * 200 * time.Millisecond)
		recs = append(recs, record{at.Add(time.Millisecond), "long-0", "5433", ""}, record{at.Add(2 * time.Millisecond), "long-1", "5433", ""})
	}
	sortRecs(recs)
	marks := []mark{
		{T: t0.Add(-time.Second), Kind: "traefik-on-blue"}, // before the load: not drawn
		{T: t0.Add(3 * time.Second), Kind: "switch-requested"},
		{T: t0.Add(4 * time.Second), Kind: "operator-moved-to-green"},
		{T: t0.Add(5500 * time.Millisecond), Kind: "traefik-on-green"},
	}
	return recs, marks
}

func sortRecs(recs []record) {
	for i := 1; i < len(recs); i++ {
		for j := i; j > 0 && recs[j].at.Before(recs[j-1].at); j-- {
			recs[j], recs[j-1] = recs[j-1], recs[j]
		}
	}
}

func TestBucketsPerSecondAndDatabase(t *testing.T) {
	t0 := time.Unix(1000, 0)
	recs, marks := fixture(t0)
	a := analyse(recs, t0, t0.Add(10*time.Second), testColors, marks)
	if len(a.secs) != 11 {
		t.Fatalf("%d seconds, want 11 (0..10)", len(a.secs))
	}
	for i := 0; i < 10; i++ {
		s := a.secs[i]
		wantBlue, wantGreen := 20, 0
		if i >= 6 {
			wantBlue, wantGreen = 0, 20
		}
		if s.New.Blue != wantBlue || s.New.Green != wantGreen || s.New.Failed != 0 || s.Long.Blue != 10 || s.Long.Green != 0 {
			t.Fatalf("second %d: %+v", i, s)
		}
	}
	if a.New.Blue != 120 || a.New.Green != 80 || a.Long.Blue != 100 || a.LongConns != 2 || len(a.Failures) != 0 {
		t.Fatalf("new %+v long %+v conns %d failures %v", a.New, a.Long, a.LongConns, a.Failures)
	}
	if a.LongServed["long-0"] != "blue" || a.LongServed["long-1"] != "blue" {
		t.Fatalf("long-lived served by %v", a.LongServed)
	}
	if len(a.Moves) != 1 {
		t.Fatalf("moves %+v", a.Moves)
	}
	m := a.Moves[0]
	// last blue answer started at 5.95 s, first green at 6.0 s: 1950 and 2000 ms after the move at 4 s
	if m.Kind != "switch" || m.From != "blue" || m.To != "green" || m.S != 4 || m.LastOldMs != 1950 || m.FirstNewMs != 2000 ||
		m.TraefikMs != 1500 || m.RequestToMs != 1000 {
		t.Fatalf("move %+v", m)
	}
	var csv bytes.Buffer
	a.writeSeconds(&csv)
	lines := strings.Split(strings.TrimSpace(csv.String()), "\n")
	if len(lines) != 12 || lines[1] != "0,1000,20,0,0,0,10,0,0,0" || lines[7] != "6,1006,0,20,0,0,10,0,0,0" {
		t.Fatalf("per-second CSV:\n%s", csv.String())
	}
	if _, err := json.Marshal(a); err != nil {
		t.Fatal(err)
	}
}

func TestPictureShowsZeroFailures(t *testing.T) {
	t0 := time.Unix(1000, 0)
	recs, marks := fixture(t0)
	a := analyse(recs, t0, t0.Add(10*time.Second), testColors, marks)
	var svg bytes.Buffer
	a.svg(&svg)
	s := svg.String()
	for _, want := range []string{"0 failed connects or queries", "failed connects or queries (0;", "blue · port 5433", "green · port 5434",
		"operator-moved-to-green at 4.000 s", "traefik-on-green at 5.500 s", "last new connection to blue +1950 ms, first to green +2000 ms; Traefik listed green +1500 ms"} {
		if !strings.Contains(s, want) {
			t.Errorf("picture lacks %q", want)
		}
	}
	if strings.Contains(s, "traefik-on-blue at") || strings.Contains(s, `fill="#e0201b"/>`+"\n") || strings.Contains(s, `stroke="#e0201b"`) {
		t.Errorf("picture draws the mark before the load, or red in a plot, with no failures:\n%s", s)
	}
}

func TestPictureMarksEveryFailure(t *testing.T) {
	t0 := time.Unix(1000, 0)
	recs, marks := fixture(t0)
	for i := range recs {
		if recs[i].client == "new" && recs[i].at.Equal(t0.Add(500*time.Millisecond)) {
			recs[i].server, recs[i].err = "", "connect: connection refused"
		}
		if recs[i].client == "long-1" && recs[i].at.After(t0.Add(7*time.Second)) {
			recs[i].server, recs[i].err = "", "query: unexpected EOF"
			break
		}
	}
	a := analyse(recs, t0, t0.Add(10*time.Second), testColors, marks)
	if a.New.Failed != 1 || a.Long.Failed != 1 || a.secs[0].New.Failed != 1 || a.secs[7].Long.Failed != 1 || len(a.Failures) != 2 {
		t.Fatalf("new %+v long %+v failures %v", a.New, a.Long, a.Failures)
	}
	if f := a.Failures[0]; f.Client != "new" || math.Abs(f.S-0.5) > 1e-9 || f.UnixMs != 1000500 {
		t.Fatalf("first failure %+v", f)
	}
	var svg bytes.Buffer
	a.svg(&svg)
	s := svg.String()
	if n := strings.Count(s, `stroke="#e0201b" stroke-width="1.5"`); n != 2 {
		t.Fatalf("%d red failure ticks, want 2", n)
	}
	for _, want := range []string{`fill="#e0201b">`, "; 2 failed connects or queries", "FAILED at 0.500 s, new: connect: connection refused",
		"query: unexpected EOF"} {
		if !strings.Contains(s, want) {
			t.Errorf("picture lacks %q", want)
		}
	}
}
