// loadgen drives real traffic through Traefik at a BlueGreenRelease while the operator releases it, records
// every response, checks the zero-downtime promises and draws the share of responses per color over time.
//
//	loadgen run --scenario switch|rollback|failed|kill|database --namespace NS --out DIR   (one scenario; exit 1 on a broken promise)
//	loadgen report DIR...                                                      (median and worst over summaries)
//
// Run by test/e2e/run.sh, which starts the plane, the traffic parts (Traefik, backends) and the operator.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"
)

type config struct {
	kubeconfig   string
	namespace    string
	scenario     string
	out          string
	web          string // Traefik's web entry point, host:port
	api          string // Traefik's API, http://host:port
	rate         int
	minRequests  int
	switches     int
	maxDuration  time.Duration
	readyFor     int
	scaleDelay   int
	rollbackWait int
	operatorPID  string // kill scenario: file holding the operator's current pid (a supervisor restarts it)
	databaseURL  string // database scenario: PostgreSQL the backends and the hook Jobs use
	migrate      string // database scenario: the golang-migrate binary the hook Jobs run
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: loadgen run|report ... (see main.go)")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "run":
		os.Exit(runCmd(os.Args[2:]))
	case "report":
		os.Exit(reportCmd(os.Args[2:]))
	default:
		fmt.Fprintf(os.Stderr, "loadgen: unknown command %q (run|report)\n", os.Args[1])
		os.Exit(2)
	}
}

func runCmd(args []string) int {
	var c config
	fs := flag.NewFlagSet("run", flag.ExitOnError)
	fs.StringVar(&c.kubeconfig, "kubeconfig", os.Getenv("BGO_KUBECONFIG"), "kubeconfig of the plane")
	fs.StringVar(&c.namespace, "namespace", "", "namespace the operator watches (the release is created there)")
	fs.StringVar(&c.scenario, "scenario", "switch", "switch | rollback | failed | kill | database")
	fs.StringVar(&c.out, "out", ".", "folder for <scenario>.svg, -requests.csv, -events.txt, -summary.json")
	fs.StringVar(&c.web, "traefik-web", trimScheme(os.Getenv("BGO_TRAEFIK_WEB")), "Traefik's web entry point (host:port)")
	fs.StringVar(&c.api, "traefik-api", os.Getenv("BGO_TRAEFIK_API"), "Traefik's API (http://host:port)")
	fs.IntVar(&c.rate, "rate", 300, "requests per second at the main host (half keep-alive, half new connections)")
	fs.IntVar(&c.minRequests, "min-requests", 20000, "the load runs at least until this many main-host requests were answered")
	fs.IntVar(&c.switches, "switches", 3, "releases in a row in the switch scenario")
	fs.DurationVar(&c.maxDuration, "max-duration", 4*time.Minute, "hard limit of one scenario")
	fs.IntVar(&c.readyFor, "ready-for", 2, "spec.promotion.readyForSeconds")
	fs.IntVar(&c.scaleDelay, "scale-down-delay", 5, "spec.scaleDown.delaySeconds (the rollback scenario uses --rollback-delay)")
	fs.IntVar(&c.rollbackWait, "rollback-delay", 25, "spec.scaleDown.delaySeconds of the rollback scenario (the warm window)")
	fs.StringVar(&c.operatorPID, "operator-pid-file", "", "kill scenario: the file with the operator's pid, which a supervisor restarts after each SIGKILL")
	fs.StringVar(&c.databaseURL, "database-url", "", "database scenario: PostgreSQL URL for the backends and the migrations")
	fs.StringVar(&c.migrate, "migrate", "", "database scenario: path of the golang-migrate binary")
	_ = fs.Parse(args)
	switch {
	case c.kubeconfig == "":
		return fail("--kubeconfig (or BGO_KUBECONFIG) is required")
	case c.namespace == "":
		return fail("--namespace is required")
	case c.web == "" || c.api == "":
		return fail("--traefik-web and --traefik-api (or BGO_TRAEFIK_WEB / BGO_TRAEFIK_API, `. <plane>/traffic.env`) are required")
	case c.scenario != "switch" && c.scenario != "rollback" && c.scenario != "failed" && c.scenario != "kill" && c.scenario != "database":
		return fail("--scenario must be switch, rollback, failed, kill or database")
	case c.scenario == "database" && (c.databaseURL == "" || c.migrate == ""):
		return fail("--database-url and --migrate are required for the database scenario")
	case c.scenario == "kill" && c.operatorPID == "":
		return fail("--operator-pid-file is required for the kill scenario")
	case c.rate < 10 || c.rate > 5000:
		return fail("--rate must be between 10 and 5000")
	}
	if err := os.MkdirAll(c.out, 0o755); err != nil {
		return fail(err.Error())
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.maxDuration+time.Minute)
	defer cancel()
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := runScenario(ctx, c)
	if res != nil {
		if werr := res.write(c.out); werr != nil {
			fmt.Fprintf(os.Stderr, "loadgen: writing results: %v\n", werr)
		}
		res.print(os.Stdout)
	}
	if err != nil {
		return fail(fmt.Sprintf("scenario %s: %v", c.scenario, err))
	}
	if len(res.Failures) > 0 {
		fmt.Fprintf(os.Stderr, "FAIL [e2e %s]: %d broken promise(s):\n", c.scenario, len(res.Failures))
		for _, f := range res.Failures {
			fmt.Fprintf(os.Stderr, "  - %s\n", f)
		}
		return 1
	}
	fmt.Printf("PASS [e2e %s]: %d requests, 0 errors; picture %s/%s.svg\n", c.scenario, res.Requests, c.out, c.scenario)
	return 0
}

func fail(msg string) int {
	fmt.Fprintf(os.Stderr, "loadgen: %s\n", msg)
	return 1
}

func trimScheme(s string) string {
	for _, p := range []string{"http://", "https://"} {
		if len(s) > len(p) && s[:len(p)] == p {
			return s[len(p):]
		}
	}
	return s
}
