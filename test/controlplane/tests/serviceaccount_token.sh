#!/usr/bin/env bash
# TokenRequest works: a ServiceAccount token from `kubectl create token` authenticates as that account, and
# RBAC applies to it.
. "$(dirname "$0")/lib.sh"
use_namespace
k create serviceaccount robot -n "$NS" >/dev/null
token=$(k create token robot -n "$NS" --duration 10m)
[[ -n $token ]] || fail "kubectl create token returned nothing"
server=$(k config view --minify -o jsonpath='{.clusters[0].cluster.server}')
ca=$(mktemp); trap 'rm -f "$ca"; k delete namespace "$NS" --wait=false >/dev/null 2>&1 || true' EXIT
k config view --minify --raw -o jsonpath='{.clusters[0].cluster.certificate-authority-data}' | base64 -d > "$ca"
ks() { "$KUBECTL" --server "$server" --certificate-authority "$ca" --token "$token" --request-timeout 20s "$@"; }

who=$(ks auth whoami -o jsonpath='{.status.userInfo.username}')
[[ $who == "system:serviceaccount:$NS:robot" ]] || fail "token authenticates as '$who'"
[[ $(ks auth can-i list pods -n "$NS" 2>&1 || true) == no ]] || fail "a fresh ServiceAccount may list pods"
k create rolebinding robot-view -n "$NS" --clusterrole view --serviceaccount "$NS:robot" >/dev/null
can() { [[ $(ks auth can-i list pods -n "$NS") == yes ]]; }
eventually 10 "robot may list pods after binding the view ClusterRole" can
ks get pods -n "$NS" >/dev/null 2>&1 || fail "robot cannot list pods"
[[ $(ks auth can-i list secrets -n "$NS" 2>&1 || true) == no ]] || fail "view granted secrets"
# The token's audience and issuer are the API server's own.
payload=$(cut -d. -f2 <<<"$token" | tr '_-' '/+'); while (( ${#payload} % 4 )); do payload+="="; done
claims=$(base64 -d <<<"$payload")
grep -q '"iss":"https://kubernetes.default.svc.cluster.local"' <<<"$claims" || fail "unexpected token claims: $claims"
pass "TokenRequest token authenticates as $who; RBAC applies"
