package main

// The picture of a run: per second, which database answered new connections and the long-lived
// connections' queries, every failed connect or query, and the moments the route changed (from the
// timeline tcp_run.sh writes). Also written as a per-second CSV and a summary JSON.

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"bluegreen-operator/test/e2e/svgplot"
)

// tally: answers in one second by the color of the database, and failures.
type tally struct{ Blue, Green, Other, Failed int }

func (t *tally) add(color, err string) {
	switch {
	case err != "":
		t.Failed++
	case color == "blue":
		t.Blue++
	case color == "green":
		t.Green++
	default:
		t.Other++
	}
}

func (t tally) answered() int { return t.Blue + t.Green + t.Other }

type second struct{ New, Long tally }

// mark: a line of tcp_run.sh's timeline ("<unix ms> <kind> ...").
type mark struct {
	T    time.Time `json:"-"`
	S    float64   `json:"s"` // seconds since the load started
	Kind string    `json:"kind"`
}

type failure struct {
	S      float64 `json:"s"`
	UnixMs int64   `json:"unix_ms"`
	Client string  `json:"client"`
	Err    string  `json:"error"`
}

// move: the operator moved the route to To at S; the new connections around it.
type move struct {
	Kind        string  `json:"kind"` // switch or rollback
	From        string  `json:"from"`
	To          string  `json:"to"`
	S           float64 `json:"s"`
	LastOldMs   float64 `json:"last_old_ms"`  // last new connection answered by From, after the move (NaN: none)
	FirstNewMs  float64 `json:"first_new_ms"` // first new connection answered by To, after the move
	TraefikMs   float64 `json:"traefik_ms"`   // Traefik's API listed the new server
	RequestToMs float64 `json:"request_to_move_ms"`
}

type analysis struct {
	Addr        string            `json:"addr"`
	Rate        int               `json:"rate"`
	LongConns   int               `json:"long_connections"`
	Start       time.Time         `json:"start"`
	Seconds     float64           `json:"seconds"`
	New         tally             `json:"new"`
	Long        tally             `json:"long"`
	Failures    []failure         `json:"failures"`
	Marks       []mark            `json:"marks"`
	Moves       []move            `json:"moves"`
	LongServed  map[string]string `json:"long_served_by"` // client -> colors in order, one per change
	Colors      map[string]string `json:"colors"`         // server port -> color
	secs        []second
	newAnswered []answer // sorted by start
}

type answer struct {
	at    time.Time
	color string
}

func colorOf(colors map[string]string, port string) string {
	if c, ok := colors[port]; ok {
		return c
	}
	return port
}

// analyse buckets recs (sorted by start) into seconds since start.
func analyse(recs []record, start, end time.Time, colors map[string]string, marks []mark) *analysis {
	a := &analysis{Start: start, Seconds: end.Sub(start).Seconds(), LongServed: map[string]string{}, Failures: []failure{},
		Moves: []move{}, Colors: colors}
	if a.Seconds <= 0 {
		a.Seconds = 1
	}
	a.secs = make([]second, int(math.Ceil(a.Seconds))+1)
	longs := map[string]bool{}
	for _, r := range recs {
		i := int(r.at.Sub(start) / time.Second)
		if i < 0 || i >= len(a.secs) {
			continue
		}
		color := colorOf(colors, r.server)
		if r.err != "" {
			a.Failures = append(a.Failures, failure{r.at.Sub(start).Seconds(), r.at.UnixMilli(), r.client, r.err})
		}
		if r.client == "new" {
			a.secs[i].New.add(color, r.err)
			a.New.add(color, r.err)
			if r.err == "" {
				a.newAnswered = append(a.newAnswered, answer{r.at, color})
			}
			continue
		}
		longs[r.client] = true
		a.secs[i].Long.add(color, r.err)
		a.Long.add(color, r.err)
		if r.err == "" {
			seen := strings.Split(a.LongServed[r.client], " ")
			if a.LongServed[r.client] == "" {
				a.LongServed[r.client] = color
			} else if seen[len(seen)-1] != color {
				a.LongServed[r.client] += " " + color
			}
		}
	}
	a.LongConns = len(longs)
	for _, m := range marks {
		m.S = m.T.Sub(start).Seconds()
		a.Marks = append(a.Marks, m)
	}
	sort.SliceStable(a.Marks, func(i, j int) bool { return a.Marks[i].T.Before(a.Marks[j].T) })
	a.moves()
	return a
}

