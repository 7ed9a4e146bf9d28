# Shared by the install tests (sourced). Talks to the real control plane through BGO_KUBECONFIG.
# shellcheck shell=bash

install_repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
install_failures=0
install_checks=0
pass() { install_checks=$((install_checks + 1)); echo "ok   $*"; }
fail() { install_checks=$((install_checks + 1)); install_failures=$((install_failures + 1)); echo "FAIL $*"; }
die() { echo "FAIL: $*" >&2; exit 1; }

require_plane() {
  [[ -n "${BGO_KUBECONFIG:-}" ]] || die "BGO_KUBECONFIG is not set. Start the control plane (test/controlplane/start.sh) and 'source build/plane/env'."
  [[ -r "$BGO_KUBECONFIG" ]] || die "BGO_KUBECONFIG=$BGO_KUBECONFIG is not readable"
  export KUBECONFIG="$BGO_KUBECONFIG"
  KUBECTL=${KUBECTL:-kubectl}
  command -v "$KUBECTL" >/dev/null || die "kubectl not found"
  command -v jq >/dev/null || die "jq not found"
  command -v python3 >/dev/null || die "python3 not found"
  k get --raw /readyz >/dev/null || die "the API server behind $BGO_KUBECONFIG is not ready"
}
k() { "$KUBECTL" --request-timeout=30s "$@"; }

# Writes a kubeconfig for a ServiceAccount's TokenRequest token to $3; echoes nothing.
sa_kubeconfig() { # namespace serviceaccount out-file
  local ns=$1 sa=$2 out=$3 token server ca
  token=$(k create token "$sa" -n "$ns" --duration=20m) || return 1
  server=$(k config view --minify -o jsonpath='{.clusters[0].cluster.server}')
  ca=$(k config view --raw --minify -o jsonpath='{.clusters[0].cluster.certificate-authority-data}')
  if [[ -z "$ca" ]]; then
    ca=$(base64 -w0 <"$(k config view --raw --minify -o jsonpath='{.clusters[0].cluster.certificate-authority}')")
  fi
  cat >"$out" <<EOF
apiVersion: v1
kind: Config
clusters: [{name: plane, cluster: {server: "$server", certificate-authority-data: "$ca"}}]
users: [{name: $sa, user: {token: "$token"}}]
contexts: [{name: sa, context: {cluster: plane, user: $sa, namespace: $ns}}]
current-context: sa
EOF
  chmod 600 "$out"
}

