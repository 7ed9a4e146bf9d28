#!/usr/bin/env bash
# Starting twice reuses the running plane; a killed component is reported down by status.sh (with its log)
# and named by start.sh, which brings it back.
. "$(dirname "$0")/lib.sh"
private_plane
pids() { cat "$PLANE"/pids/*.pid | tr '\n' ' '; }
before=$(pids)
out=$("$cp_dir/start.sh" 2>&1) || fail "second start.sh failed: $out"
grep -q 'already running; reusing it' <<<"$out" || fail "second start.sh did not reuse the plane: $out"
[[ $(pids) == "$before" ]] || fail "second start.sh changed pids: $before -> $(pids)"

for victim in nodesim kube-controller-manager; do
  pid=$(cat "$PLANE/pids/$victim.pid")
  kill -9 "$pid"
  while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  if status=$("$cp_dir/status.sh" 2>&1); then fail "status.sh exits 0 with $victim killed: $status"; fi
  grep -Eq "^$victim +down +$pid " <<<"$status" || fail "status.sh does not show $victim (pid $pid) down: $status"
  grep -q "$victim (pid $pid) has died" <<<"$status" || fail "status.sh does not explain $victim: $status"
  out=$("$cp_dir/start.sh" 2>&1) || fail "start.sh with $victim dead failed: $out"
  grep -q "WARNING: $victim (pid $pid) has died" <<<"$out" || fail "start.sh did not report dead $victim: $out"
  grep -q "restarted components that had died: $victim" <<<"$out" || fail "start.sh did not say it restarted $victim: $out"
  "$cp_dir/status.sh" >/dev/null || fail "status.sh after restarting $victim: $("$cp_dir/status.sh")"
  # The restarted component does its job: a new Deployment becomes available.
  kp create deployment "after-$victim" --image registry.invalid/x:1 --replicas 2 >/dev/null
  available() { [[ $(kp get deployment "after-$victim" -o jsonpath='{.status.availableReplicas}') == 2 ]]; }
  eventually 60 "a Deployment becomes available after restarting $victim" available
  info "$victim killed (pid $pid), reported, restarted as pid $(cat "$PLANE/pids/$victim.pid")"
done
# Every process gone at once, pid files left behind (a reboot): start.sh brings it all back, keeping etcd's data.
for f in "$PLANE"/pids/*.pid; do kill -9 "$(cat "$f")" 2>/dev/null || true; done
for f in "$PLANE"/pids/*.pid; do while kill -0 "$(cat "$f")" 2>/dev/null; do sleep 0.1; done; done
out=$("$cp_dir/start.sh" 2>&1) || fail "start.sh after every component was killed failed: $out"
"$cp_dir/status.sh" >/dev/null || fail "status.sh after the restart: $("$cp_dir/status.sh")"
kp get deployment after-nodesim >/dev/null || fail "the Deployment made before the kill is gone"
info "all components killed with their pid files left; start.sh restarted them all"
pass "start twice reuses; killed components (one, then all) reported and restarted"
