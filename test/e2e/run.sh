#!/usr/bin/env bash
# Real traffic through Traefik during blue-green releases (as root; ctest label e2e, and `make demo`).
#   test/e2e/run.sh [--scenario switch|rollback|failed|kill|database|database-kill|all] [--out DIR] [--operator PATH] [--runs N] [--rate R]
# Starts a private control plane (its own state dir and ports; the shared plane is never touched) whose
# nodesim runs the traffic pod hook, brings up the traffic parts (network namespace, backend, Traefik:
# test/controlplane/traffic/up.sh), runs the operator binary against it, then test/e2e/loadgen for each
# scenario. Leaves in DIR: <scenario>.svg (the picture), -requests.csv (every response), -events.txt,
# -summary.json, operator.log and the plane's logs; prints the switch timings (median and worst).
# The database scenario (not in `all`; ctest e2e.database) also starts a PostgreSQL (test/postgres/pg.sh)
# that every request queries and the release's hook Jobs migrate up and down (golang-migrate);
# database-kill is the same with the operator SIGKILLed while each hook Job runs (ctest e2e.database).
# Everything is torn down at the end, on failure too.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cp_dir=$root/test/controlplane
say() { echo "e2e: $*"; }
die() { echo "FAIL [e2e]: $*" >&2; exit 1; }

scenario=all out=$root/build/e2e-traffic operator=${BGO_OPERATOR_BIN:-} runs=1 rate=300
while (( $# )); do
  case $1 in
    --scenario) scenario=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --operator) operator=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --rate) rate=$2; shift 2 ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) die "unknown argument $1 (see --help)" ;;
  esac
done
case $scenario in
  all) scenarios=(switch rollback failed kill) ;;
  switch|rollback|failed|kill|database|database-kill) scenarios=("$scenario") ;;
  *) die "--scenario must be switch, rollback, failed, kill, database, database-kill or all" ;;
esac
[[ $runs =~ ^[1-9][0-9]?$ ]] || die "--runs must be 1..99"
if [[ -z $operator ]]; then
  for b in "$root"/build/{ci,dev,release}/operator/bluegreen-operator; do [[ -x $b ]] && { operator=$b; break; }; done
fi
[[ -n $operator && -x $operator ]] || die "operator binary not found (--operator PATH or BGO_OPERATOR_BIN; build it with cmake first)"
(( EUID == 0 )) || die "needs root: it creates a network namespace, a veth pair and a route for 198.18.0.0/15"
command -v ip >/dev/null || die "ip (iproute2) is required"
mkdir -p "$out"
out=$(cd "$out" && pwd)
t0=$(date +%s)

"$cp_dir/build.sh" kube etcd nodesim traefik backend loadgen migrate | grep -v ' cached in ' || true
kubectl=$("$cp_dir/build.sh" --bin-dir kube)/kubectl

