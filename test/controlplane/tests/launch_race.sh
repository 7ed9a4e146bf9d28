#!/usr/bin/env bash
# A component just launched must not look dead while its pid is still the shell's fork (before exec).
# The fork here sleeps 0.5 s before exec'ing, as a loaded machine can make it: alive() right after the
# launch is false (the false "exited while waiting" start.sh once reported), and true after wait_exec.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'kill "${pid:-}" 2>/dev/null || true; rm -rf "$tmp"' EXIT
export BGO_PLANE_DIR=$tmp/plane
mkdir -p "$BGO_PLANE_DIR/pids" "$tmp/bin"
. "$here/../lib.sh"
cp "$(command -v sleep)" "$tmp/bin/kube-controller-manager"

( sleep 0.5; exec "$tmp/bin/kube-controller-manager" 30 ) &
pid=$!
echo "$pid" > "$BGO_PLANE_DIR/pids/kube-controller-manager.pid"
if alive kube-controller-manager; then
  echo "FAIL [launch_race]: the fork already looked like the program; the race was not reproduced" >&2; exit 1
fi
wait_exec kube-controller-manager "$pid"
alive kube-controller-manager || { echo "FAIL [launch_race]: not alive after wait_exec" >&2; exit 1; }

# A launch that dies before exec is not waited for past its death.
( exit 3 ) &
dead=$!
start=$(date +%s%N)
wait_exec kube-controller-manager-x "$dead" || true
(( ($(date +%s%N) - start) / 1000000 < 3000 )) || { echo "FAIL [launch_race]: waited on a dead pid" >&2; exit 1; }
echo "PASS [launch_race]: a launched component counts as alive once exec'd; the fork is waited for"
