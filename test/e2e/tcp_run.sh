#!/usr/bin/env bash
# The database route under real load (as root): Traefik's `postgres` TCP entry point on loopback, two real
# PostgreSQL servers (test/postgres/pg.sh) inside the traffic namespace behind the colors' database
# Services, and test/e2e/dbload (new connections at --rate per second plus --long long-lived ones) through
# the entry point while the operator switches blue -> green and rolls back while blue is warm.
#   test/e2e/tcp_run.sh [--out DIR] [--operator PATH] [--rate R] [--long N] [--phase SECONDS]
# Leaves in DIR: tcp-load.csv (every attempt: start, client, server port, error), tcp-load.txt (per second,
# which server answered new connections; every failure; what each long-lived connection saw),
# tcp-route.svg (the picture: per second, which database answered new connections and the long-lived
# connections' queries, every failure in red, the route's moves), tcp-seconds.csv (the same numbers),
# tcp-summary.json (totals, every failure, the cut-over around each move), tcp-events.txt,
# tcp-timeline.txt, operator.log and the plane's logs. Fails on any failed connect or query,
# or on a new connection answered by the old database later than the move + --throttle-ms.
# Blue's database listens on port 5433, green's on 5434 (current_setting('port') names the one that answered).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cp_dir=$root/test/controlplane
say() { echo "tcp-e2e: $*"; }
die() { echo "FAIL [tcp-e2e]: $*" >&2; exit 1; }

out=$root/build/e2e-tcp operator=${BGO_OPERATOR_BIN:-} rate=100 long=4 phase=25 throttle_ms=3000
while (( $# )); do
  case $1 in
    --out) out=$2; shift 2 ;;
    --operator) operator=$2; shift 2 ;;
    --rate) rate=$2; shift 2 ;;
    --long) long=$2; shift 2 ;;
    --phase) phase=$2; shift 2 ;;
    --throttle-ms) throttle_ms=$2; shift 2 ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) die "unknown argument $1 (see --help)" ;;
  esac
done
if [[ -z $operator ]]; then
  for b in "$root"/build/{ci,dev,release}/operator/bluegreen-operator; do [[ -x $b ]] && { operator=$b; break; }; done
fi
[[ -n $operator && -x $operator ]] || die "operator binary not found (--operator PATH or BGO_OPERATOR_BIN)"
(( EUID == 0 )) || die "needs root: network namespace, veth pair, route, PostgreSQL as user postgres"
command -v go >/dev/null || PATH=$PATH:/usr/local/go/bin
for tool in ip go jq curl; do command -v $tool >/dev/null || die "$tool is required"; done
mkdir -p "$out"
out=$(cd "$out" && pwd)

"$cp_dir/build.sh" kube etcd nodesim traefik backend | grep -v ' cached in ' || true
kubectl=$("$cp_dir/build.sh" --bin-dir kube)/kubectl

