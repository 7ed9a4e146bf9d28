#!/usr/bin/env bash
# nodesim's pod hook (the place where real per-pod backends will be started): it is called with `up` and
# the pod's address before the pod is reported Running, and with `down` once the pod is gone.
. "$(dirname "$0")/lib.sh"
hookdir=$(mktemp -d)
cat > "$hookdir/hook" <<HOOK
#!/bin/sh
echo "\$*" >> "$hookdir/calls"
HOOK
chmod +x "$hookdir/hook"
export BGO_SIM_POD_HOOK=$hookdir/hook BGO_SIM_NODES=1
private_plane
trap '"$cp_dir/stop.sh" --purge >/dev/null 2>&1 || true; rm -rf "$hookdir"' EXIT
kp create deployment web -n default --image registry.invalid/web:1 --replicas 2 >/dev/null
available() { [[ $(kp get deployment web -n default -o jsonpath='{.status.availableReplicas}') == 2 ]]; }
eventually 60 "deployment available" available
pods=$(kp get pods -n default -l app=web -o jsonpath='{range .items[*]}{.metadata.name} {.status.podIP}{"\n"}{end}')
while read -r name ip; do
  grep -qx "up default $name $ip" "$hookdir/calls" || fail "no 'up default $name $ip' call; calls: $(cat "$hookdir/calls")"
done <<<"$pods"
kp delete deployment web -n default --wait=false >/dev/null
downs() { [[ $(grep -c '^down default ' "$hookdir/calls") == 2 ]]; }
eventually 60 "two 'down' calls after deleting the deployment" downs
while read -r name ip; do
  grep -qx "down default $name $ip" "$hookdir/calls" || fail "no 'down default $name $ip' call; calls: $(cat "$hookdir/calls")"
done <<<"$pods"
pass "hook calls: $(tr '\n' ';' < "$hookdir/calls")"
