package main

// The database scenario: every request runs a query on a real PostgreSQL, version 1.1 of the app needs a
// column that a preSwitch hook Job adds (golang-migrate up), a postSwitch hook checks the live schema, and
// the rollback to 1.0 runs 1.1's onRollback hook (migrate down). Each hook run is counted in the database itself, so "exactly once" is checked where
// it matters.

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// The schema each app version needs: 1.0 writes orders(note); 1.1 also writes orders.priority.
var migrations = map[string]string{
	"1_orders.up.sql":     "CREATE TABLE orders (id bigserial PRIMARY KEY, note text NOT NULL);",
	"1_orders.down.sql":   "DROP TABLE orders;",
	"2_priority.up.sql":   "ALTER TABLE orders ADD COLUMN priority int NOT NULL DEFAULT 0;",
	"2_priority.down.sql": "ALTER TABLE orders DROP COLUMN priority;",
}

// appQuery: what one request of each version does (the value answered is the schema version it saw).
func appQuery(tag string) string {
	insert := "INSERT INTO orders(note) VALUES ($1)"
	if tag != "1.0" {
		insert = "INSERT INTO orders(note, priority) VALUES ($1, 1)"
	}
	return "WITH w AS (" + insert + " RETURNING id) SELECT version FROM schema_migrations, (SELECT count(*) FROM w) c"
}

// schemaOf: the schema version each app version is released with.
func schemaOf(tag string) int {
	if tag == "1.0" {
		return 1
	}
	return 2
}

func (e *env) migrationsDir() string { return filepath.Join(e.c.out, "migrations") }