# --- a private plane whose nodesim runs the traffic pod hook ------------------------------------------------
PLANE=$(mktemp -d "${TMPDIR:-/tmp}/bgo-plane-e2e.XXXXXX")
export BGO_PLANE_DIR=$PLANE
# Under `make test` the shared plane's kubeconfig is in the environment: this run is about the private one.
export KUBECONFIG=$PLANE/admin.kubeconfig BGO_KUBECONFIG=$PLANE/admin.kubeconfig
# A private copy: a concurrent build.sh of newer sources replaces the cached one (and deletes the old).
mkdir -p "$PLANE/bin"
cp "$("$cp_dir/build.sh" --bin-dir loadgen)/loadgen" "$PLANE/bin/loadgen"
loadgen=$PLANE/bin/loadgen
op_pid="" sup_pid="" pg_dir=""
stop_supervisor() { # the kill scenario's restart loop, then the operator it runs
  [[ -n $sup_pid ]] || return 0
  kill -TERM "$sup_pid" 2>/dev/null; wait "$sup_pid" 2>/dev/null
  kill -TERM "$(cat "$PLANE/operator.pid" 2>/dev/null)" 2>/dev/null
  sup_pid=""
}
cleanup() {
  local rc=$?
  set +e
  stop_supervisor
  if [[ -n $op_pid ]]; then kill -TERM "$op_pid" 2>/dev/null; wait "$op_pid" 2>/dev/null; fi
  "$cp_dir/traffic/down.sh" >/dev/null 2>&1 || echo "e2e: WARNING: traffic/down.sh failed" >&2
  if [[ -n $pg_dir ]]; then
    cp "$pg_dir/server.log" "$out/postgres.log" 2>/dev/null
    "$root/test/postgres/pg.sh" stop "$pg_dir/db" >/dev/null 2>&1; rm -rf "$pg_dir"
  fi
  if [[ -d $PLANE/logs ]]; then rm -rf "$out/logs"; cp -r "$PLANE/logs" "$out/logs"; fi
  "$cp_dir/stop.sh" --purge >/dev/null 2>&1 || echo "e2e: WARNING: stop.sh --purge failed for $PLANE" >&2
  # Nothing of ours may be left behind.
  ip netns list 2>/dev/null | grep -q '^bgo-e2e\b' && echo "e2e: WARNING: network namespace bgo-e2e left behind" >&2
  (( rc == 0 )) && say "passed in $(( $(date +%s) - t0 ))s; pictures in $out" || echo "FAIL [e2e]: see above; logs in $out" >&2
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM
BGO_SIM_NODES=2 BGO_SIM_POD_HOOK=$cp_dir/traffic/pod-hook.sh "$cp_dir/start.sh" | tail -1
"$cp_dir/traffic/up.sh"
# shellcheck disable=SC1091
. "$PLANE/traffic.env"
export BGO_KUBECONFIG=$PLANE/admin.kubeconfig
k() { "$kubectl" --kubeconfig "$BGO_KUBECONFIG" --request-timeout 20s "$@"; }

k apply --server-side --force-conflicts -f "$root/crds/bluegreen.io_bluegreenreleases.yaml" >/dev/null
k wait --for=condition=Established --timeout=60s crd/bluegreenreleases.bluegreen.io >/dev/null
ns=e2e
k create namespace "$ns" >/dev/null

# --- the operator, as it runs in a cluster: one process, its own namespace ------------------------------------
op_args=(--kubeconfig "$BGO_KUBECONFIG" --namespace "$ns" --leader-elect=false --health-port 0 --metrics-port 0)
if "$operator" --help 2>&1 | grep -q -- --traefik-api-url; then
  op_args+=(--traefik-api-url "$BGO_TRAEFIK_API")
  confirm="Traefik's API ($BGO_TRAEFIK_API)"
else
  confirm="a safety margin (this operator has no --traefik-api-url)"
fi
start_operator() {
  "$operator" "${op_args[@]}" >>"$out/operator.log" 2>&1 &
  op_pid=$!
}
: >"$out/operator.log"
start_operator
say "operator $operator (pid $op_pid), confirms switches through $confirm; log $out/operator.log"

db_args=()
if [[ " ${scenarios[*]} " == *" database"* ]]; then
  # The backends (root network namespace) and the hook Jobs (nodesim runs them on the host) reach it on loopback.
  pg_dir=$(mktemp -d "${TMPDIR:-/tmp}/bgo-e2e-pg.XXXXXX")
  chmod 755 "$pg_dir"  # the server runs as user postgres
  pg_port=21000
  while ss -Htln "sport = :$pg_port" | grep -q .; do pg_port=$((pg_port + 1)); done
  db_url=$("$root/test/postgres/pg.sh" start "$pg_dir/db" "$pg_port") || die "PostgreSQL did not start"
  db_args=(--database-url "$db_url" --migrate "$("$cp_dir/build.sh" --bin-dir migrate)/migrate")
  say "PostgreSQL $db_url"
fi

rc=0
for (( run = 1; run <= runs; run++ )); do
  dir=$out
  (( runs == 1 )) || dir=$out/run-$run
  for s in "${scenarios[@]}"; do
    kill -0 "$op_pid" 2>/dev/null || { tail -20 "$out/operator.log" >&2; die "the operator exited"; }
    say "run $run/$runs, scenario $s"
    extra=()
    if [[ $s == kill || $s == database-kill ]]; then
      # The loadgen SIGKILLs the operator in each stage; this loop restarts it at once, as a kubelet would.
      kill -TERM "$op_pid"; wait "$op_pid" 2>/dev/null || true
      ( trap 'exit 0' TERM
        while :; do
          "$operator" "${op_args[@]}" >>"$out/operator.log" 2>&1 &
          echo $! >"$PLANE/operator.pid"
          wait $! || true
          echo "e2e: operator (pid $(cat "$PLANE/operator.pid")) ended; restarting" >>"$out/operator.log"
          sleep 0.2
        done ) &
      sup_pid=$!
      extra=(--operator-pid-file "$PLANE/operator.pid")
    fi
    [[ $s == database* ]] && extra+=("${db_args[@]}")
    if ! "$loadgen" run --scenario "${s%-kill}" --namespace "$ns" --out "$dir" --rate "$rate" \
         --traefik-web "$BGO_TRAEFIK_WEB" --traefik-api "$BGO_TRAEFIK_API" "${extra[@]}"; then
      rc=1
      echo "FAIL [e2e]: scenario $s (run $run): see $dir/$s.svg and $dir/$s-events.txt" >&2
    fi
    if [[ $s == kill || $s == database-kill ]]; then
      stop_supervisor
      echo "e2e: $(grep -c 'ended; restarting' "$out/operator.log") operator restarts in the kill scenario" >&2
      start_operator
    fi
  done
done
"$loadgen" report "$out"
exit $rc
