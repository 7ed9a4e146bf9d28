package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"bluegreen-operator/test/e2e/svgplot"
)

func (r *result) secs(t time.Time) float64 { return t.Sub(r.Start).Seconds() }

// write leaves <scenario>.svg, <scenario>-requests.csv, <scenario>-events.txt and <scenario>-summary.json.
func (r *result) write(dir string) error {
	base := filepath.Join(dir, r.Scenario)
	if err := svgplot.WriteFile(base+"-requests.csv", func(w io.Writer) {
		fmt.Fprintln(w, "start_s,latency_ms,client,status,color,revision,pod,error")
		for _, x := range r.records {
			client := "keepalive"
			if x.NewConn {
				client = "newconn"
			}
			fmt.Fprintf(w, "%.4f,%.2f,%s,%d,%s,%s,%s,%q\n", r.secs(x.Start), float64(x.End.Sub(x.Start).Microseconds())/1000,
				client, x.Status, x.Color, x.Rev, x.Pod, x.Err)
		}
	}); err != nil {
		return err
	}
	if err := svgplot.WriteFile(base+"-events.txt", func(w io.Writer) {
		type line struct {
			t float64
			s string
		}
		var ls []line
		for _, ev := range r.events {
			ls = append(ls, line{r.secs(ev.T), ev.What})
		}
		for _, rt := range r.routes {
			ls = append(ls, line{r.secs(rt.T), fmt.Sprintf("traefik API: router %q -> service %q (%s), servers %v", rt.Router, rt.Service, rt.Status, rt.Servers)})
		}
		for _, m := range r.Marks {
			ls = append(ls, line{r.secs(m.T), "MARK " + m.Kind + ": " + m.Label})
		}
		sort.SliceStable(ls, func(i, j int) bool { return ls[i].t < ls[j].t })
		fmt.Fprintf(w, "# t in seconds from the start of the load (%s)\n", r.Start.Format(time.RFC3339Nano))
		for _, l := range ls {
			fmt.Fprintf(w, "%9.3f  %s\n", l.t, l.s)
		}
	}); err != nil {
		return err
	}
	if err := svgplot.WriteFile(base+"-summary.json", func(w io.Writer) {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(r)
	}); err != nil {
		return err
	}
	return svgplot.WriteFile(base+".svg", func(w io.Writer) { r.svg(w) })
}

func (r *result) print(w io.Writer) {
	fmt.Fprintf(w, "== e2e %s: %d requests at %s (%d keep-alive, %d new connections) over %.1f s, %d errors\n",
		r.Scenario, r.Requests, r.Host, r.KeepAlive, r.NewConn, r.secs(r.End), r.Errors)
	keys := make([]string, 0, len(r.ByAnswer))
	for k := range r.ByAnswer {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(w, "   answers from %-20s %6d\n", k, r.ByAnswer[k])
	}
	if r.LatencyMs != nil {
		fmt.Fprintf(w, "   latency p50 %.1f ms, p99 %.1f ms, max %.1f ms\n", r.LatencyMs["p50"], r.LatencyMs["p99"], r.LatencyMs["max"])
	}
	for i, m := range r.Switches {
		down := m.From + " kept warm"
		if !m.ScaleDown.IsZero() {
			down = fmt.Sprintf("%s scaled down %.1f s after confirmation", m.From, m.ConfirmToScaleDownMs/1000)
		}
		fmt.Fprintf(w, "   %s %d %s -> %s: promotable at %.2fs; switch %.2fs; Traefik confirms %.2fs (+%.0f ms); first %s answer %+.0f ms, last %s answer %+.0f ms after promotable; %s\n",
			m.Kind, i+1, m.From, m.To, r.secs(m.Promotable), r.secs(m.OperatorSwitch), r.secs(m.TraefikConfirm), m.SwitchToConfirmMs,
			m.To, m.PromotableToFirstNewMs, m.From, m.PromotableToLastOldMs, down)
	}
	if len(r.Kills) > 0 {
		fmt.Fprintf(w, "   operator SIGKILLed (and restarted) by stage: %v\n", r.Kills)
	}
	for _, p := range r.Previews {
		fmt.Fprintf(w, "   preview %-28s want %-18s got %-18s %v\n", p.Host, p.Want, p.Got, map[bool]string{true: "ok", false: "FAILED"}[p.Passed])
	}
	for _, n := range r.Notes {
		fmt.Fprintf(w, "   note: %s\n", n)
	}
}

// --- the picture ---------------------------------------------------------------------------------------------

const (
	bucket  = 250 * time.Millisecond
	svgW    = 1100.0
	plotX   = 60.0
	plotY   = 70.0
	plotW   = 1010.0
	plotH   = 260.0
	redFill = svgplot.Red
)

var markStyle = map[string]svgplot.Style{
	"promotable": {Color: "#555555", Dash: "2,3", Name: "promotable (healthy + readyForSeconds)"},
	"switch":     {Color: "#000000", Dash: "7,4", Name: "operator switches the route"},
	"confirm":    {Color: "#e08a00", Name: "Traefik's API shows the new route"},
	"scaledown":  {Color: "#8a3fb8", Dash: "9,3,2,3", Name: "old color scaled down"},
	"failed":     {Color: redFill, Dash: "7,4", Name: "release marked Failed"},
}

