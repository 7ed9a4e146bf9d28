#!/usr/bin/env bash
# stop.sh then start.sh keeps the cluster: objects created before survive (etcd data kept), the ports and
# kubeconfig stay valid, and the restarted nodesim keeps pods Ready with their addresses.
. "$(dirname "$0")/lib.sh"
private_plane
value=$(printf '%04x%04x' $RANDOM $RANDOM)
kp create namespace keep >/dev/null
kp create configmap survivor -n keep --from-literal "value=$value" >/dev/null
kp create deployment web -n keep --image registry.invalid/web:1 --replicas 2 >/dev/null
available() { [[ $(kp get deployment web -n keep -o jsonpath='{.status.availableReplicas}') == 2 ]]; }
eventually 60 "deployment available before the restart" available
ips_before=$(kp get pods -n keep -o jsonpath='{.items[*].status.podIP}')
kubeconfig_sum=$(sha256sum < "$PLANE/admin.kubeconfig")

"$cp_dir/stop.sh" >/dev/null || fail "stop.sh failed"
if status=$("$cp_dir/status.sh" 2>&1); then fail "status.sh reports a stopped plane as up: $status"; fi
[[ $(grep -c ' down ' <<<"$status") == 4 ]] || fail "status.sh does not show all 4 components down: $status"
[[ -d $PLANE/etcd/member ]] || fail "stop.sh removed etcd's data"

out=$("$cp_dir/start.sh" 2>&1) || fail "start.sh after stop.sh failed: $out"
grep -q WARNING <<<"$out" && fail "a clean restart reported dead components: $out"
"$cp_dir/status.sh" >/dev/null || fail "status.sh after restart: $("$cp_dir/status.sh")"
[[ $(sha256sum < "$PLANE/admin.kubeconfig") == "$kubeconfig_sum" ]] || fail "the admin kubeconfig changed on restart"
got=$(kp get configmap survivor -n keep -o jsonpath='{.data.value}') || fail "configmap lost over the restart"
[[ $got == "$value" ]] || fail "configmap value '$got' after restart, want '$value'"
eventually 60 "deployment available after the restart" available
ips_after=$(kp get pods -n keep -o jsonpath='{.items[*].status.podIP}')
[[ $ips_after == "$ips_before" ]] || fail "pod addresses changed over the restart: '$ips_before' -> '$ips_after'"
# New pods after the restart must not reuse the addresses already handed out.
kp scale deployment web -n keep --replicas 4 >/dev/null
four() { [[ $(kp get deployment web -n keep -o jsonpath='{.status.availableReplicas}') == 4 ]]; }
eventually 60 "deployment scaled to 4 after the restart" four
ips=$(kp get pods -n keep -o jsonpath='{range .items[*]}{.status.podIP}{"\n"}{end}')
[[ $(sort -u <<<"$ips" | grep -c .) == 4 ]] || fail "pod addresses not unique after restart: $ips"
pass "configmap value $value and pods ($ips_before) survived stop/start; kubeconfig unchanged"
