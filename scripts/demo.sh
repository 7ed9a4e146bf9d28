#!/usr/bin/env bash
# `make demo`: a real blue -> green release on the local control plane.
#   1. start the control plane (etcd, kube-apiserver, controller-manager, node simulator)
#   2. install the CRDs (ours and Traefik's) and run the operator against it
#   3. apply manifests/samples/shop.yaml, wait until blue serves it
#   4. ship a new image, print the release's status as it moves to green
#   5. real traffic through Traefik during a switch, a rollback and a failed release, drawn as SVG
#      pictures in build/demo/traffic/ (test/e2e/run.sh; needs root for a network namespace); the same with
#      PostgreSQL clients on the database route, drawn in build/demo/tcp/tcp-route.svg (test/e2e/tcp_run.sh)
# The plane is left running for exploration (`make plane-down` stops it).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build/ci}
plane="$root/test/controlplane"
ns=${BGO_DEMO_NAMESPACE:-demo}
out="$root/build/demo"
mkdir -p "$out"

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
t0=$(date +%s)

say "control plane"
"$plane/status.sh" >/dev/null 2>&1 || "$plane/start.sh"
# shellcheck disable=SC1091
source "${BGO_PLANE_DIR:-$root/build/plane}/env"
kubectl version 2>/dev/null | sed 's/^/  /'

say "CRDs"
kubectl apply --server-side --force-conflicts -f "$root/crds/bluegreen.io_bluegreenreleases.yaml" | sed 's/^/  /'
kubectl wait --for=condition=Established --timeout=60s crd/bluegreenreleases.bluegreen.io | sed 's/^/  /'

say "operator"
kubectl delete namespace "$ns" --ignore-not-found --wait=true >/dev/null
kubectl create namespace "$ns" >/dev/null
"$build/operator/bluegreen-operator" --kubeconfig "$BGO_KUBECONFIG" --namespace "$ns" \
  --leader-elect=false --health-port 0 --metrics-port 0 >"$out/operator.log" 2>&1 &
op=$!
trap 'kill $op 2>/dev/null || true; wait $op 2>/dev/null || true' EXIT
echo "  pid $op, log $out/operator.log"