func (e *env) psql(ctx context.Context, sql string) (string, error) {
	out, err := exec.CommandContext(ctx, "psql", e.c.databaseURL, "-v", "ON_ERROR_STOP=1", "-qtAc", sql).CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// dbSetup starts from an empty database and writes the migrations the hook Jobs apply.
func (e *env) dbSetup(ctx context.Context) error {
	if err := os.MkdirAll(e.migrationsDir(), 0o755); err != nil {
		return err
	}
	for name, sql := range migrations {
		if err := os.WriteFile(filepath.Join(e.migrationsDir(), name), []byte(sql+"\n"), 0o644); err != nil {
			return err
		}
	}
	if out, err := e.psql(ctx, "DROP TABLE IF EXISTS orders, schema_migrations, hook_runs; "+
		"CREATE TABLE hook_runs (hook text, kind text, revision text, at timestamptz DEFAULT now())"); err != nil {
		return fmt.Errorf("database setup: %v: %s", err, out)
	}
	return nil
}

// dbEnv: the app's connection settings in its pod template.
func (e *env) dbEnv(tag string) []any {
	return []any{
		map[string]any{"name": "APP_DATABASE_URL", "value": e.c.databaseURL},
		map[string]any{"name": "APP_QUERY", "value": appQuery(tag)},
	}
}

// migrateJob: a hook that migrates to a schema version, then records its run (name, kind, revision).
func (e *env) migrateJob(name string, version int) map[string]any {
	return e.hookJob(name, fmt.Sprintf(`"$MIGRATE" -path "$MIGRATIONS" -database "$DB" goto %d`, version))
}

// checkJob: a postSwitch hook that fails unless the live schema is the given version, then records its run.
func (e *env) checkJob(name string, version int) map[string]any {
	return e.hookJob(name, fmt.Sprintf(`test "$(psql "$DB" -tAc 'SELECT version FROM schema_migrations')" = %d`, version))
}

// hookJob: a hook Job that runs step, then records its run in hook_runs (name, kind, revision).
func (e *env) hookJob(name, step string) map[string]any {
	// The second of sleep: a real migration takes a while, and the kill variant needs the Job running.
	script := `sleep 1 && ` + step + ` && ` +
		`echo "INSERT INTO hook_runs(hook, kind, revision) VALUES ('$BGO_HOOK', '$BGO_HOOK_KIND', '$BGO_REVISION')" | psql "$DB" -v ON_ERROR_STOP=1 -q`
	return map[string]any{
		"name":           name,
		"timeoutSeconds": int64(60),
		"template": map[string]any{"spec": map[string]any{"containers": []any{map[string]any{
			"name": "migrate", "command": []any{"sh", "-c", script},
			"env": []any{
				map[string]any{"name": "MIGRATE", "value": e.c.migrate},
				map[string]any{"name": "MIGRATIONS", "value": e.migrationsDir()},
				map[string]any{"name": "DB", "value": e.c.databaseURL},
			},
		}}}},
	}
}

// hooks: spec.hooks of each app version: migrate up before its switch; 1.1 also checks the live schema
// after its switch and migrates down when it is left.
func (e *env) hooks(tag string) map[string]any {
	h := map[string]any{"preSwitch": []any{e.migrateJob("migrate-up", schemaOf(tag))}}
	if tag != "1.0" {
		h["postSwitch"] = []any{e.checkJob("check-schema", schemaOf(tag))}
		h["onRollback"] = []any{e.migrateJob("migrate-down", schemaOf(tag)-1)}
	}
	return h
}

func (e *env) schemaVersion(ctx context.Context) string {
	v, err := e.psql(ctx, "SELECT version::text || CASE WHEN dirty THEN ' (dirty)' ELSE '' END FROM schema_migrations")
	if err != nil {
		return "error: " + v
	}
	return v
}

// hookRuns: how often each hook of each revision ran, e.g. "migrate-up/preSwitch/<rev>" -> 1.
func (e *env) hookRuns(ctx context.Context) (map[string]int, error) {
	out, err := e.psql(ctx, "SELECT hook || '/' || kind || '/' || revision, count(*) FROM hook_runs GROUP BY 1 ORDER BY 1")
	if err != nil {
		return nil, fmt.Errorf("counting hook runs: %v: %s", err, out)
	}
	runs := map[string]int{}
	for _, line := range strings.Split(out, "\n") {
		k, n, ok := strings.Cut(line, "|") // psql -A separates columns with |
		if c, err := strconv.Atoi(n); ok && err == nil {
			runs[k] = c
		}
	}
	return runs, nil
}

// databaseScenario: release 1.1 (up migration before the switch), then roll back to 1.0 (down after it).
// With --operator-pid-file the operator is SIGKILLed once while each hook Job runs (a supervisor restarts
// it): every hook must still run exactly once.
func (e *env) databaseScenario(ctx context.Context, rev1 string) error {
	if e.c.operatorPID != "" {
		kctx, stopKiller := context.WithCancel(ctx)
		done := make(chan map[string]int, 1)
		go func() { done <- e.killer(kctx) }()
		defer func() {
			stopKiller()
			kills := <-done
			e.res.Kills = kills
			if len(kills) < 3 {
				e.res.failf("the operator was SIGKILLed during %d hook runs, want 3 (the up migration, the postSwitch check, the down migration): %v", len(kills), kills)
			}
		}()
	}
	if v := e.schemaVersion(ctx); v != "1" {
		return fmt.Errorf("schema version %q after the first release, want 1 (its preSwitch hook)", v)
	}
	e.obs.note("schema version 1 (release 1.0 live)")
	if err := e.step(ctx, "release", "1.1", false); err != nil {
		return err
	}
	if v := e.schemaVersion(ctx); v != "2" {
		return fmt.Errorf("schema version %q after the switch to 1.1, want 2 (its preSwitch hook runs before the switch)", v)
	}
	rev2 := e.res.Switches[len(e.res.Switches)-1].ToRev
	e.obs.note("schema version 2 (release 1.1 live)")
	// The rollback starts once 1.1's postSwitch check is done (a rollback during it is a test of its own).
	if err := e.waitFor(ctx, 60*time.Second, "1.1's postSwitch check to run", func() bool {
		runs, err := e.hookRuns(ctx)
		return err == nil && runs["check-schema/postSwitch/"+rev2] > 0
	}); err != nil {
		return err
	}
	if err := e.stepRollback(ctx); err != nil {
		return err
	}
	if err := e.waitFor(ctx, 60*time.Second, "schema version 1 after the rollback (1.1's onRollback hook)", func() bool {
		return e.schemaVersion(ctx) == "1"
	}); err != nil {
		return fmt.Errorf("%w; schema version %q", err, e.schemaVersion(ctx))
	}
	e.obs.note("schema version 1 (rolled back to 1.0)")
	sleep(ctx, 2*time.Second) // requests on the restored schema
	runs, err := e.hookRuns(ctx)
	if err != nil {
		return err
	}
	want := map[string]int{"migrate-up/preSwitch/" + rev1: 1, "migrate-up/preSwitch/" + rev2: 1,
		"check-schema/postSwitch/" + rev2: 1, "migrate-down/onRollback/" + rev2: 1}
	for k, n := range want {
		if runs[k] != n {
			e.res.failf("hook %s ran %d times, want exactly %d (all runs: %v)", k, runs[k], n, runs)
		}
	}
	for k := range runs {
		if _, ok := want[k]; !ok {
			e.res.failf("unexpected hook run %s (all runs: %v)", k, runs)
		}
	}
	e.res.HookRuns = runs
	return nil
}

// analyseDatabase: every answer touched the database, and 1.1 never answered without its schema.
func (e *env) analyseDatabase() {
	r := e.res
	noDB, wrong := 0, 0
	rev2 := ""
	for _, m := range r.Switches {
		if m.Kind == "release" {
			rev2 = m.ToRev
		}
	}
	for _, x := range r.records {
		if !x.ok() {
			continue
		}
		if x.DB == "" {
			noDB++
		} else if x.Rev == rev2 && x.DB != "2" {
			wrong++
		}
	}
	if noDB > 0 {
		r.failf("%d answers did not come from a database query (APP_DATABASE_URL/APP_QUERY not applied?)", noDB)
	}
	if wrong > 0 {
		r.failf("%d answers of revision %s saw a schema other than 2", wrong, rev2)
	}
}
