#!/usr/bin/env bash
# RBAC is enforced: the admin may do anything, the token user `nobody` is denied (can-i and a real request,
# which gets 403), and a RoleBinding grants exactly what it says.
. "$(dirname "$0")/lib.sh"
use_namespace
nobody=$(dirname "$BGO_KUBECONFIG")/nobody.kubeconfig
[[ -f $nobody ]] || fail "$nobody missing (written by start.sh)"
kn() { "$KUBECTL" --kubeconfig "$nobody" --request-timeout 20s "$@"; }

[[ $(k auth can-i list secrets -n "$NS" 2>&1) == yes ]] || fail "admin cannot list secrets"
[[ $(k auth can-i '*' '*' --all-namespaces 2>&1) == yes ]] || fail "admin is not cluster admin"
[[ $(k auth whoami -o jsonpath='{.status.userInfo.username}') == admin ]] || fail "admin token is not user admin"
[[ $(kn auth whoami -o jsonpath='{.status.userInfo.username}') == nobody ]] || fail "nobody token does not authenticate as nobody"
ans=$(kn auth can-i list secrets -n "$NS" 2>&1 || true)
[[ $ans == no ]] || fail "nobody: can-i list secrets answered '$ans', want no"
ans=$(k auth can-i list secrets -n "$NS" --as nobody 2>&1 || true)
[[ $ans == no ]] || fail "admin --as nobody: can-i list secrets answered '$ans', want no"

# A real request with nobody's token is refused with 403 Forbidden.
server=$(k config view --minify -o jsonpath='{.clusters[0].cluster.server}')
token=$(kn config view --minify --raw -o jsonpath='{.users[0].user.token}')
ca=$(mktemp); trap 'rm -f "$ca"; k delete namespace "$NS" --wait=false >/dev/null 2>&1 || true' EXIT
k config view --minify --raw -o jsonpath='{.clusters[0].cluster.certificate-authority-data}' | base64 -d > "$ca"
code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$ca" -H "Authorization: Bearer $token" "$server/api/v1/namespaces/$NS/secrets")
[[ $code == 403 ]] || fail "nobody listing secrets got HTTP $code, want 403"
code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$ca" -H "Authorization: Bearer not-a-token" "$server/api/v1/namespaces/$NS/secrets")
[[ $code == 401 ]] || fail "an unknown token got HTTP $code, want 401"
err=$(kn get secrets -n "$NS" 2>&1 || true)
grep -q Forbidden <<<"$err" || fail "kubectl as nobody was not refused: $err"

# Grant nobody read access to pods in this namespace only.
k create role pod-reader -n "$NS" --verb get,list --resource pods >/dev/null
k create rolebinding nobody-reads-pods -n "$NS" --role pod-reader --user nobody >/dev/null
granted() { [[ $(kn auth can-i list pods -n "$NS") == yes ]]; }
eventually 10 "nobody may list pods after the RoleBinding" granted
kn get pods -n "$NS" >/dev/null 2>&1 || fail "nobody cannot list pods despite the RoleBinding"
[[ $(kn auth can-i list pods -n default 2>&1 || true) == no ]] || fail "the RoleBinding leaked to namespace default"
[[ $(kn auth can-i list secrets -n "$NS" 2>&1 || true) == no ]] || fail "the RoleBinding granted secrets"
pass "admin allowed; nobody denied (can-i no, HTTP 403); unknown token 401; RoleBinding grants only pods in $NS"
