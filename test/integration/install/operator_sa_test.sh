#!/usr/bin/env bash
# The operator as users run it: installed by the Helm chart, running with the chart's ServiceAccount token
# (TokenRequest) through in-cluster configuration, as uid/gid 65532, on a read-only root filesystem that
# holds exactly what the image holds (deploy/collect-rootfs.sh), with a tmpfs /tmp. It must complete a
# blue -> green release and then fail a release whose pods never become ready, with zero Forbidden
# errors, while kstatus (read on the live object) moves InProgress -> Current -> Failed.
# Needs root (mount namespace + chroot), helm, go and the operator binary:
#   BGO_OPERATOR_BIN=build/<dir>/operator/bluegreen-operator (default: the newest one under build/).
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
source "$here/lib.sh"
require_plane
repo=$install_repo
HELM=${HELM:-helm}
command -v "$HELM" >/dev/null || die "helm not found (source build/plane/env after test/controlplane/build.sh)"
GO=${GO:-$(command -v go || echo /usr/local/go/bin/go)}
[[ -x "$GO" ]] || die "go not found"
[[ $(id -u) == 0 ]] || die "needs root for the mount namespace and chroot that emulate the pod"
bin=${BGO_OPERATOR_BIN:-}
if [[ -z "$bin" ]]; then
  bin=$(ls -t "$repo"/build/*/operator/bluegreen-operator 2>/dev/null | head -n1)
fi
[[ -n "$bin" ]] || die "no operator binary under build/: build it (ninja -C build/<dir> bluegreen-operator) or set BGO_OPERATOR_BIN"
[[ -x "$bin" ]] || die "operator binary $bin does not exist: build the bluegreen-operator target first"
echo "operator binary: $bin"

ns=bgo-sa-system
app=bgo-sa-app
release=bluegreen-operator
tmp=$(mktemp -d)
rootfs=$tmp/rootfs
log=$tmp/operator.log
op_pid=""
sampler_pid=""
health_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
metrics_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

cleanup() {
  [[ -n "$sampler_pid" ]] && kill "$sampler_pid" 2>/dev/null
  if [[ -n "$op_pid" ]] && kill -0 "$op_pid" 2>/dev/null; then
    kill -TERM "$op_pid"; for _ in $(seq 1 50); do kill -0 "$op_pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$op_pid" 2>/dev/null
  fi
  k delete namespace "$app" --ignore-not-found --wait=true --timeout=120s >/dev/null 2>&1
  "$HELM" uninstall "$release" -n "$ns" --wait --timeout 120s >/dev/null 2>&1
  k delete namespace "$ns" --ignore-not-found --wait=false >/dev/null 2>&1
  if [[ -n "${BGO_KEEP_LOGS:-}" ]]; then echo "logs kept in $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
k delete namespace "$app" "$ns" --ignore-not-found --wait=true --timeout=120s >/dev/null 2>&1

(cd "$here/kstatuscheck" && "$GO" build -o "$tmp/kstatuscheck" .) || die "building kstatuscheck failed"

# --- install the chart (the operator itself runs outside the simulated nodes, below) ------------------
k create namespace "$ns" >/dev/null
if out=$("$HELM" install "$release" "$repo/helm/bluegreen-operator" -n "$ns" --set replicas=0 --set crds.install=false \
  --set rbac.aggregatedRoles=false --wait --timeout 120s 2>&1); then
  pass "helm install (replicas=0: the operator runs from the test's chroot instead)"
else
  fail "helm install: $out"; install_summary operator_sa; exit 1
fi

# --- the pod's filesystem and credentials --------------------------------------------------------------
"$repo/deploy/collect-rootfs.sh" "$bin" "$rootfs" --standalone || die "collect-rootfs failed"
sa_dir=$rootfs/var/run/secrets/kubernetes.io/serviceaccount
mkdir -p "$sa_dir"
k create token "$release" -n "$ns" --duration=1h >"$sa_dir/token" || die "TokenRequest failed"
k config view --raw --minify -o jsonpath='{.clusters[0].cluster.certificate-authority-data}' | base64 -d >"$sa_dir/ca.crt"
[[ -s "$sa_dir/ca.crt" ]] || cp "$(k config view --raw --minify -o jsonpath='{.clusters[0].cluster.certificate-authority}')" "$sa_dir/ca.crt"
printf '%s' "$ns" >"$sa_dir/namespace"
chmod 0644 "$sa_dir"/*
pass "TokenRequest token of $ns/$release mounted at /var/run/secrets/kubernetes.io/serviceaccount"
server=$(k config view --minify -o jsonpath='{.clusters[0].cluster.server}')
host=${server#https://}; port=${host##*:}; host=${host%:*}

# --namespace $app: the chart's ClusterRole is cluster-wide, but other suites run releases (and their own
# operators) on this plane at the same time; a second operator on their releases would race theirs.
# A private mount namespace: the rootfs bind-mounted read-only, a tmpfs /tmp (the chart's emptyDir),
# /dev and /proc; then chroot and drop to 65532:65532, like the kubelet with the chart's securityContext.
env -i PATH=/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin KUBERNETES_SERVICE_HOST="$host" KUBERNETES_SERVICE_PORT="$port" \
  POD_NAMESPACE="$ns" POD_NAME=bluegreen-operator-sa-test \
  unshare --mount --propagation private -- /bin/sh -c '
    set -e
    r=$1; shift
    mount --bind "$r" "$r"
    mount --rbind /dev "$r/dev"
    mount -t proc proc "$r/proc"
    mount -o remount,bind,ro "$r"
    mount -t tmpfs -o size=16m,mode=1777 tmpfs "$r/tmp"
    exec chroot --userspec=65532:65532 --groups=65532 "$r" "$@"
  ' sh "$rootfs" /usr/local/bin/bluegreen-operator \
    --leader-elect=true --health-port="$health_port" --metrics-port="$metrics_port" --log-format=json \
    --namespace="$app" \
    >"$log" 2>&1 &
op_pid=$!

ready=""
for _ in $(seq 1 150); do
  kill -0 "$op_pid" 2>/dev/null || break
  if curl -sf "http://127.0.0.1:$health_port/readyz" >/dev/null 2>&1; then ready=yes; break; fi
  sleep 0.2
done
if [[ -n "$ready" ]]; then pass "operator ready (/readyz on the health port) under the SA token"
else fail "operator not ready within 30s"; tail -20 "$log"; install_summary operator_sa; exit 1; fi
curl -sf "http://127.0.0.1:$health_port/healthz" >/dev/null && pass "/healthz answers" || fail "/healthz"
# The metrics listener is separate from the health one: give it the same chance to come up.
metrics_ok=""
for _ in $(seq 1 50); do
  if curl -sf "http://127.0.0.1:$metrics_port/metrics" | grep -q '^# TYPE'; then metrics_ok=yes; break; fi
  sleep 0.2
done
[[ -n "$metrics_ok" ]] && pass "/metrics serves Prometheus text" || fail "/metrics on :$metrics_port within 10 s"
# The process that runs the binary (after unshare, sh and chroot exec'd into it).
bin_pid=$(pgrep -f -- "--health-port=$health_port" | while read -r p; do
  [[ $(readlink "/proc/$p/exe") == */usr/local/bin/bluegreen-operator ]] && echo "$p"; done | head -n1)
