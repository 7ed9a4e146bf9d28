#!/usr/bin/env bash
# `make bench-restart`: the operator's memory and start-up at 1,000 / 5,000 / 10,000 settled releases
# (test/bench/restart_bench.cc). Starts its own private plane (its controller manager is stopped halfway)
# and purges it at the end. Prints figures; asserts none. Usage: run-bench-restart.sh <build-dir>
# Env: BGO_RESTART_SOURCE (releases settled for real and then copied, default 100),
#      BGO_RESTART_SIZES (default 1000,5000,10000), BGO_RESTART_SECONDS (per size, default 60).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build/ci}
plane=$root/test/controlplane
export BGO_PLANE_DIR=$root/build/plane-restart
[[ -d $BGO_PLANE_DIR ]] && "$plane/stop.sh" --purge
BGO_PLANE_AUDIT=1 "$plane/start.sh"
trap '"$plane/stop.sh" --purge' EXIT
# shellcheck disable=SC1091
source "$BGO_PLANE_DIR/env"
kubectl apply --server-side --force-conflicts -k "$root/crds/" >/dev/null
"$build/test/bench/bgo_restart_bench" --source "${BGO_RESTART_SOURCE:-100}" --sizes "${BGO_RESTART_SIZES:-1000,5000,10000}" \
  --seconds "${BGO_RESTART_SECONDS:-60}"