jp='{.status.activeColor}|{.status.activeRevision}|{.status.previewRevision}|{.status.stage}|{.status.conditions[?(@.type=="Ready")].status}|{.status.colors.blue.readyReplicas}/{.status.colors.blue.replicas}|{.status.colors.green.readyReplicas}/{.status.colors.green.replicas}'
row() { printf '  %6s  %-7s %-11s %-11s %-18s %-6s %-6s %-6s %s\n' "$@"; }
header() { row time ACTIVE REVISION PREVIEW STAGE READY BLUE GREEN MAIN-ROUTE; }
# Prints the release line whenever it changes, until `stage` is reached (or timeout).
watch_until() {
  local want=$1 timeout=$2 last="" line route deadline
  deadline=$(( $(date +%s) + timeout ))
  while (( $(date +%s) < deadline )); do
    line=$(kubectl -n "$ns" get bgr shop -o jsonpath="$jp" 2>/dev/null || true)
    route=$(kubectl -n "$ns" get ingressroute shop -o jsonpath='{.spec.routes[0].services[0].name}' 2>/dev/null || true)
    if [[ "$line|$route" != "$last" ]]; then
      local f; IFS='|' read -r -a f <<<"$line"
      row "$(( $(date +%s) - t0 ))s" "${f[0]:--}" "${f[1]:--}" "${f[2]:--}" "${f[3]:--}" "${f[4]:--}" "${f[5]:--}" "${f[6]:--}" "${route:-none}"
      last="$line|$route"
    fi
    if [[ $(kubectl -n "$ns" get bgr shop -o jsonpath='{.status.stage}' 2>/dev/null) == "$want" ]] &&
       [[ $(kubectl -n "$ns" get bgr shop -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}') == True ]]; then
      return 0
    fi
    sleep 0.5
  done
  echo "demo: release did not reach $want within ${timeout}s; operator log:" >&2
  tail -30 "$out/operator.log" >&2
  return 1
}

say "release shop:1.4 (manifests/samples/shop.yaml)"
kubectl -n "$ns" apply -f "$root/manifests/samples/shop.yaml" | sed 's/^/  /'
header
watch_until Stable 120

say "new image shop:1.5: green gets it, traffic moves when green is promotable"
header
kubectl -n "$ns" patch bgr shop --type=json \
  -p '[{"op":"replace","path":"/spec/template/spec/containers/0/image","value":"registry.example/shop:1.5"}]' | sed 's/^/  /'
watch_until Stable 180

say "result"
kubectl -n "$ns" get bgr,deploy,svc,ingressroute | sed 's/^/  /'
echo
echo "  history:"
kubectl -n "$ns" get bgr shop -o jsonpath='{range .status.history[*]}    {.time}  {.from} -> {.to}  revision {.revision}  ({.reason}){"\n"}{end}'
echo
say "events"
kubectl -n "$ns" get events --field-selector involvedObject.kind=BlueGreenRelease \
  --sort-by=.metadata.creationTimestamp -o custom-columns=TYPE:.type,REASON:.reason,MESSAGE:.message | sed 's/^/  /'

kill "$op" 2>/dev/null || true
wait "$op" 2>/dev/null || true

if [[ ${BGO_DEMO_TRAFFIC:-1} == 1 ]]; then
  say "real traffic: 300 requests/s through Traefik during a switch, a rollback and a failed release"
  echo "  (a private plane with real backends in a network namespace; BGO_DEMO_TRAFFIC=0 skips this part)"
  as_root=()
  (( EUID == 0 )) || as_root=(sudo)
  if "${as_root[@]}" "$root/test/e2e/run.sh" --scenario all --out "$out/traffic" --operator "$build/operator/bluegreen-operator" \
      2>&1 | sed 's/^/  /'; then
    echo "  pictures: $(ls "$out"/traffic/*.svg 2>/dev/null | tr '\n' ' ')"
  else
    echo "demo: the traffic run failed; its logs are in $out/traffic" >&2
    exit 1
  fi
fi

if [[ ${BGO_DEMO_TRAFFIC:-1} == 1 ]]; then
  say "a database-aware release: 300 requests/s, each one writing to PostgreSQL"
  echo "  version 1.1 needs a new column: its preSwitch hook Job migrates up (golang-migrate) before the switch;"
  echo "  the rollback to 1.0 switches traffic back at once, then 1.1's onRollback hook migrates down"
  if "${as_root[@]}" "$root/test/e2e/run.sh" --scenario database --out "$out/database" \
      --operator "$build/operator/bluegreen-operator" 2>&1 | sed 's/^/  /'; then
    echo "  the steps and the schema version the database reported after each:"
    grep -E 'template ->|schema version' "$out/database/database-events.txt" | sed 's/^/    /'
    echo "  picture: $out/database/database.svg"
  else
    echo "demo: the database run failed; its logs are in $out/database" >&2
    exit 1
  fi
fi

if [[ ${BGO_DEMO_TRAFFIC:-1} == 1 ]]; then
  say "the database route: PostgreSQL clients through Traefik's TCP entry point while the release switches and rolls back"
  echo "  (two real PostgreSQL servers, blue's on port 5433 and green's on 5434; 100 new connections/s plus 4 long-lived)"
  if "${as_root[@]}" "$root/test/e2e/tcp_run.sh" --out "$out/tcp" \
      --operator "$build/operator/bluegreen-operator" 2>&1 | sed 's/^/  /'; then
    echo "  per second, which database answered new connections (and every failure):"
    sed 's/^/    /' "$out/tcp/tcp-load.txt"
    echo "  HTTP pictures: $(ls "$out"/traffic/*.svg "$out"/database/*.svg 2>/dev/null | tr '\n' ' ')"
    echo "  database-route picture: $out/tcp/tcp-route.svg"
  else
    echo "demo: the database-route run failed; its logs are in $out/tcp" >&2
    exit 1
  fi
fi

say "done in $(( $(date +%s) - t0 ))s"
cat <<EOM
  The control plane is still running. To explore:
    source ${BGO_PLANE_DIR:-$root/build/plane}/env && kubectl -n $ns get bgr -o yaml
  To stop it: make plane-down
EOM