[[ -n "$bin_pid" ]] || bin_pid=$op_pid
uids=$(awk '/^Uid:/ {print $2,$3,$4,$5} /^Gid:/ {print $2,$3,$4,$5}' "/proc/$bin_pid/status" | tr '\n' ' ')
[[ "$uids" == "65532 65532 65532 65532 65532 65532 65532 65532 " ]] && pass "runs as uid/gid 65532 (real, effective, saved, fs)" || fail "uid/gid: $uids"
rootopts=$(awk '$5 == "/" {print $6}' "/proc/$bin_pid/mountinfo")
[[ ",$rootopts," == *,ro,* ]] && pass "root filesystem is read-only ($rootopts)" || fail "root mount options: $rootopts"
holder=""
for _ in $(seq 1 80); do
  holder=$(k get leases.coordination.k8s.io bluegreen-operator -n "$ns" -o jsonpath='{.spec.holderIdentity}' 2>/dev/null)
  [[ -n "$holder" ]] && break
  sleep 0.25
done
[[ -n "$holder" ]] && pass "leader election holds Lease $ns/bluegreen-operator ($holder)" ||
  fail "no Lease bluegreen-operator in $ns (--leader-elect=true with POD_NAMESPACE=$ns)"
capeff=$(awk '/^CapEff:/ {print $2}' "/proc/$bin_pid/status")
[[ "$capeff" == 0000000000000000 ]] && pass "no effective capabilities" || fail "CapEff $capeff"