# The operator's ServiceAccount gets exactly the verbs it uses, and nothing on Secrets.
# Checked with the SA's own TokenRequest token (SelfSubjectAccessReview), and with real requests.
check_operator_rbac() { # namespace serviceaccount [watched-namespace]
  local ns=$1 sa=$2 watched=${3:-} cfg allowed denied spec verb res where got
  cfg=$(mktemp)
  if ! sa_kubeconfig "$ns" "$sa" "$cfg"; then fail "TokenRequest for $ns/$sa"; return; fi
  pass "TokenRequest token for $ns/$sa"
  local appns=${watched:-bgo-install-app}
  # Cluster-wide: everything anywhere; with a watched namespace: only there.
  local all=(-A)
  [[ -n "$watched" ]] && all=(-n "$watched")
  allowed=(
    "list bluegreenreleases.bluegreen.io ${all[*]}" "watch bluegreenreleases.bluegreen.io ${all[*]}"
    "get bluegreenreleases.bluegreen.io -n $appns" "patch bluegreenreleases.bluegreen.io -n $appns"
    "update bluegreenreleases.bluegreen.io -n $appns" "patch bluegreenreleases.bluegreen.io/status -n $appns"
    "update bluegreenreleases.bluegreen.io/status -n $appns" "update bluegreenreleases.bluegreen.io/finalizers -n $appns"
    "list deployments.apps ${all[*]}" "watch deployments.apps ${all[*]}" "create deployments.apps -n $appns"
    "patch deployments.apps -n $appns" "update deployments.apps -n $appns"
    "list services ${all[*]}" "create services -n $appns" "patch services -n $appns"
    "list endpointslices.discovery.k8s.io ${all[*]}" "watch endpointslices.discovery.k8s.io ${all[*]}"
    "list poddisruptionbudgets.policy ${all[*]}" "watch poddisruptionbudgets.policy ${all[*]}"
    "get poddisruptionbudgets.policy -n $appns" "create poddisruptionbudgets.policy -n $appns"
    "patch poddisruptionbudgets.policy -n $appns" "delete poddisruptionbudgets.policy -n $appns"
    "list ingressroutes.traefik.io ${all[*]}" "create ingressroutes.traefik.io -n $appns" "patch ingressroutes.traefik.io -n $appns"
    "list ingressroutetcps.traefik.io ${all[*]}" "watch ingressroutetcps.traefik.io ${all[*]}"
    "get ingressroutetcps.traefik.io -n $appns" "create ingressroutetcps.traefik.io -n $appns"
    "patch ingressroutetcps.traefik.io -n $appns" "delete ingressroutetcps.traefik.io -n $appns"
    "list jobs.batch ${all[*]}" "watch jobs.batch ${all[*]}" "get jobs.batch -n $appns" "create jobs.batch -n $appns"
    "delete jobs.batch -n $appns" "get pods -n $appns" "list pods ${all[*]}"
    "create events -n $appns" "patch events -n $appns" "create events.events.k8s.io -n $appns"
    "get leases.coordination.k8s.io -n $ns" "create leases.coordination.k8s.io -n $ns" "update leases.coordination.k8s.io -n $ns"
  )
  denied=(
    "get secrets -n $ns" "list secrets -A" "watch secrets -A" "get secrets -n $appns" "list secrets -n kube-system"
    "list configmaps -A" "create pods -n $appns" "delete pods -n $appns" "get pods --subresource=log -n $appns"
    "patch jobs.batch -n $appns" "update jobs.batch -n $appns" "deletecollection jobs.batch -n $appns"
    "delete deployments.apps -n $appns" "delete services -n $appns" "delete ingressroutes.traefik.io -n $appns"
    "update ingressroutetcps.traefik.io -n $appns" "deletecollection ingressroutetcps.traefik.io -n $appns"
    "list ingressrouteudps.traefik.io -A"
    "create bluegreenreleases.bluegreen.io -n $appns" "delete bluegreenreleases.bluegreen.io -n $appns"
    "create endpointslices.discovery.k8s.io -n $appns" "update endpointslices.discovery.k8s.io -n $appns"
    "update poddisruptionbudgets.policy -n $appns" "deletecollection poddisruptionbudgets.policy -n $appns"
    "create leases.coordination.k8s.io -n kube-system" "update leases.coordination.k8s.io -n $appns"
    "delete leases.coordination.k8s.io -n $ns" "list namespaces" "create clusterroles.rbac.authorization.k8s.io"
    "create serviceaccounts/token -n $ns" "impersonate users" "list middlewares.traefik.io -A"
  )
  if [[ -n "$watched" ]]; then
    # Bound by a RoleBinding in the watched namespace only.
    denied+=("list bluegreenreleases.bluegreen.io -A" "create deployments.apps -n default")
  fi
  for spec in "${allowed[@]}"; do
    # shellcheck disable=SC2086
    got=$(KUBECONFIG="$cfg" "$KUBECTL" auth can-i $spec 2>/dev/null)
    [[ "$got" == yes ]] && pass "SA can $spec" || fail "SA cannot $spec (needed by the operator)"
  done
  for spec in "${denied[@]}"; do
    # shellcheck disable=SC2086
    got=$(KUBECONFIG="$cfg" "$KUBECTL" auth can-i $spec 2>/dev/null)
    [[ "$got" == no ]] && pass "SA cannot $spec" || fail "SA can $spec (more than the operator needs)"
  done
  # Real requests, not just access reviews.
  for where in "-n $ns" "-A"; do
    # shellcheck disable=SC2086
    if got=$(KUBECONFIG="$cfg" "$KUBECTL" get secrets $where 2>&1); then
      fail "SA token read Secrets ($where): $got"
    elif grep -q 'Forbidden\|forbidden' <<<"$got"; then
      pass "SA token gets Forbidden reading Secrets ($where)"
    else
      fail "reading Secrets ($where) failed for another reason: $got"
    fi
  done
  # shellcheck disable=SC2086
  if got=$(KUBECONFIG="$cfg" "$KUBECTL" get bluegreenreleases.bluegreen.io "${all[@]}" 2>&1); then
    pass "SA token lists BlueGreenReleases"
  else
    fail "SA token cannot list BlueGreenReleases: $got"
  fi
  rm -f "$cfg"
}

