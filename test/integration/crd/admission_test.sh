#!/usr/bin/env bash
# Admission table for the BlueGreenRelease CRD, against the real API server:
#   - the CRD applies (server-side) and becomes Established;
#   - every file in invalid/ is rejected, with the error fragment named on its first line (# expect: ...);
#   - every sample in manifests/samples/ and every file in valid/ is accepted;
#   - the schema defaults are filled in (dry-run -o json of valid/minimal.yaml);
#   - status is validated too (enum, required condition fields), and the printer columns and
#     `kubectl explain` descriptions are served.
# Needs BGO_KUBECONFIG (set by `source build/plane/env`); fails, never skips, without it.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../../.." && pwd)
crd="$repo/crds/bluegreen.io_bluegreenreleases.yaml"

if [[ -z "${BGO_KUBECONFIG:-}" ]]; then
  echo "FAIL: BGO_KUBECONFIG is not set. Start the control plane (test/controlplane/) and run" >&2
  echo "      'source build/plane/env' before running integration tests." >&2
  exit 1
fi
if [[ ! -r "$BGO_KUBECONFIG" ]]; then
  echo "FAIL: BGO_KUBECONFIG=$BGO_KUBECONFIG is not a readable file" >&2
  exit 1
fi
export KUBECONFIG="$BGO_KUBECONFIG"
KUBECTL=${KUBECTL:-kubectl}
command -v "$KUBECTL" >/dev/null || { echo "FAIL: kubectl not found (KUBECTL=$KUBECTL)" >&2; exit 1; }
command -v jq >/dev/null || { echo "FAIL: jq not found" >&2; exit 1; }
# A cache of its own: ~/.kube/cache can hold the discovery and OpenAPI of an earlier plane on the same
# address, and explain then describes that plane's CRD.
kcache=$(mktemp -d)
trap 'rm -rf "$kcache"' EXIT
k() { "$KUBECTL" --request-timeout=30s --cache-dir "$kcache" "$@"; }

failures=0
checks=0
pass() { checks=$((checks + 1)); echo "ok   $*"; }
fail() { checks=$((checks + 1)); failures=$((failures + 1)); echo "FAIL $*"; }

# --- the CRD itself ----------------------------------------------------------------------------------
if ! out=$(k apply --server-side --force-conflicts --field-manager=bgo-tests -f "$crd" 2>&1); then
  echo "FAIL: the API server rejected the CRD:"; echo "$out"; exit 1
fi
pass "CRD applied server-side"
if ! k wait --for=condition=Established --timeout=60s crd/bluegreenreleases.bluegreen.io >/dev/null; then
  echo "FAIL: CRD not Established within 60s"; k get crd bluegreenreleases.bluegreen.io -o yaml; exit 1
fi
pass "CRD Established"
# Discovery lags Established a little; wait until the resource is served.
for _ in $(seq 1 60); do
  k get bgr -n default >/dev/null 2>&1 && break
  sleep 0.5
done
k get bluegreenreleases.bluegreen.io -n default >/dev/null 2>&1 || { echo "FAIL: bgr not served"; exit 1; }

ns=default
dry() { k apply --dry-run=server --validate=strict -n "$ns" "$@"; }