// moves: for every operator-moved-to-<color> mark, the new connections between its request and the next one.
func (a *analysis) moves() {
	for i, m := range a.Marks {
		to, ok := strings.CutPrefix(m.Kind, "operator-moved-to-")
		if !ok {
			continue
		}
		mv := move{Kind: "switch", To: to, S: m.S, LastOldMs: math.NaN(), FirstNewMs: math.NaN(), TraefikMs: math.NaN(), RequestToMs: math.NaN()}
		from, until := time.Time{}, a.Start.Add(time.Duration(a.Seconds*float64(time.Second)))
		for j := i - 1; j >= 0; j-- {
			if k, ok := strings.CutSuffix(a.Marks[j].Kind, "-requested"); ok {
				mv.Kind, from = k, a.Marks[j].T
				mv.RequestToMs = ms(m.T.Sub(from))
				break
			}
		}
		for _, n := range a.Marks[i+1:] {
			if strings.HasSuffix(n.Kind, "-requested") {
				until = n.T
				break
			}
			if strings.HasPrefix(n.Kind, "traefik-on-") && math.IsNaN(mv.TraefikMs) {
				mv.TraefikMs = ms(n.T.Sub(m.T))
			}
		}
		// the route moves from the database that answered the last new connection before the request
		if from.IsZero() {
			from = m.T
		}
		for _, r := range a.newAnswered {
			if r.at.Before(from) {
				mv.From = r.color
			}
		}
		for _, r := range a.newAnswered {
			if r.at.Before(from) || !r.at.Before(until) {
				continue
			}
			d := ms(r.at.Sub(m.T))
			if r.color == to && math.IsNaN(mv.FirstNewMs) && d >= 0 {
				mv.FirstNewMs = d
			}
			if r.color != to {
				mv.LastOldMs = d
			}
		}
		a.Moves = append(a.Moves, mv)
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// readTimeline: "<unix ms> <kind> ..." lines; a missing file is no marks.
func readTimeline(path string) []mark {
	var ms []mark
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) < 2 {
			continue
		}
		n, err := strconv.ParseInt(fs[0], 10, 64)
		if err != nil {
			continue
		}
		ms = append(ms, mark{T: time.UnixMilli(n), Kind: fs[1]})
	}
	return ms
}

// writeSeconds: one CSV line per second since the load started.
func (a *analysis) writeSeconds(w io.Writer) {
	fmt.Fprintln(w, "second,unix,new_blue,new_green,new_other,new_failed,long_blue,long_green,long_other,long_failed")
	for i, s := range a.secs {
		fmt.Fprintf(w, "%d,%d,%d,%d,%d,%d,%d,%d,%d,%d\n", i, a.Start.Unix()+int64(i),
			s.New.Blue, s.New.Green, s.New.Other, s.New.Failed, s.Long.Blue, s.Long.Green, s.Long.Other, s.Long.Failed)
	}
}

// MarshalJSON: NaN (no such connection) as null.
func (m move) MarshalJSON() ([]byte, error) {
	f := func(v float64) any {
		if math.IsNaN(v) {
			return nil
		}
		return v
	}
	return json.Marshal(map[string]any{"kind": m.Kind, "from": m.From, "to": m.To, "s": m.S,
		"request_to_move_ms": f(m.RequestToMs), "last_old_ms": f(m.LastOldMs), "first_new_ms": f(m.FirstNewMs), "traefik_ms": f(m.TraefikMs)})
}

// --- the picture ------------------------------------------------------------------------------------------

const (
	svgW  = 1100.0
	plotX = 60.0
	plotY = 70.0
	plotW = 1010.0
	newH  = 220.0
	longH = 50.0
	gap   = 44.0
	gray  = "#9a9a9a"
)

func markStyle(kind string) (svgplot.Style, bool) {
	switch {
	case strings.HasSuffix(kind, "-requested"):
		return svgplot.Style{Color: "#555555", Dash: "2,3", Name: "release changed (kubectl apply)"}, true
	case strings.HasPrefix(kind, "operator-moved-to-"):
		return svgplot.Style{Color: "#000000", Dash: "7,4", Name: "operator moves the database route (status.tcpRoute.lastMoveTime)"}, true
	case strings.HasPrefix(kind, "traefik-on-"):
		return svgplot.Style{Color: "#e08a00", Name: "Traefik's API lists the new server"}, true
	}
	return svgplot.Style{}, false
}

func signed(v float64) string {
	if math.IsNaN(v) {
		return "none"
	}
	return fmt.Sprintf("%+.0f ms", v)
}

func (a *analysis) notes() []string {
	var lines []string
	for _, m := range a.Moves {
		lines = append(lines, fmt.Sprintf("%s %s→%s: route moved at %.1f s (%.1f s after the release changed); then last new connection to %s %s, first to %s %s; Traefik listed %s %s",
			m.Kind, m.From, m.To, m.S, m.RequestToMs/1000, m.From, signed(m.LastOldMs), m.To, signed(m.FirstNewMs), m.To, signed(m.TraefikMs)))
	}
	var names []string
	for k := range a.LongServed {
		names = append(names, k)
	}
	sort.Strings(names)
	var served []string
	for _, n := range names {
		served = append(served, n+": "+strings.ReplaceAll(a.LongServed[n], " ", "→"))
	}
	if len(served) > 0 {
		lines = append(lines, fmt.Sprintf("long-lived connections served by (in order): %s", strings.Join(served, ", ")))
	}
	for i, f := range a.Failures {
		if i == 20 {
			lines = append(lines, fmt.Sprintf("FAILED: … and %d more (tcp-load.csv has them all)", len(a.Failures)-20))
			break
		}
		lines = append(lines, fmt.Sprintf("FAILED at %.3f s, %s: %s", f.S, f.Client, f.Err))
	}
	return lines
}

