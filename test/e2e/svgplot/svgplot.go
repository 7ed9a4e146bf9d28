// Package svgplot draws the e2e pictures: time runs left to right over a plot, each bucket a stacked
// share of who answered (blue, green, failures in red), a red tick above the plot for every failure,
// vertical lines at the moments that matter, a legend and lines of text below.
package svgplot

import (
	"bufio"
	"fmt"
	"html"
	"io"
	"math"
	"os"
	"strings"
)

// WriteFile creates path and writes what fill writes to it, buffered.
func WriteFile(path string, fill func(io.Writer)) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(f)
	fill(bw)
	if err := bw.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// The colors of the pictures.
const (
	Blue  = "#3b7dd8"
	Green = "#3aa655"
	Red   = "#e0201b"
)

// Style of a vertical line (and its legend entry).
type Style struct{ Color, Dash, Name string }

func (s Style) dash() string {
	if s.Dash == "" {
		return ""
	}
	return fmt.Sprintf(` stroke-dasharray="%s"`, s.Dash)
}

// Begin opens the picture: a white page, a bold title and a subtitle in subColor.
func Begin(w io.Writer, width, height, x float64, title, sub, subColor string) {
	fmt.Fprintf(w, `<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f" font-family="sans-serif" font-size="12">`+"\n", width, height, width, height)
	fmt.Fprintf(w, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	fmt.Fprintf(w, `<text x="%.0f" y="22" font-size="15" font-weight="bold">%s</text>`+"\n", x, html.EscapeString(title))
	fmt.Fprintf(w, `<text x="%.0f" y="40" fill="%s">%s</text>`+"\n", x, subColor, html.EscapeString(sub))
}

// End closes the picture.
func End(w io.Writer) { fmt.Fprintln(w, `</svg>`) }

// Plot is a rectangle (X, Y, W, H) over which Dur seconds run left to right.
type Plot struct{ X, Y, W, H, Dur float64 }

// XOf is the x of second s.
func (p Plot) XOf(s float64) float64 { return p.X + s/p.Dur*p.W }

// YOf is the y of share f (0 at the bottom, 1 at the top).
func (p Plot) YOf(f float64) float64 { return p.Y + p.H - f*p.H }

// Part of a stacked bucket.
type Part struct {
	N    int
	Fill string
}

// Stack draws the bucket [from, from+width) seconds as the share of each part, the first at the bottom.
// Callers wrap their buckets in <g shape-rendering="crispEdges">.
func (p Plot) Stack(w io.Writer, from, width float64, parts ...Part) {
	total := 0
	for _, part := range parts {
		total += part.N
	}
	if total == 0 {
		return
	}
	x := p.XOf(from)
	wdt := math.Min(width/p.Dur*p.W+0.5, p.X+p.W-x)
	if wdt <= 0 {
		return
	}
	acc := 0.0
	for _, part := range parts {
		if part.N == 0 {
			continue
		}
		f := float64(part.N) / float64(total)
		fmt.Fprintf(w, `<rect x="%.2f" y="%.2f" width="%.2f" height="%.2f" fill="%s"/>`+"\n", x, p.YOf(acc+f), wdt, f*p.H, part.Fill)
		acc += f
	}
}

// SpanLabel names the stretch [s0, s1) in white inside the plot, if the label fits.
func (p Plot) SpanLabel(w io.Writer, s0, s1 float64, label string) {
	x0, x1 := p.XOf(s0), p.XOf(s1)
	if x1-x0 < float64(len(label))*7.5 {
		return
	}
	fmt.Fprintf(w, `<text x="%.1f" y="%.1f" text-anchor="middle" fill="white" font-size="13">%s</text>`+"\n",
		(x0+x1)/2, p.Y+p.H/2, html.EscapeString(label))
}

// Tick marks a failure at second s: a red tick above the plot.
func (p Plot) Tick(w io.Writer, s float64) {
	x := p.XOf(s)
	fmt.Fprintf(w, `<line x1="%.2f" y1="%.1f" x2="%.2f" y2="%.1f" stroke="%s" stroke-width="1.5"/>`+"\n", x, p.Y-12, x, p.Y-2, Red)
}

// Box frames the plot.
func (p Plot) Box(w io.Writer) {
	fmt.Fprintf(w, `<rect x="%.0f" y="%.0f" width="%.0f" height="%.0f" fill="none" stroke="#333"/>`+"\n", p.X, p.Y, p.W, p.H)
}

// Percent labels the shares 0-100 % at the given fractions to the left of the plot.
func (p Plot) Percent(w io.Writer, fs ...float64) {
	for _, f := range fs {
		fmt.Fprintf(w, `<text x="%.0f" y="%.1f" text-anchor="end">%d%%</text>`+"\n", p.X-6, p.YOf(f)+4, int(f*100))
	}
}

// TimeAxis ticks the seconds below the plot (every 5 s, every 10 s past two minutes) and names the axis.
func (p Plot) TimeAxis(w io.Writer, label string) {
	step := 5.0
	if p.Dur > 120 {
		step = 10
	}
	for s := 0.0; s <= p.Dur; s += step {
		fmt.Fprintf(w, `<line x1="%.1f" y1="%.0f" x2="%.1f" y2="%.0f" stroke="#333"/>`, p.XOf(s), p.Y+p.H, p.XOf(s), p.Y+p.H+5)
		fmt.Fprintf(w, `<text x="%.1f" y="%.0f" text-anchor="middle">%.0f</text>`+"\n", p.XOf(s), p.Y+p.H+18, s)
	}
	fmt.Fprintf(w, `<text x="%.0f" y="%.0f" text-anchor="middle">%s</text>`+"\n", p.X+p.W/2, p.Y+p.H+34, html.EscapeString(label))
}

// VLine draws a vertical line at second s from the top to the bottom of the plot, titled "<title> at <s> s".
func (p Plot) VLine(w io.Writer, s float64, st Style, title string) {
	x := p.XOf(s)
	fmt.Fprintf(w, `<line x1="%.2f" y1="%.0f" x2="%.2f" y2="%.0f" stroke="%s" stroke-width="1.6"%s><title>%s at %.3f s</title></line>`+"\n",
		x, p.Y, x, p.Y+p.H, st.Color, st.dash(), html.EscapeString(title), s)
}

// Legend: swatches with their labels in rows from (x, y), wrapping before right-200.
type Legend struct {
	w           io.Writer
	x0, x, y, r float64
}

// NewLegend starts a legend at (x, y); right is the right edge of the plot.
func NewLegend(w io.Writer, x, y, right float64) *Legend { return &Legend{w, x, x, y, right} }

func (l *Legend) item(swatch, label string) {
	fmt.Fprintf(l.w, `%s<text x="%.0f" y="%.0f">%s</text>`+"\n", swatch, l.x+22, l.y+4, html.EscapeString(label))
	l.x += 30 + float64(len(label))*6.6
	if l.x > l.r-200 {
		l.x, l.y = l.x0, l.y+20
	}
}

// Box adds a filled swatch.
func (l *Legend) Box(fill, label string) {
	l.item(fmt.Sprintf(`<rect x="%.0f" y="%.0f" width="16" height="10" fill="%s"/>`, l.x, l.y-5, fill), label)
}

// Line adds a line swatch in the style of a vertical line.
func (l *Legend) Line(st Style) {
	l.item(fmt.Sprintf(`<line x1="%.0f" y1="%.0f" x2="%.0f" y2="%.0f" stroke="%s" stroke-width="2"%s/>`, l.x, l.y, l.x+16, l.y, st.Color, st.dash()), st.Name)
}

// Y is the baseline of the legend's last row.
func (l *Legend) Y() float64 { return l.y }

// Notes writes lines of small text from (x, y), 15 apart; a line starting with FAILED is red.
func Notes(w io.Writer, x, y float64, lines []string) {
	for _, l := range lines {
		fill := "#333"
		if strings.HasPrefix(l, "FAILED") {
			fill = Red
		}
		fmt.Fprintf(w, `<text x="%.0f" y="%.0f" font-size="11" fill="%s">%s</text>`+"\n", x, y, fill, html.EscapeString(l))
		y += 15
	}
}