# The built-in view/edit/admin roles pick up the aggregated BlueGreenRelease rules.
check_aggregation() {
  local role verb i rules
  for pair in view:list edit:create admin:patch; do
    role=${pair%%:*} verb=${pair##*:}
    for i in $(seq 1 50); do
      rules=$(k get clusterrole "$role" -o json | jq -c '[.rules[] | select(.apiGroups|index("bluegreen.io")) | .verbs[]] | unique')
      [[ "$rules" == *"\"$verb\""* ]] && break
      sleep 0.2
    done
    if [[ "$rules" == *"\"$verb\""* ]]; then pass "ClusterRole $role aggregates bluegreenreleases ($rules)"
    else fail "ClusterRole $role lacks $verb on bluegreenreleases (got $rules)"; fi
  done
  if [[ $(k get clusterrole view -o json | jq '[.rules[] | select(.apiGroups|index("bluegreen.io")) | .verbs[]] | index("patch")') == null ]]; then
    pass "view does not get patch on bluegreenreleases"
  else fail "view can patch bluegreenreleases"; fi
}

# The operator pod must be admitted under the restricted Pod Security Standard and run.
check_rollout() { # namespace deployment
  local ns=$1 dep=$2 out
  if out=$(k rollout status -n "$ns" "deployment/$dep" --timeout=90s 2>&1); then
    pass "deployment $ns/$dep rolled out (pod admitted under PSA restricted)"
  else
    fail "deployment $ns/$dep did not roll out: $out"
    k get events -n "$ns" --field-selector reason=FailedCreate -o custom-columns=MSG:.message --no-headers | head -3
  fi
  local pod
  pod=$(k get pods -n "$ns" -l app.kubernetes.io/component=controller -o json | jq '.items[0]')
  [[ $(jq -r '.spec.securityContext.runAsNonRoot' <<<"$pod") == true ]] && pass "pod runAsNonRoot" || fail "pod runAsNonRoot"
  [[ $(jq -r '.spec.securityContext.runAsUser' <<<"$pod") == 65532 ]] && pass "pod runs as uid 65532" || fail "pod uid"
  local c
  c=$(jq '.spec.containers[0]' <<<"$pod")
  [[ $(jq -r '.securityContext.readOnlyRootFilesystem' <<<"$c") == true ]] && pass "readOnlyRootFilesystem" || fail "readOnlyRootFilesystem"
  [[ $(jq -r '.securityContext.allowPrivilegeEscalation' <<<"$c") == false ]] && pass "allowPrivilegeEscalation false" || fail "allowPrivilegeEscalation"
  [[ $(jq -c '.securityContext.capabilities.drop' <<<"$c") == '["ALL"]' ]] && pass "capabilities drop ALL" || fail "capabilities"
  [[ $(jq -r '.securityContext.seccompProfile.type' <<<"$c") == RuntimeDefault ]] && pass "seccomp RuntimeDefault" || fail "seccomp"
  [[ $(jq -r '.livenessProbe.httpGet.path + " " + .readinessProbe.httpGet.path' <<<"$c") == "/healthz /readyz" ]] &&
    pass "probes /healthz and /readyz" || fail "probes"
  [[ $(jq -r '[.ports[] | "\(.name)=\(.containerPort)"] | join(",")' <<<"$c") == "metrics=8080,health=8081" ]] &&
    pass "ports metrics=8080 health=8081" || fail "ports: $(jq -c .ports <<<"$c")"
  [[ $(jq -r '.resources.limits.memory // empty' <<<"$c") != "" ]] && pass "resource limits set" || fail "resource limits"
}

# Non-compliant pods are refused in a namespace labelled restricted (so the rollout check means something).
check_psa_enforced() { # namespace
  local out
  if out=$(k run psa-probe -n "$1" --image=busybox --dry-run=server --overrides='{"spec":{"securityContext":{"runAsUser":0}}}' 2>&1); then
    fail "a root pod was admitted in $1 (Pod Security not enforced): $out"
  elif grep -q 'violates PodSecurity "restricted' <<<"$out"; then
    pass "namespace $1 enforces PodSecurity restricted"
  else
    fail "root pod rejected for another reason: $out"
  fi
}

install_summary() { # name
  echo "$1: $((install_checks - install_failures))/$install_checks checks passed"
  ((install_failures == 0))
}
