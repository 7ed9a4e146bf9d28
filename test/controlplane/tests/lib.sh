# Helpers for the control-plane tests (bash, run by ctest). Every test talks to the plane named by
# BGO_KUBECONFIG and fails, never skips, when it is unset.
# shellcheck shell=bash
set -euo pipefail
tests_here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cp_dir=$(cd "$tests_here/.." && pwd)
. "$cp_dir/versions.sh"
test_name=$(basename "$0" .sh)

fail() { echo "FAIL [$test_name]: $*" >&2; exit 1; }
pass() { echo "PASS [$test_name]: $*"; }
info() { echo "[$test_name] $*"; }

if [[ -z ${BGO_KUBECONFIG:-} ]]; then
  fail "BGO_KUBECONFIG is not set: start the plane (test/controlplane/start.sh) and export it (. build/plane/env)"
fi
[[ -f $BGO_KUBECONFIG ]] || fail "BGO_KUBECONFIG=$BGO_KUBECONFIG does not exist"
KUBECTL=$(command -v kubectl || true)
[[ -n $KUBECTL ]] || KUBECTL=$("$cp_dir/build.sh" --bin-dir kube)/kubectl
[[ -x $KUBECTL ]] || fail "kubectl not found (run test/controlplane/build.sh)"
k() { "$KUBECTL" --kubeconfig "$BGO_KUBECONFIG" --request-timeout 20s "$@"; }

# eventually <seconds> <description> <command...>: polls until the command succeeds.
eventually() {
  local secs=$1 what=$2 end
  shift 2
  end=$(( $(date +%s) + secs ))
  until "$@" >/dev/null 2>&1; do
    (( $(date +%s) < end )) || fail "timed out after ${secs}s: $what"
    sleep 0.5
  done
}
# consistently <seconds> <description> <command...>: the command must keep succeeding for that long.
consistently() {
  local secs=$1 what=$2 end
  shift 2
  end=$(( $(date +%s) + secs ))
  while (( $(date +%s) < end )); do
    "$@" >/dev/null 2>&1 || fail "stopped holding before ${secs}s: $what"
    sleep 0.5
  done
}

# use_namespace: a fresh namespace for this test, deleted on exit.
use_namespace() {
  NS=cp-${test_name//_/-}-$(printf '%04x%04x' $RANDOM $RANDOM)
  k create namespace "$NS" >/dev/null
  trap 'k delete namespace "$NS" --wait=false >/dev/null 2>&1 || true' EXIT
  info "namespace $NS"
}

# deployment <name> <replicas> [annotation-json]: a Deployment whose pod template carries the annotations.
deployment() {
  local ann=${3:-"{}"}
  k apply -n "$NS" -f - >/dev/null <<YAML
apiVersion: apps/v1
kind: Deployment
metadata: {name: $1, labels: {app: $1}}
spec:
  replicas: $2
  selector: {matchLabels: {app: $1}}
  template:
    metadata: {labels: {app: $1}, annotations: $ann}
    spec: {containers: [{name: app, image: registry.invalid/app:1, ports: [{containerPort: 8080}]}]}
YAML
}
jp() { k get -n "$NS" "$1" -o "jsonpath=$2"; } # jp <resource> <jsonpath>

# private_plane: start a second, private plane in a temporary state dir (its own ports), for tests that
# stop, kill and restart components without disturbing the shared plane other tests use. Purged on exit.
private_plane() {
  PLANE=$(mktemp -d "${TMPDIR:-/tmp}/bgo-plane-$test_name.XXXXXX")
  export BGO_PLANE_DIR=$PLANE
  trap '"$cp_dir/stop.sh" --purge >/dev/null 2>&1 || true' EXIT
  out=$("$cp_dir/start.sh" 2>&1) || fail "start.sh of the private plane failed: $out"
  info "private plane $PLANE up"
}
kp() { "$KUBECTL" --kubeconfig "$PLANE/admin.kubeconfig" --request-timeout 20s "$@"; }
