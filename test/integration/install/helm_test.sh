#!/usr/bin/env bash
# The Helm chart: lint, rendering of each values switch, `kubectl apply --dry-run=server` of every
# rendering, then a real `helm install` on the control plane (operator pod admitted under PodSecurity
# restricted, its ServiceAccount token has exactly the operator's verbs and cannot read Secrets), an
# upgrade to a watched-namespace list (RoleBindings instead of a ClusterRoleBinding), and an uninstall
# that keeps the CRD. Helm is the one built by test/controlplane (on PATH after `source build/plane/env`).
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
source "$here/lib.sh"
require_plane
repo=$install_repo
chart="$repo/helm/bluegreen-operator"
HELM=${HELM:-helm}
command -v "$HELM" >/dev/null || die "helm not found (build it with test/controlplane/build.sh; source build/plane/env puts it on PATH)"
h() { "$HELM" --kubeconfig "$KUBECONFIG" "$@"; }
kube_version=$(k version -o json | jq -r .serverVersion.gitVersion)

ns=bgo-helm-system
watch_a=bgo-helm-watch-a
watch_b=bgo-helm-watch-b
release=bluegreen-operator
crd=bluegreenreleases.bluegreen.io
tmp=$(mktemp -d)

disown_crd() {
  k label crd "$crd" app.kubernetes.io/managed-by- >/dev/null 2>&1
  k annotate crd "$crd" meta.helm.sh/release-name- meta.helm.sh/release-namespace- helm.sh/resource-policy- >/dev/null 2>&1
}
cleanup() {
  h uninstall "$release" -n "$ns" --wait --timeout 120s >/dev/null 2>&1
  k delete namespace "$ns" "$watch_a" "$watch_b" --ignore-not-found --wait=true --timeout=120s >/dev/null 2>&1
  disown_crd
  rm -rf "$tmp"
}
trap cleanup EXIT
cleanup_before() {
  if h status "$release" -n "$ns" >/dev/null 2>&1 || k get namespace "$ns" >/dev/null 2>&1; then
    echo "note: removing leftovers of an earlier run"
    h uninstall "$release" -n "$ns" --wait --timeout 120s >/dev/null 2>&1
    k delete namespace "$ns" "$watch_a" "$watch_b" --ignore-not-found --wait=true --timeout=120s >/dev/null 2>&1
  fi
}
cleanup_before
mkdir -p "$tmp"

# --- lint ----------------------------------------------------------------------------------------------
if out=$(h lint --strict "$chart" 2>&1); then pass "helm lint --strict"; else fail "helm lint --strict: $out"; fi
if out=$(h lint --strict "$chart" --set "watchNamespaces={a,b}" --set metrics.serviceMonitor.enabled=true 2>&1); then
  pass "helm lint --strict with watchNamespaces and serviceMonitor"
else fail "helm lint with options: $out"; fi

# --- rendering -----------------------------------------------------------------------------------------
render() { # out-file helm-args...
  local out=$1; shift
  h template "$release" "$chart" -n "$ns" --kube-version "$kube_version" "$@" >"$out" 2>"$out.err"
}
count_kind() { python3 -c "import sys,yaml; print(sum(1 for d in yaml.safe_load_all(open(sys.argv[1])) if d and d['kind']==sys.argv[2]))" "$1" "$2"; }
args_of() { python3 -c "
import sys,yaml,json
for d in yaml.safe_load_all(open(sys.argv[1])):
    if d and d['kind']=='Deployment': print(json.dumps(d['spec']['template']['spec']['containers'][0]['args']))" "$1"; }

render "$tmp/default.yaml" || fail "helm template (defaults): $(cat "$tmp/default.yaml.err")"
[[ $(args_of "$tmp/default.yaml") == '["--leader-elect=true", "--health-port=8081", "--metrics-port=8080", "--log-format=json", "--log-level=info"]' ]] &&
  pass "default args" || fail "default args: $(args_of "$tmp/default.yaml")"
[[ $(count_kind "$tmp/default.yaml" ClusterRoleBinding) == 1 && $(count_kind "$tmp/default.yaml" CustomResourceDefinition) == 1 ]] &&
  pass "defaults: one ClusterRoleBinding and the CRD" || fail "defaults: unexpected kinds"
# The rendered CRD is crds/'s, plus only the keep annotation.
if python3 - "$tmp/default.yaml" "$repo/crds/bluegreen.io_bluegreenreleases.yaml" <<'EOF'
import sys, yaml
rendered = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d and d["kind"] == "CustomResourceDefinition"][0]
source = yaml.safe_load(open(sys.argv[2]))
ann = rendered["metadata"].pop("annotations")
assert ann == {"helm.sh/resource-policy": "keep"}, ann
assert rendered == source, "rendered CRD differs from crds/"
EOF
then pass "rendered CRD == crds/ + helm.sh/resource-policy: keep"; else fail "rendered CRD differs from crds/"; fi

render "$tmp/one.yaml" --set "watchNamespaces={$watch_a}" || fail "template one namespace"
[[ $(args_of "$tmp/one.yaml") == *'"--namespace='$watch_a'"'* ]] && pass "one watched namespace -> --namespace=$watch_a" || fail "one ns args: $(args_of "$tmp/one.yaml")"
render "$tmp/two.yaml" --set "watchNamespaces={$watch_a,$watch_b}" || fail "template two namespaces"
[[ $(args_of "$tmp/two.yaml") == *'"--namespaces='$watch_a,$watch_b'"'* ]] && pass "two watched namespaces -> --namespaces=a,b" || fail "two ns args: $(args_of "$tmp/two.yaml")"
[[ $(count_kind "$tmp/two.yaml" ClusterRoleBinding) == 0 && $(count_kind "$tmp/two.yaml" RoleBinding) == 3 ]] &&
  pass "watched namespaces: RoleBindings (2 + leader election), no ClusterRoleBinding" || fail "watched namespaces: wrong bindings"