// svg: stacked share of answers per color in 250 ms buckets, errors in red (their share, and a tick at the
// top for every failed request), vertical lines at the moments that matter.
func (r *result) svg(w io.Writer) {
	dur := r.secs(r.End)
	if dur <= 0 {
		dur = 1
	}
	n := int(math.Ceil(dur / bucket.Seconds()))
	type counts struct{ blue, green, bad int }
	bs := make([]counts, n+1)
	for _, x := range r.records {
		i := int(x.Start.Sub(r.Start) / bucket)
		if i < 0 || i > n {
			continue
		}
		switch {
		case !x.ok():
			bs[i].bad++
		case x.Color == "blue":
			bs[i].blue++
		case x.Color == "green":
			bs[i].green++
		default:
			bs[i].bad++
		}
	}
	var lines []string
	for i, m := range r.Switches {
		lines = append(lines, fmt.Sprintf("%s %d %s→%s: first %s answer %+.0f ms, last %s answer %+.0f ms after promotable; Traefik confirmed %.0f ms after the switch",
			m.Kind, i+1, m.From, m.To, m.To, m.PromotableToFirstNewMs, m.From, m.PromotableToLastOldMs, m.SwitchToConfirmMs))
	}
	for _, f := range r.Failures {
		lines = append(lines, "FAILED: "+f)
	}
	svgH := plotY + plotH + 52 + 40 + 26 + 15*float64(len(lines))
	p := svgplot.Plot{X: plotX, Y: plotY, W: plotW, H: plotH, Dur: dur}
	title := fmt.Sprintf("%s: main host %s through Traefik — share of answers per color (250 ms buckets)", r.Scenario, r.Host)
	sub := fmt.Sprintf("%d requests at %d/s (%d keep-alive, %d new connections), %d errors", r.Requests, r.Rate, r.KeepAlive, r.NewConn, r.Errors)
	errColor := "#333333"
	if r.Errors > 0 || len(r.Failures) > 0 {
		errColor = redFill
		sub += fmt.Sprintf(" — %d BROKEN PROMISE(S)", len(r.Failures))
	}
	svgplot.Begin(w, svgW, svgH, plotX, title, sub, errColor)
	// buckets
	fmt.Fprintln(w, `<g shape-rendering="crispEdges">`)
	for i, b := range bs {
		p.Stack(w, float64(i)*bucket.Seconds(), bucket.Seconds(),
			svgplot.Part{N: b.blue, Fill: svgplot.Blue}, svgplot.Part{N: b.green, Fill: svgplot.Green}, svgplot.Part{N: b.bad, Fill: redFill})
	}
	fmt.Fprintln(w, `</g>`)
	// name each stretch where one color/revision answers most, inside its area
	type span struct {
		key        string
		start, end int
	}
	var spans []span
	for i := range bs {
		key := r.majority(i)
		if key == "" {
			continue
		}
		if n := len(spans); n > 0 && spans[n-1].key == key && spans[n-1].end >= i-4 {
			spans[n-1].end = i
		} else {
			spans = append(spans, span{key, i, i})
		}
	}
	for _, s := range spans {
		color, rev, _ := strings.Cut(s.key, "/")
		label := color + " · " + rev
		if img := r.Images[rev]; img != "" {
			label = color + " · " + img[strings.LastIndex(img, "/")+1:]
		}
		p.SpanLabel(w, float64(s.start)*bucket.Seconds(), float64(s.end+1)*bucket.Seconds(), label)
	}
	// every error: a red tick above the plot
	for _, x := range r.records {
		if !x.ok() {
			p.Tick(w, r.secs(x.Start))
		}
	}
	// axes
	p.Box(w)
	p.Percent(w, 0, 0.25, 0.5, 0.75, 1)
	p.TimeAxis(w, "seconds since the load started")
	// vertical lines
	used := map[string]bool{}
	for _, m := range r.Marks {
		if m.T.IsZero() {
			continue
		}
		used[m.Kind] = true
		p.VLine(w, r.secs(m.T), markStyle[m.Kind], m.Label)
	}
	// legend
	l := svgplot.NewLegend(w, plotX, plotY+plotH+52, plotX+plotW)
	l.Box(svgplot.Blue, "blue")
	l.Box(svgplot.Green, "green")
	l.Box(redFill, fmt.Sprintf("errors / non-2xx (%d; each one also a tick above the plot)", r.Errors))
	for _, k := range []string{"promotable", "switch", "confirm", "scaledown", "failed"} {
		if used[k] {
			l.Line(markStyle[k])
		}
	}
	svgplot.Notes(w, plotX, l.Y()+26, lines)
	svgplot.End(w)
}

// majority: the color/revision that answered most requests started in bucket i ("" if none did).
func (r *result) majority(i int) string {
	if r.byBucket == nil {
		r.byBucket = map[int]map[string]int{}
		for _, x := range r.records {
			if x.ok() {
				b := int(x.Start.Sub(r.Start) / bucket)
				if r.byBucket[b] == nil {
					r.byBucket[b] = map[string]int{}
				}
				r.byBucket[b][x.Color+"/"+x.Rev]++
			}
		}
	}
	best, n := "", 0
	for k, c := range r.byBucket[i] {
		if c > n || (c == n && k < best) {
			best, n = k, c
		}
	}
	return best
}
