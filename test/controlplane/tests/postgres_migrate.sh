#!/usr/bin/env bash
# The database parts of the hook tests: test/postgres/pg.sh starts a real PostgreSQL 15 unprivileged, and
# golang-migrate (built by build.sh) applies versioned up steps and undoes them one by one.
. "$(dirname "$0")/lib.sh"
work=$(mktemp -d /tmp/bgo-pg.XXXXXX)
chmod 755 "$work"  # the server runs as user postgres, which must reach $work/db
trap '"$cp_dir/../postgres/pg.sh" stop "$work/db" || true; rm -rf "$work"' EXIT
migrate=$("$cp_dir/build.sh" --bin-dir migrate)/migrate
[[ -x $migrate ]] || fail "$migrate missing (test/controlplane/build.sh migrate)"
port=0
for _ in $(seq 50); do # below the ephemeral range, not listened on
  p=$(( 20000 + RANDOM % 12000 )); ss -Htln "sport = :$p" | grep -q . || { port=$p; break; }
done
(( port )) || fail "no free port"
dsn=$("$cp_dir/../postgres/pg.sh" start "$work/db" "$port") || fail "pg.sh could not start PostgreSQL"
mkdir -p "$work/m"
echo 'CREATE TABLE orders (id serial PRIMARY KEY, note text);' > "$work/m/1_orders.up.sql"
echo 'DROP TABLE orders;' > "$work/m/1_orders.down.sql"
echo 'ALTER TABLE orders ADD COLUMN priority int NOT NULL DEFAULT 0;' > "$work/m/2_priority.up.sql"
echo 'ALTER TABLE orders DROP COLUMN priority;' > "$work/m/2_priority.down.sql"
m() { "$migrate" -path "$work/m" -database "$dsn" "$@"; }
col() { psql "$dsn" -tAc "select count(*) from information_schema.columns where table_name='orders' and column_name='priority'"; }

m up >/dev/null 2>&1 || fail "migrate up failed: $(m up 2>&1)"
[[ $(m version 2>&1) == 2 ]] || fail "version after up is '$(m version 2>&1)', want 2"
[[ $(col) == 1 ]] || fail "column priority missing after up"
m down 1 >/dev/null 2>&1 || fail "migrate down 1 failed"
[[ $(m version 2>&1) == 1 ]] || fail "version after down 1 is '$(m version 2>&1)', want 1"
[[ $(col) == 0 ]] || fail "column priority still there after down"
# A failing step leaves the database dirty at that version: what a hook must report, not hide.
echo 'ALTER TABLE nosuch ADD COLUMN x int;' > "$work/m/3_broken.up.sql"
echo 'SELECT 1;' > "$work/m/3_broken.down.sql"
m up >/dev/null 2>&1 && fail "a broken step succeeded"
[[ $(m version 2>&1) == "3 (dirty)" ]] || fail "version after a failed step is '$(m version 2>&1)', want '3 (dirty)'"
pass "PostgreSQL $(psql "$dsn" -tAc 'show server_version') on $port; migrate up -> 2, down 1 -> 1, broken step -> 3 (dirty)"
