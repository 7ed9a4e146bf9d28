// dbload: PostgreSQL clients through Traefik's TCP entry point while the
// operator moves the database route. New connections at a steady rate (each
// asks which server answered, then closes) plus long-lived connections that
// query the same on one connection all along. Writes every attempt to a CSV
// and prints, per second, which server answered new connections and every
// failure; then what each long-lived connection saw. With --svg, --seconds and --summary also a picture
// of it (picture.go), per second counts and a summary, with the route's moves from --timeline.
package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"bluegreen-operator/test/e2e/svgplot"

	"github.com/jackc/pgx/v5"
)

type record struct {
	at     time.Time
	client string // "new" or "long-N"
	server string // current_setting('port') of the server that answered
	err    string
}

type recorder struct {
	mu   sync.Mutex
	recs []record
}

func (r *recorder) add(rec record) {
	r.mu.Lock()
	r.recs = append(r.recs, rec)
	r.mu.Unlock()
}

const query = "select current_setting('port')"

func ask(ctx context.Context, c *pgx.Conn) (string, error) {
	var port string
	qctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	err := c.QueryRow(qctx, query).Scan(&port)
	return port, err
}

func connect(ctx context.Context, dsn string) (*pgx.Conn, error) {
	cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	return pgx.Connect(cctx, dsn)
}

func main() {
	addr := flag.String("addr", "", "Traefik's postgres entry point host:port")
	rate := flag.Int("rate", 50, "new connections per second")
	long := flag.Int("long", 4, "long-lived connections")
	every := flag.Duration("long-every", 200*time.Millisecond, "query interval of a long-lived connection")
	out := flag.String("out", "dbload.csv", "CSV of every attempt")
	svgOut := flag.String("svg", "", "picture: per second, which database answered, failures in red (none: not drawn)")
	secsOut := flag.String("seconds", "", "CSV of answers and failures per second and database")
	sumOut := flag.String("summary", "", "JSON: totals, every failure, the route's moves and the cut-over around each")
	timeline := flag.String("timeline", "", "lines '<unix ms> <event>' (tcp_run.sh's), read at the end: the route's moves")
	colorsArg := flag.String("colors", "5433=blue,5434=green", "server port=color, comma-separated")
	flag.Parse()
	colors := map[string]string{}
	for _, kv := range strings.Split(*colorsArg, ",") {
		if k, v, ok := strings.Cut(kv, "="); ok {
			colors[k] = v
		}
	}
	if *addr == "" {
		fmt.Fprintln(os.Stderr, "dbload: --addr is required")
		os.Exit(2)
	}
	dsn := "postgres://postgres@" + *addr + "/postgres?sslmode=disable"
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	rec := &recorder{}
	var wg sync.WaitGroup
	start := time.Now()

	for i := 0; i < *long; i++ {
		wg.Add(1)
		go func(name string) {
			defer wg.Done()
			var c *pgx.Conn
			tick := time.NewTicker(*every)
			defer tick.Stop()
			for ctx.Err() == nil {
				at := time.Now()
				if c == nil {
					var err error
					if c, err = connect(ctx, dsn); err != nil {
						rec.add(record{at, name, "", "connect: " + err.Error()})
						c = nil
					}
				}
				if c != nil {
					port, err := ask(ctx, c)
					if err != nil && ctx.Err() == nil {
						rec.add(record{at, name, "", "query: " + err.Error()})
						c.Close(context.Background())
						c = nil
					} else if err == nil {
						rec.add(record{at, name, port, ""})
					}
				}
				select {
				case <-ctx.Done():
				case <-tick.C:
				}
			}
			if c != nil {
				c.Close(context.Background())
			}
		}(fmt.Sprintf("long-%d", i))
	}

	// Open loop: a slow connect never slows the sender.
	tick := time.NewTicker(time.Second / time.Duration(*rate))
	defer tick.Stop()
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case <-tick.C:
		}
		wg.Add(1)
		go func(at time.Time) {
			defer wg.Done()
			c, err := connect(context.Background(), dsn)
			if err != nil {
				rec.add(record{at, "new", "", "connect: " + err.Error()})
				return
			}
			defer c.Close(context.Background())
			port, err := ask(context.Background(), c)
			if err != nil {
				rec.add(record{at, "new", "", "query: " + err.Error()})
				return
			}
			rec.add(record{at, "new", port, ""})
		}(time.Now())
	}
	wg.Wait()
	end := time.Now()
	report(rec.recs, *out)
	a := analyse(rec.recs, start, end, colors, readTimeline(*timeline))
	a.Addr, a.Rate = *addr, *rate
	for _, f := range []struct {
		path string
		fill func(io.Writer)
	}{{*svgOut, a.svg}, {*secsOut, a.writeSeconds}, {*sumOut, func(w io.Writer) {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(a)
	}}} {
		if f.path == "" {
			continue
		}
		if err := svgplot.WriteFile(f.path, f.fill); err != nil {
			fmt.Fprintln(os.Stderr, "dbload:", err)
			os.Exit(1)
		}
	}
}

func report(recs []record, out string) {
	sort.Slice(recs, func(i, j int) bool { return recs[i].at.Before(recs[j].at) })
	f, err := os.Create(out)
	if err != nil {
		fmt.Fprintln(os.Stderr, "dbload:", err)
		os.Exit(1)
	}
	w := csv.NewWriter(f)
	_ = w.Write([]string{"unix_ms", "client", "server_port", "error"})
	for _, r := range recs {
		_ = w.Write([]string{strconv.FormatInt(r.at.UnixMilli(), 10), r.client, r.server, r.err})
	}
	w.Flush()
	f.Close()

	type sec struct{ by map[string]int }
	perSec := map[int64]*sec{}
	var secs []int64
	failed := 0
	longSeen := map[string][]string{} // client -> servers in order, one entry per change
	for _, r := range recs {
		if r.err != "" {
			failed++
			fmt.Printf("FAILED %s %s: %s\n", r.at.Format("15:04:05.000"), r.client, r.err)
			continue
		}
		if r.client == "new" {
			s := r.at.Unix()
			if perSec[s] == nil {
				perSec[s] = &sec{map[string]int{}}
				secs = append(secs, s)
			}
			perSec[s].by[r.server]++
			continue
		}
		seen := longSeen[r.client]
		if len(seen) == 0 || seen[len(seen)-1] != r.server {
			longSeen[r.client] = append(seen, r.server)
		}
	}
	sort.Slice(secs, func(i, j int) bool { return secs[i] < secs[j] })
	for _, s := range secs {
		fmt.Printf("second %s new connections by server:", time.Unix(s, 0).UTC().Format("15:04:05"))
		var keys []string
		for k := range perSec[s].by {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Printf(" %s=%d", k, perSec[s].by[k])
		}
		fmt.Println()
	}
	var names []string
	for k := range longSeen {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Printf("%s served by: %v\n", n, longSeen[n])
	}
	n := 0
	for _, r := range recs {
		if r.client == "new" {
			n++
		}
	}
	fmt.Printf("total: %d attempts (%d new connections), %d failed\n", len(recs), n, failed)
}
