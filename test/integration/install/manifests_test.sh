#!/usr/bin/env bash
# `kubectl apply -k manifests/` on the real control plane: everything is created, the operator pod is
# admitted under PodSecurity restricted and runs, its ServiceAccount token (TokenRequest) has exactly
# the operator's verbs and cannot read Secrets, and view/edit/admin aggregate the release roles.
# Removes what it installed afterwards, except the CRD (shared with every other test on the plane).
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
source "$here/lib.sh"
require_plane
repo=$install_repo
ns=bluegreen-system

rendered=$(mktemp)
trap 'rm -f "$rendered"' EXIT
k kustomize "$repo/manifests" >"$rendered" || die "kubectl kustomize manifests/ failed"

uninstall() {
  # Everything but the CRD; deleting it would delete every release on the plane.
  python3 - "$rendered" <<'EOF' | k delete --ignore-not-found --wait=true --timeout=120s -f - >/dev/null 2>&1
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d and d["kind"] != "CustomResourceDefinition"]
print(yaml.safe_dump_all(docs))
EOF
}
if k get namespace "$ns" >/dev/null 2>&1; then
  echo "note: $ns exists from an earlier run; removing it first"
  uninstall
fi

# Every object passes server-side validation (dry run), then the real apply.
if out=$(k apply -k "$repo/manifests" --server-side --field-manager=bgo-install-test --force-conflicts 2>&1); then
  pass "kubectl apply -k manifests/ ($(grep -c serverside-applied <<<"$out") objects)"
else
  fail "kubectl apply -k manifests/ failed: $out"
  install_summary manifests; exit 1
fi
if ! grep -q 'Warning' <<<"$out"; then pass "no warnings (PodSecurity or deprecations)"; else fail "warnings: $(grep Warning <<<"$out")"; fi
if out=$(k get -k "$repo/manifests" -o name 2>&1); then
  want=$(grep -c '^kind:' "$rendered")
  got=$(wc -l <<<"$out")
  [[ "$got" == "$want" ]] && pass "all $want objects exist" || fail "$got of $want objects exist"
else
  fail "kubectl get -k: $out"
fi
k wait --for=condition=Established --timeout=60s crd/bluegreenreleases.bluegreen.io >/dev/null &&
  pass "CRD Established" || fail "CRD not Established"

check_psa_enforced "$ns"
check_rollout "$ns" bluegreen-operator
args=$(k get deploy -n "$ns" bluegreen-operator -o jsonpath='{.spec.template.spec.containers[0].args}')
[[ "$args" == '["--leader-elect=true","--health-port=8081","--metrics-port=8080","--log-format=json"]' ]] &&
  pass "operator args $args" || fail "operator args: $args"
check_operator_rbac "$ns" bluegreen-operator
check_aggregation

uninstall
if k get namespace "$ns" >/dev/null 2>&1; then fail "namespace $ns still present after uninstall"; else pass "uninstalled (CRD kept)"; fi
k get crd bluegreenreleases.bluegreen.io >/dev/null 2>&1 && pass "CRD still present" || fail "CRD was removed"
install_summary manifests