# --- a blue -> green release --------------------------------------------------------------------------
k create namespace "$app" >/dev/null
# Each color's database (spec.routing.tcp): Services without selector, their slices written here.
for c in blue green; do
  cat <<YAML
apiVersion: v1
kind: Service
metadata: {name: web-db-$c, namespace: $app}
spec: {ports: [{name: pg, port: 5432, protocol: TCP}]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: web-db-$c-manual
  namespace: $app
  labels: {kubernetes.io/service-name: web-db-$c, endpointslice.kubernetes.io/managed-by: bgo-tests}
addressType: IPv4
ports: [{name: pg, port: 5432, protocol: TCP}]
endpoints: [{addresses: [198.18.9.1], conditions: {ready: true}}]
---
YAML
done | k apply -f - >/dev/null || die "cannot create the database Services"
cat >"$tmp/web.yaml" <<YAML
apiVersion: bluegreen.io/v1alpha1
kind: BlueGreenRelease
metadata: {name: web, namespace: $app}
spec:
  replicas: 2
  template:
    spec:
      containers: [{name: web, image: "registry.example/web:1", ports: [{containerPort: 8080}]}]
  service: {port: 80, targetPort: 8080}
  routing:
    host: web.sa.example.com
    tcp:
      entryPoints: [postgres]
      blue: {service: web-db-blue, port: 5432}
      green: {service: web-db-green, port: 5432}
  promotion: {readyForSeconds: 1, progressDeadlineSeconds: 60}
  scaleDown: {delaySeconds: 2}
YAML
k apply -f "$tmp/web.yaml" >/dev/null || die "cannot create the release"
kstatus_now() { k get bgr web -n "$app" -o json 2>/dev/null | "$tmp/kstatuscheck" 2>/dev/null | awk '{print $2}'; }
# Sampled for the transient InProgress; the settled states are read when the test knows they hold.
( while true; do kstatus_now; sleep 0.3; done >"$tmp/kstatus.log" ) &
sampler_pid=$!

wait_bgr() { # seconds jq-condition description
  local i
  for i in $(seq 1 $(($1 * 4))); do
    if k get bgr web -n "$app" -o json 2>/dev/null | jq -e "$2" >/dev/null; then pass "$3"; return 0; fi
    sleep 0.25
  done
  fail "$3 (not within $1 s): $(k get bgr web -n "$app" -o json | jq -c '.status | {stage, activeColor, activeRevision, previewRevision, message}')"
  return 1
}
ready_true='(.status.conditions // []) | map(select(.type == "Ready" and .status == "True")) | length == 1'
wait_bgr 90 ".status.activeColor == \"blue\" and .status.stage == \"Stable\" and ($ready_true) and .status.observedGeneration == .metadata.generation" \
  "created: blue active, Stable, Ready=True"
st=$(kstatus_now); [[ "$st" == Current ]] && pass "kstatus Current when blue is Stable" || fail "kstatus when Stable: $st"
rev1=$(k get bgr web -n "$app" -o jsonpath='{.status.activeRevision}')
route=$(k get ingressroutes.traefik.io web -n "$app" -o json | jq -r '[.spec.routes[].services[].name] | join(",")')
[[ "$route" == web-blue ]] && pass "main route -> web-blue" || fail "main route services: $route"
route=$(k get ingressroutetcps.traefik.io web-tcp -n "$app" -o json | jq -r '[.spec.routes[].services[].name] | join(",")')
[[ "$route" == web-db-blue ]] && pass "database route -> web-db-blue" || fail "database route services: $route"

k patch bgr web -n "$app" --type=json -p '[{"op":"replace","path":"/spec/template/spec/containers/0/image","value":"registry.example/web:2"}]' >/dev/null
wait_bgr 120 ".status.activeColor == \"green\" and .status.activeRevision != \"$rev1\" and .status.stage == \"Stable\" and ($ready_true)" \
  "new image: green active, Stable, Ready=True"
route=$(k get ingressroutes.traefik.io web -n "$app" -o json | jq -r '[.spec.routes[].services[].name] | join(",")')
[[ "$route" == web-green ]] && pass "main route -> web-green" || fail "main route services: $route"
route=$(k get ingressroutetcps.traefik.io web-tcp -n "$app" -o json | jq -r '[.spec.routes[].services[].name] | join(",")')
[[ "$route" == web-db-green ]] && pass "database route -> web-db-green" || fail "database route services: $route"
st=$(kstatus_now); [[ "$st" == Current ]] && pass "kstatus Current when green is Stable" || fail "kstatus when Stable: $st"
blue=$(k get deploy web-blue -n "$app" -o jsonpath='{.spec.replicas}')
[[ "$blue" == 0 ]] && pass "blue scaled to standby (0) after the delay" || fail "blue replicas: $blue"

# --- a release that never becomes ready ---------------------------------------------------------------
k patch bgr web -n "$app" --type=merge -p '{"spec":{"promotion":{"progressDeadlineSeconds":5},"template":{"metadata":{"annotations":{"sim.bluegreen.io/ready":"false"}}}}}' >/dev/null
wait_bgr 60 '.status.stage == "Failed" and ((.status.conditions // []) | map(select(.type == "Stalled" and .status == "True")) | length == 1)' \
  "never-ready release: Failed, Stalled=True"
route=$(k get ingressroutes.traefik.io web -n "$app" -o json | jq -r '[.spec.routes[].services[].name] | join(",")')
[[ "$route" == web-green ]] && pass "main route untouched by the failed release" || fail "main route services: $route"
kill "$sampler_pid" 2>/dev/null; wait "$sampler_pid" 2>/dev/null; sampler_pid=""
st=$(kstatus_now); [[ "$st" == Failed ]] && pass "kstatus Failed for the failed release" || fail "kstatus at the end: $st"

# kstatus on the live object went through InProgress, Current and ends Failed.
seq=$(uniq "$tmp/kstatus.log" | tr '\n' ' ')
echo "kstatus samples: $seq"
grep -qx InProgress "$tmp/kstatus.log" && pass "kstatus InProgress during the release" || fail "kstatus never InProgress"

# --- no permission errors -----------------------------------------------------------------------------
kill -0 "$op_pid" 2>/dev/null && pass "operator still running" || fail "operator exited: $(tail -5 "$log")"
forbidden=$(grep -ci 'forbidden' "$log")
[[ "$forbidden" == 0 ]] && pass "zero Forbidden errors in $(wc -l <"$log") log lines" || { fail "$forbidden Forbidden errors"; grep -i forbidden "$log" | head -5; }
events=$(k get events -n "$app" -o json | jq '[.items[] | select(.message | test("forbidden"; "i"))] | length')
[[ "$events" == 0 ]] && pass "no Forbidden in the release's events" || fail "$events events mention Forbidden"
install_summary operator_sa
