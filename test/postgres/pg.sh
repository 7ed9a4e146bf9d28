#!/usr/bin/env bash
# A throwaway PostgreSQL 15 server for tests and the demo, unprivileged, trust auth, data in a folder.
#   pg.sh start DIR PORT [HOST]   initdb DIR if empty, start on HOST:PORT (default 127.0.0.1); prints the DSN
#   pg.sh stop DIR                fast shutdown; no error if not running
#   pg.sh dsn DIR                 the DSN of a started server
# Run inside a network namespace with `ip netns exec NS pg.sh start ...`: it binds where it is started.
# As root, the server runs as the `postgres` user (PostgreSQL refuses root); DIR is handed to that user.
set -euo pipefail

PGBIN=${PGBIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}
if [[ -z $PGBIN || ! -x $PGBIN/postgres ]]; then
  echo "pg.sh: PostgreSQL server not found under /usr/lib/postgresql (install postgresql-15: scripts/install-deps.sh)" >&2
  exit 1
fi

as_owner() {
  if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

cmd=${1:-}; dir=${2:-}
[[ -n $cmd && -n $dir ]] || { echo "usage: pg.sh start|stop|dsn DIR [PORT [HOST]]" >&2; exit 2; }
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

case $cmd in
  start)
    port=${3:?pg.sh start: PORT missing}; host=${4:-127.0.0.1}
    if [[ $(id -u) -eq 0 ]]; then
      chown postgres: "$dir"; chmod 700 "$dir"
      runuser -u postgres -- test -w "$dir" \
        || { echo "pg.sh: user postgres cannot reach $dir (a parent folder is not searchable); use a folder under /tmp" >&2; exit 1; }
    fi
    if [[ ! -f $dir/data/PG_VERSION ]]; then
      as_owner "$PGBIN/initdb" -D "$dir/data" -U postgres --auth=trust --no-sync -E UTF8 --locale=C >"$dir/initdb.log" 2>&1 \
        || { echo "pg.sh: initdb failed, see $dir/initdb.log" >&2; tail -5 "$dir/initdb.log" >&2; exit 1; }
    fi
    # fsync off: test data, not durability; the socket lives in DIR so servers never share /run/postgresql.
    as_owner "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 start \
      -o "-c listen_addresses=$host -p $port -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
      >/dev/null || { echo "pg.sh: PostgreSQL did not start on $host:$port, see $dir/server.log" >&2; tail -5 "$dir/server.log" >&2; exit 1; }
    echo "postgres://postgres@$host:$port/postgres?sslmode=disable" | tee "$dir/dsn"
    ;;
  stop)
    [[ -f $dir/data/postmaster.pid ]] || exit 0
    as_owner "$PGBIN/pg_ctl" -D "$dir/data" -m fast -w -t 30 stop >/dev/null 2>&1 || true
    ;;
  dsn) cat "$dir/dsn" ;;
  *) echo "pg.sh: unknown command $cmd" >&2; exit 2 ;;
esac