// svg: per second, the share of new connections each database answered (top) and of the long-lived
// connections' queries (the lane below); every failed connect or query in red, also as a tick above its plot.
func (a *analysis) svg(w io.Writer) {
	lines := a.notes()
	newP := svgplot.Plot{X: plotX, Y: plotY, W: plotW, H: newH, Dur: a.Seconds}
	longP := svgplot.Plot{X: plotX, Y: plotY + newH + gap, W: plotW, H: longH, Dur: a.Seconds}
	both := svgplot.Plot{X: plotX, Y: plotY, W: plotW, H: longP.Y + longH - plotY, Dur: a.Seconds}
	svgH := longP.Y + longH + 52 + 40 + 26 + 15*float64(len(lines))
	failed := a.New.Failed + a.Long.Failed
	title := fmt.Sprintf("database route: PostgreSQL through Traefik's TCP entry point %s — which database answered, per second", a.Addr)
	sub := fmt.Sprintf("%d new connections at %d/s (blue %d, green %d), %d queries on %d long-lived connections (blue %d, green %d); %d failed connects or queries",
		a.New.answered()+a.New.Failed, a.Rate, a.New.Blue, a.New.Green, a.Long.answered()+a.Long.Failed, a.LongConns, a.Long.Blue, a.Long.Green, failed)
	subColor := "#333333"
	if failed > 0 {
		subColor = svgplot.Red
	}
	svgplot.Begin(w, svgW, svgH, plotX, title, sub, subColor)
	fmt.Fprintf(w, `<text x="%.0f" y="56" font-size="11" fill="#333">new connections (one query each, then closed): share per second</text>`+"\n", plotX)
	fmt.Fprintf(w, `<text x="%.0f" y="%.0f" font-size="11" fill="#333">long-lived connections (%d, a query every 200 ms each): share of their queries per second</text>`+"\n", plotX, longP.Y-16, a.LongConns)
	fmt.Fprintln(w, `<g shape-rendering="crispEdges">`)
	parts := func(t tally) []svgplot.Part {
		return []svgplot.Part{{N: t.Blue, Fill: svgplot.Blue}, {N: t.Green, Fill: svgplot.Green}, {N: t.Other, Fill: gray}, {N: t.Failed, Fill: svgplot.Red}}
	}
	for i, s := range a.secs {
		newP.Stack(w, float64(i), 1, parts(s.New)...)
		longP.Stack(w, float64(i), 1, parts(s.Long)...)
	}
	fmt.Fprintln(w, `</g>`)
	// name each stretch where one database answered most new connections
	type span struct {
		color      string
		start, end int
	}
	var spans []span
	for i, s := range a.secs {
		color := ""
		switch {
		case s.New.answered() == 0:
			continue
		case s.New.Blue >= s.New.Green:
			color = "blue"
		default:
			color = "green"
		}
		if n := len(spans); n > 0 && spans[n-1].color == color && spans[n-1].end >= i-2 {
			spans[n-1].end = i
		} else {
			spans = append(spans, span{color, i, i})
		}
	}
	port := map[string]string{}
	for p, c := range a.Colors {
		port[c] = p
	}
	for _, s := range spans {
		label := s.color
		if p := port[s.color]; p != "" {
			label += " · port " + p
		}
		newP.SpanLabel(w, float64(s.start), float64(s.end+1), label)
	}
	for _, f := range a.Failures {
		if f.Client == "new" {
			newP.Tick(w, f.S)
		} else {
			longP.Tick(w, f.S)
		}
	}
	newP.Box(w)
	newP.Percent(w, 0, 0.25, 0.5, 0.75, 1)
	longP.Box(w)
	longP.Percent(w, 0, 1)
	both.TimeAxis(w, "seconds since the load started")
	used := map[string]svgplot.Style{}
	var order []string
	for _, m := range a.Marks {
		st, ok := markStyle(m.Kind)
		if !ok || m.S < 0 || m.S > a.Seconds {
			continue
		}
		if _, seen := used[st.Name]; !seen {
			order = append(order, st.Name)
		}
		used[st.Name] = st
		newP.VLine(w, m.S, st, m.Kind)
		longP.VLine(w, m.S, st, m.Kind)
	}
	l := svgplot.NewLegend(w, plotX, both.Y+both.H+52, plotX+plotW)
	l.Box(svgplot.Blue, "blue"+portSuffix(port["blue"]))
	l.Box(svgplot.Green, "green"+portSuffix(port["green"]))
	if a.New.Other+a.Long.Other > 0 {
		l.Box(gray, "another server")
	}
	l.Box(svgplot.Red, fmt.Sprintf("failed connects or queries (%d; each one also a tick above its plot)", failed))
	for _, k := range order {
		l.Line(used[k])
	}
	svgplot.Notes(w, plotX, l.Y()+26, lines)
	svgplot.End(w)
}

func portSuffix(p string) string {
	if p == "" {
		return ""
	}
	return " (port " + p + ")"
}