render "$tmp/nocrd.yaml" --set crds.install=false || fail "template crds.install=false"
[[ $(count_kind "$tmp/nocrd.yaml" CustomResourceDefinition) == 0 ]] && pass "crds.install=false renders no CRD" || fail "crds.install=false"
render "$tmp/norbac.yaml" --set rbac.create=false --set rbac.aggregatedRoles=false --set serviceAccount.create=false --set serviceAccount.name=ops || fail "template rbac off"
[[ $(count_kind "$tmp/norbac.yaml" ClusterRole) == 0 && $(count_kind "$tmp/norbac.yaml" ServiceAccount) == 0 ]] &&
  grep -q 'serviceAccountName: ops' "$tmp/norbac.yaml" && pass "rbac.create=false, serviceAccount.name=ops" || fail "rbac.create=false"
render "$tmp/sm.yaml" --set metrics.serviceMonitor.enabled=true || fail "template serviceMonitor"
[[ $(count_kind "$tmp/sm.yaml" ServiceMonitor) == 1 ]] && pass "metrics.serviceMonitor.enabled renders a ServiceMonitor" || fail "serviceMonitor"
render "$tmp/ha.yaml" --set replicas=2 --set leaderElection.enabled=false &&
  fail "replicas=2 without leader election rendered" ||
  { grep -q 'needs leaderElection.enabled=true' "$tmp/ha.yaml.err" && pass "replicas=2 without leader election is refused" || fail "ha: $(cat "$tmp/ha.yaml.err")"; }
render "$tmp/bad.yaml" --set logFormat=xml &&
  fail "logFormat=xml rendered" ||
  { grep -q 'logFormat' "$tmp/bad.yaml.err" && pass "values schema rejects logFormat=xml" || fail "schema: $(cat "$tmp/bad.yaml.err")"; }
render "$tmp/digest.yaml" --set image.digest=sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef || fail "template digest"
grep -q 'image: "ghcr.io/bluegreen-operator/bluegreen-operator@sha256:0123' "$tmp/digest.yaml" && pass "image.digest pins the image" || fail "digest"

if h template "$release" "$chart" -n "$ns" --kube-version v1.28.9 >/dev/null 2>"$tmp/old.err"; then
  fail "the chart rendered for Kubernetes 1.28"
else
  grep -q 'kubeVersion' "$tmp/old.err" && pass "kubeVersion >=1.29 refuses 1.28" || fail "old kube: $(cat "$tmp/old.err")"
fi

# --- server-side dry run of every rendering ------------------------------------------------------------
for n in "$ns" "$watch_a" "$watch_b"; do
  k create namespace "$n" >/dev/null 2>&1
done
k label namespace "$ns" pod-security.kubernetes.io/enforce=restricted pod-security.kubernetes.io/warn=restricted --overwrite >/dev/null
for f in default one two nocrd norbac digest; do
  if out=$(k apply --dry-run=server --server-side --force-conflicts --field-manager=bgo-install-test -f "$tmp/$f.yaml" 2>&1); then
    if grep -q Warning <<<"$out"; then fail "dry-run $f: warnings: $(grep Warning <<<"$out")"
    else pass "kubectl apply --dry-run=server of helm template ($f): $(grep -c 'server dry run' <<<"$out") objects"; fi
  else
    fail "dry-run $f: $out"
  fi
done

# --- install -------------------------------------------------------------------------------------------
# The CRD already exists on this shared plane (applied with kubectl): adopt it, as docs/install.md says.
k label crd "$crd" app.kubernetes.io/managed-by=Helm --overwrite >/dev/null
k annotate crd "$crd" meta.helm.sh/release-name="$release" meta.helm.sh/release-namespace="$ns" --overwrite >/dev/null
if out=$(h install "$release" "$chart" -n "$ns" --wait --timeout 180s 2>&1); then
  pass "helm install"
  grep -qF "kubectl -n $ns rollout status deployment/$release" <<<"$out" && pass "NOTES tell the next command" || fail "NOTES: $out"
else
  fail "helm install: $out"
  install_summary helm; exit 1
fi
check_rollout "$ns" "$release"
check_operator_rbac "$ns" "$release"
check_aggregation

# --- upgrade to a watched namespace --------------------------------------------------------------------
if out=$(h upgrade "$release" "$chart" -n "$ns" --set "watchNamespaces={$watch_a}" --wait --timeout 180s 2>&1); then
  pass "helm upgrade --set watchNamespaces={$watch_a}"
  k get clusterrolebinding "$release" >/dev/null 2>&1 && fail "ClusterRoleBinding still present" || pass "ClusterRoleBinding removed"
  check_operator_rbac "$ns" "$release" "$watch_a"
else
  fail "helm upgrade: $out"
fi

# --- uninstall keeps the CRD ---------------------------------------------------------------------------
if out=$(h uninstall "$release" -n "$ns" --wait --timeout 120s 2>&1); then pass "helm uninstall"; else fail "helm uninstall: $out"; fi
k get crd "$crd" >/dev/null 2>&1 && pass "CRD kept after uninstall (helm.sh/resource-policy: keep)" || fail "CRD deleted by uninstall"
k get deploy -n "$ns" "$release" >/dev/null 2>&1 && fail "operator Deployment left behind" || pass "operator Deployment removed"
install_summary helm