PLANE=$(mktemp -d "${TMPDIR:-/tmp}/bgo-plane-tcp.XXXXXX")
export BGO_PLANE_DIR=$PLANE KUBECONFIG=$PLANE/admin.kubeconfig BGO_KUBECONFIG=$PLANE/admin.kubeconfig
mkdir -p "$PLANE/bin"
(cd "$here/dbload" && go build -o "$PLANE/bin/dbload" .) || die "cannot build test/e2e/dbload"
# PostgreSQL runs as user postgres: its folders must be reachable by it (the plane's folder is 0700).
PG=$(mktemp -d /tmp/bgo-tcp-pg.XXXXXX)
chmod 755 "$PG"
DB_IP=198.19.255.1 # in the traffic namespace's range, far from the pod addresses nodesim hands out
op_pid="" load_pid=""
cleanup() {
  local rc=$?
  set +e
  [[ -n $load_pid ]] && kill -INT "$load_pid" 2>/dev/null && wait "$load_pid" 2>/dev/null
  [[ -n $op_pid ]] && kill -TERM "$op_pid" 2>/dev/null && wait "$op_pid" 2>/dev/null
  for c in blue green; do "$root/test/postgres/pg.sh" stop "$PG/$c" >/dev/null 2>&1; done
  "$cp_dir/traffic/down.sh" >/dev/null 2>&1 || echo "tcp-e2e: WARNING: traffic/down.sh failed" >&2
  if [[ -d $PLANE/logs ]]; then rm -rf "$out/logs"; cp -r "$PLANE/logs" "$out/logs"; fi
  "$cp_dir/stop.sh" --purge >/dev/null 2>&1 || echo "tcp-e2e: WARNING: stop.sh --purge failed for $PLANE" >&2
  rm -rf "$PG"
  (( rc == 0 )) && say "passed; results in $out" || echo "FAIL [tcp-e2e]: see above; results in $out" >&2
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM
BGO_SIM_NODES=2 BGO_SIM_POD_HOOK=$cp_dir/traffic/pod-hook.sh "$cp_dir/start.sh" | tail -1
"$cp_dir/traffic/up.sh"
# shellcheck disable=SC1091
. "$PLANE/traffic.env"
[[ -n ${BGO_TRAEFIK_POSTGRES:-} ]] || die "traffic/up.sh wrote no BGO_TRAEFIK_POSTGRES (Traefik without the postgres entry point)"
k() { "$kubectl" --kubeconfig "$BGO_KUBECONFIG" --request-timeout 20s "$@"; }

# --- two databases inside the traffic namespace ---------------------------------------------------------------
ip -n "$BGO_TRAFFIC_NETNS" addr add "$DB_IP/32" dev lo
ip netns exec "$BGO_TRAFFIC_NETNS" "$root/test/postgres/pg.sh" start "$PG/blue" 5433 "$DB_IP" >/dev/null
ip netns exec "$BGO_TRAFFIC_NETNS" "$root/test/postgres/pg.sh" start "$PG/green" 5434 "$DB_IP" >/dev/null
# Traefik connects from the host side of the veth pair, not from loopback: trust the traffic range too.
pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
for c in blue green; do
  echo "host all all 198.18.0.0/15 trust" >>"$PG/$c/data/pg_hba.conf"
  runuser -u postgres -- "$pgbin/pg_ctl" -D "$PG/$c/data" reload >/dev/null
done
say "PostgreSQL blue on $DB_IP:5433, green on $DB_IP:5434 (namespace $BGO_TRAFFIC_NETNS)"

k apply --server-side --force-conflicts -f "$root/crds/bluegreen.io_bluegreenreleases.yaml" >/dev/null
k wait --for=condition=Established --timeout=60s crd/bluegreenreleases.bluegreen.io >/dev/null
ns=e2e-db
k create namespace "$ns" >/dev/null
for c in blue green; do
  port=5433; [[ $c == green ]] && port=5434
  cat <<YAML
apiVersion: v1
kind: Service
metadata: {name: shop-db-$c, namespace: $ns}
spec: {ports: [{name: pg, port: 5432, protocol: TCP}]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: shop-db-$c-manual
  namespace: $ns
  labels: {kubernetes.io/service-name: shop-db-$c, endpointslice.kubernetes.io/managed-by: bgo-tests}
addressType: IPv4
ports: [{name: pg, port: $port, protocol: TCP}]
endpoints: [{addresses: [$DB_IP], conditions: {ready: true}}]
---
YAML
done | k apply -f - >/dev/null

op_args=(--kubeconfig "$BGO_KUBECONFIG" --namespace "$ns" --leader-elect=false --health-port 0 --metrics-port 0
         --traefik-api-url "$BGO_TRAEFIK_API")
"$operator" "${op_args[@]}" >"$out/operator.log" 2>&1 &
op_pid=$!

release() { # image tag
  cat <<YAML
apiVersion: bluegreen.io/v1alpha1
kind: BlueGreenRelease
metadata: {name: shop, namespace: $ns}
spec:
  replicas: 2
  template:
    spec:
      containers:
        - name: app
          image: registry.example/shop:$1
          ports: [{name: http, containerPort: 8080}]
          readinessProbe: {httpGet: {path: /readyz, port: http}}
  service: {port: 80, targetPort: http}
  routing:
    host: db.shop.example
    tcp:
      entryPoints: [postgres]
      blue: {service: shop-db-blue, port: 5432}
      green: {service: shop-db-green, port: 5432}
  promotion: {readyForSeconds: 2, progressDeadlineSeconds: 120}
  scaleDown: {delaySeconds: $((phase * 2))}
YAML
}
now_ms() { date +%s%3N; }
tcp_color() { k get bgr shop -n "$ns" -o json | jq -r '.status.tcpRoute.color // ""'; }
# The servers Traefik's TCP services list (this private Traefik has only the one route): "" before it has one.
traefik_server() {
  curl -sf --max-time 2 "$BGO_TRAEFIK_API/api/tcp/services" |
    jq -r '[.[] | .loadBalancer.servers[]?.address] | join(",")'
}
wait_until() { # seconds description command...
  local secs=$1 what=$2; shift 2
  for _ in $(seq $((secs * 20))); do "$@" && return 0; sleep 0.05; done
  die "$what: not within ${secs}s; release status: $(k get bgr shop -n "$ns" -o json | jq -c '.status | {stage, message, tcpRoute}')"
}
is_color() { [[ $(tcp_color) == "$1" ]]; }
traefik_on() { [[ $(traefik_server) == "$DB_IP:$1" ]]; }

timeline=$out/tcp-timeline.txt
: >"$timeline"
mark() { echo "$(now_ms) $*" | tee -a "$timeline"; }
# The operator's own time of the move (status.tcpRoute.lastMoveTime, written with the route), not when we saw it.
moved() {
  local ts
  ts=$(k get bgr shop -n "$ns" -o jsonpath='{.status.tcpRoute.lastMoveTime}')
  [[ -n $ts ]] || die "status.tcpRoute.lastMoveTime is empty"
  echo "$(date -d "$ts" +%s%3N) $1 $ts" | tee -a "$timeline"
}

release 1.0 | k apply -f - >/dev/null
wait_until 120 "blue Stable with its database route" is_color blue
wait_until 30 "Traefik serving the database route on blue" traefik_on 5433
mark "traefik-on-blue"

# dbload reads the timeline when it stops (after the rollback), for the route's moves in its picture.
"$PLANE/bin/dbload" --addr "$BGO_TRAEFIK_POSTGRES" --rate "$rate" --long "$long" --out "$out/tcp-load.csv" \
  --timeline "$timeline" --svg "$out/tcp-route.svg" --seconds "$out/tcp-seconds.csv" --summary "$out/tcp-summary.json" \
  >"$out/tcp-load.txt" 2>&1 &
load_pid=$!
sleep "$phase"

mark "switch-requested"
release 1.1 | k apply -f - >/dev/null
wait_until 120 "database route on green" is_color green
moved "operator-moved-to-green"
wait_until 30 "Traefik serving green's database" traefik_on 5434
mark "traefik-on-green"
sleep "$phase"

mark "rollback-requested"
release 1.0 | k apply -f - >/dev/null
wait_until 30 "database route back on blue" is_color blue
moved "operator-moved-to-blue"
wait_until 30 "Traefik serving blue's database again" traefik_on 5433
mark "traefik-on-blue-again"
sleep "$phase"

kill -INT "$load_pid"; wait "$load_pid" || die "dbload failed: $(tail -5 "$out/tcp-load.txt")"
load_pid=""
k get events -n "$ns" --sort-by=.lastTimestamp -o custom-columns=TIME:.lastTimestamp,REASON:.reason,MESSAGE:.message \
  >"$out/tcp-events.txt"

# --- checks ---------------------------------------------------------------------------------------------------
cat "$timeline"
tail -n "$((long + 1))" "$out/tcp-load.txt"
failed=$(grep -c '^FAILED ' "$out/tcp-load.txt" || true)
t() { awk -v k="$1" '$2 == k {print $1}' "$timeline"; }
# New connections started after a move + throttle that the old database answered.
late() { # from-ms to-ms old-port
  awk -F, -v a="$1" -v b="$2" -v p="$3" 'NR > 1 && $2 == "new" && $1 >= a && $1 < b && $3 == p' "$out/tcp-load.csv" | wc -l
}
count() { awk -F, -v a="$1" -v b="$2" 'NR > 1 && $2 == "new" && $1 >= a && $1 < b && $3 != ""' "$out/tcp-load.csv" | wc -l; }
moved_green=$(t operator-moved-to-green) moved_blue=$(t operator-moved-to-blue)
# The deadline: the move + Traefik's throttle, or, when Traefik applied the move later than that (a loaded
# machine: 3.5 s was seen), the moment its API listed the new server + 500 ms (the 50 ms poll, a connect).
deadline() { local a=$(($1 + throttle_ms)) b=$(($2 + 500)); echo $((a > b ? a : b)); }
late_switch=$(late "$(deadline "$moved_green" "$(t traefik-on-green)")" "$(t rollback-requested)" 5433)
late_rollback=$(late "$(deadline "$moved_blue" "$(t traefik-on-blue-again)")" "$(now_ms)" 5434)
n_switch=$(count "$(t switch-requested)" "$(t rollback-requested)")
n_rollback=$(count "$(t rollback-requested)" "$(now_ms)")
say "switch: $n_switch new connections answered, $late_switch answered by blue after the deadline (the move + ${throttle_ms} ms, or Traefik listing green + 500 ms if later)"
say "rollback: $n_rollback new connections answered, $late_rollback answered by green after the deadline (the move + ${throttle_ms} ms, or Traefik listing blue + 500 ms if later)"
say "picture: $out/tcp-route.svg (per second: $out/tcp-seconds.csv)"
say "Traefik took $(( $(t traefik-on-green) - moved_green )) ms (switch) and $(( $(t traefik-on-blue-again) - moved_blue )) ms (rollback) from the operator's move to listing the new server (polled every 50 ms)"
(( failed == 0 )) || die "$failed failed connects or queries (tcp-load.txt lists them)"
(( late_switch == 0 && late_rollback == 0 )) || die "new connections reached the old database after the deadline (the move + ${throttle_ms} ms, or Traefik's listing + 500 ms)"
(( n_switch >= 2000 && n_rollback >= 2000 )) || die "fewer than 2,000 new connections in a phase ($n_switch, $n_rollback): raise --rate or --phase"