# --- rejected manifests ------------------------------------------------------------------------------
ninvalid=0
for f in "$here"/invalid/*.yaml; do
  name=$(basename "$f")
  expect=$(head -n1 "$f" | sed -n 's/^# expect: //p')
  if [[ -z "$expect" ]]; then fail "$name: first line must be '# expect: <fragment>'"; continue; fi
  ninvalid=$((ninvalid + 1))
  if out=$(dry -f "$f" 2>&1); then
    fail "$name: accepted, expected rejection with: $expect"
  elif grep -qF -- "$expect" <<<"$out"; then
    pass "$name rejected: $expect"
  else
    fail "$name: rejected, but without the expected fragment"
    echo "     expected: $expect"
    echo "     got:      $out"
  fi
done
((ninvalid >= 12)) || fail "the table needs at least 12 invalid manifests, has $ninvalid"

# --- accepted manifests ------------------------------------------------------------------------------
for f in "$repo"/manifests/samples/*.yaml "$here"/valid/*.yaml; do
  rel=${f#"$repo"/}
  if out=$(dry -f "$f" 2>&1); then pass "$rel accepted"; else fail "$rel rejected: $out"; fi
done

# --- defaults ----------------------------------------------------------------------------------------
if json=$(dry -o json -f "$here/valid/minimal.yaml" 2>&1); then
  check_default() { # jq path, expected JSON value
    local got
    got=$(jq -c "$1" <<<"$json")
    if [[ "$got" == "$2" ]]; then pass "default $1 = $2"; else fail "default $1: want $2, got $got"; fi
  }
  check_default .spec.replicas 1
  check_default .spec.service.port 80
  check_default .spec.service.targetPort null
  check_default .spec.routing.entryPoints '["web"]'
  check_default .spec.promotion.auto true
  check_default .spec.promotion.readyForSeconds 10
  check_default .spec.promotion.progressDeadlineSeconds 600
  check_default .spec.scaleDown.delaySeconds 30
  check_default .spec.scaleDown.standbyReplicas 0
  check_default .spec.paused false
else
  fail "minimal.yaml dry-run failed: $json"
fi

# --- status validation, printer columns, explain ------------------------------------------------------
# A real object (paused, so an operator watching the namespace writes nothing but status).
obj=bgo-crd-admission-$$
cleanup() { k delete bgr -n "$ns" "$obj" --ignore-not-found --wait=false >/dev/null 2>&1; rm -rf "$kcache"; }
trap cleanup EXIT
if out=$(sed -e "s/name: minimal/name: $obj/" -e 's/^spec:/spec:\n  paused: true/' "$here/valid/minimal.yaml" |
  k apply -n "$ns" --server-side --field-manager=bgo-tests -f - 2>&1); then
  status_patch() { k patch bgr -n "$ns" "$obj" --subresource=status --type=merge --dry-run=server -p "$1" 2>&1; }
  if out=$(status_patch '{"status":{"stage":"Sleeping"}}'); then
    fail "status.stage=Sleeping accepted"
  elif grep -qF 'status.stage: Unsupported value: "Sleeping"' <<<"$out"; then
    pass "status.stage enum enforced"
  else fail "status.stage rejected with an unexpected message: $out"; fi
  if out=$(status_patch '{"status":{"conditions":[{"type":"Ready","status":"Maybe","reason":"X","message":"","lastTransitionTime":"2024-01-01T00:00:00Z"}]}}'); then
    fail "condition status Maybe accepted"
  elif grep -qF 'status.conditions[0].status: Unsupported value: "Maybe"' <<<"$out"; then
    pass "condition status enum enforced"
  else fail "condition status rejected with an unexpected message: $out"; fi
  if out=$(status_patch '{"status":{"conditions":[{"type":"Ready","status":"True"}]}}'); then
    fail "condition without reason accepted"
  elif grep -qF 'status.conditions[0].reason: Required value' <<<"$out"; then
    pass "condition required fields enforced"
  else fail "condition without reason rejected with an unexpected message: $out"; fi
  good='{"status":{"observedGeneration":1,"activeColor":"blue","activeRevision":"5d9c7f","stage":"Stable","replicas":1,"selector":"bluegreen.io/release=x,bluegreen.io/color=blue","colors":{"blue":{"revision":"5d9c7f","replicas":1,"readyReplicas":1,"availableReplicas":1,"image":"app:1","readyEndpoints":1}},"conditions":[{"type":"Ready","status":"True","reason":"Stable","message":"ok","lastTransitionTime":"2024-01-01T00:00:00Z","observedGeneration":1}]}}'
  if out=$(k patch bgr -n "$ns" "$obj" --subresource=status --type=merge -p "$good" 2>&1); then
    pass "a well-formed status is accepted"
    header=$(k get bgr -n "$ns" "$obj" 2>&1 | head -n1)
    if [[ "$(tr -s ' ' <<<"$header")" == "NAME ACTIVE REVISION PREVIEW STAGE READY AGE" ]]; then
      pass "printer columns: $header"
    else fail "printer columns: got '$header'"; fi
    row=$(k get bgr -n "$ns" "$obj" --no-headers 2>&1 | tr -s ' ')
    if [[ "$row" == "$obj blue 5d9c7f Stable True "* ]]; then pass "printer row: $row"; else fail "printer row: $row"; fi
    # The scale subresource: spec.replicas, and the live color's pods from status (what an HPA reads).
    scale=$(k get --raw "/apis/bluegreen.io/v1alpha1/namespaces/$ns/bluegreenreleases/$obj/scale" 2>&1)
    if [[ $(jq -c '[.kind, .spec.replicas, .status.replicas, .status.selector]' <<<"$scale" 2>/dev/null) == \
      '["Scale",1,1,"bluegreen.io/release=x,bluegreen.io/color=blue"]' ]]; then
      pass "scale subresource serves spec.replicas, status.replicas and status.selector"
    else fail "scale subresource: $scale"; fi
    if out=$(k scale bgr -n "$ns" "$obj" --replicas=4 --dry-run=server 2>&1); then
      pass "kubectl scale bgr accepted: $out"
    else fail "kubectl scale bgr: $out"; fi
  else
    fail "a well-formed status was rejected: $out"
  fi
  # The Argo CD health check's fixtures (test/unit/gitops/fixtures) must be objects this CRD accepts.
  for f in "$repo"/test/unit/gitops/fixtures/*.json; do
    fx=$(basename "$f")
    spec_obj=$(jq '.object | del(.status) | .metadata = {name: "fixture"}' "$f")
    if ! out=$(dry -f - <<<"$spec_obj" 2>&1); then fail "fixture $fx: spec rejected: $out"; continue; fi
    st=$(jq -c '{status: (.object.status // {})}' "$f")
    if out=$(status_patch "$st"); then pass "fixture $fx: spec and status accepted"
    else fail "fixture $fx: status rejected: $out"; fi
  done
else
  fail "could not create $obj: $out"
fi

# The published OpenAPI lags a CRD update by a moment: retry explain briefly.
explain() {
  local out i
  for i in $(seq 1 20); do
    if out=$(k explain "$@" 2>&1); then echo "$out"; return 0; fi
    sleep 0.5
  done
  echo "$out"; return 1
}
for field in spec.promotion.readyForSeconds spec.routing.existingIngressRoute.match spec.scaleDown.standbyReplicas; do
  if out=$(explain "bgr.$field"); then
    desc=$(sed -n '/DESCRIPTION:/,$p' <<<"$out" | sed -n 2p | sed 's/^ *//')
    if [[ -n "$desc" ]]; then pass "explain bgr.$field: $desc"; else fail "explain bgr.$field: empty description"; fi
  else
    fail "explain bgr.$field failed: $out"
  fi
done
# The text is retried too: right after a CRD update explain can answer from the schema published before it.
promote_doc=""
for i in $(seq 1 20); do
  if explain bgr | grep -qF 'bluegreen.io/promote'; then promote_doc=yes; break; fi
  sleep 0.5
done
if [[ -n $promote_doc ]]; then pass "explain bgr documents the promote annotation"
else fail "explain bgr does not mention bluegreen.io/promote (10 s of retries): $(explain bgr | head -20)"; fi

echo "admission: $((checks - failures))/$checks checks passed ($ninvalid invalid manifests)"
((failures == 0))
