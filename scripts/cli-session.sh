#!/usr/bin/env bash
# Records the kubectl-bluegreen session shown in docs/cli.md, against the local control plane
# (test/controlplane/start.sh): an operator for namespace cli-demo, the release shop with manual
# promotion, a new image, a stale promote, a promote, a rollback to the warm color.
# Usage: scripts/cli-session.sh [build dir]   (prints the session; the operator log goes to build/cli-session/)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build/ci}
ns=cli-demo
out="$root/build/cli-session"
mkdir -p "$out"
# shellcheck disable=SC1091
source "${BGO_PLANE_DIR:-$root/build/plane}/env"
export PATH="$build/operator/cli:$PATH"   # kubectl finds kubectl-bluegreen on PATH

kubectl apply --server-side --force-conflicts -f "$root/crds/bluegreen.io_bluegreenreleases.yaml" >/dev/null
kubectl wait --for=condition=Established --timeout=60s crd/bluegreenreleases.bluegreen.io >/dev/null
kubectl delete namespace "$ns" --ignore-not-found --wait=true >/dev/null
kubectl create namespace "$ns" >/dev/null
"$build/operator/bluegreen-operator" --kubeconfig "$BGO_KUBECONFIG" --namespace "$ns" --leader-elect=false \
  --health-port 0 --metrics-port 0 --traffic-confirm-margin 2 >"$out/operator.log" 2>&1 &
op=$!
trap 'kill $op 2>/dev/null || true; wait $op 2>/dev/null || true' EXIT

sed -e 's/readyForSeconds: [0-9]*/auto: false\n    readyForSeconds: 3/' \
    -e 's/delaySeconds: [0-9]*/delaySeconds: 120/' "$root/manifests/samples/shop.yaml" >"$out/shop.yaml"
cd "$out"

run() {
  echo "\$ $*"
  local rc=0
  "$@" 2>&1 || rc=$?
  [[ $rc == 0 ]] || echo "(exit $rc)"
  echo
}
stage_is() { kubectl -n "$ns" wait bgr/shop --for=jsonpath='{.status.stage}'="$1" --timeout=90s >/dev/null; }

run kubectl bluegreen lint -f shop.yaml
run kubectl -n "$ns" apply -f shop.yaml
run kubectl bluegreen -n "$ns" status shop --timeout 2m
run kubectl bluegreen -n "$ns" list
old=$(kubectl -n "$ns" get bgr shop -o jsonpath='{.status.activeRevision}')
run kubectl bluegreen -n "$ns" set image shop shop=registry.example/shop:1.5
stage_is AwaitingPromotion
run kubectl bluegreen -n "$ns" get shop
run kubectl bluegreen -n "$ns" plan shop
run kubectl bluegreen -n "$ns" promote shop --revision "$old"
run kubectl bluegreen -n "$ns" promote shop
run kubectl bluegreen -n "$ns" status shop --timeout 1m
run kubectl bluegreen -n "$ns" get shop
run kubectl bluegreen -n "$ns" rollback shop
run kubectl bluegreen -n "$ns" status shop --timeout 1m
run kubectl bluegreen -n "$ns" set image shop shop=Registry.Example/Shop::2
run kubectl bluegreen -n "$ns" get shop
