#!/usr/bin/env bash
# `make bench-mass`: the mass switch of issue 14, item 5 (test/bench/mass_bench.cc): N releases waiting
# for promotion are promoted at once; prints promote -> main route switched per release (p50/p90/p99/max),
# last promote -> last route, the API server's writes in that window (from its audit log) and the plane's
# floor (a plain client patching N IngressRoutes). Asserts no time. Usage: run-bench-mass.sh <build-dir>
# Env: BGO_MASS_RELEASES (default 1000), BGO_MASS_WORKERS (the operator's --workers, default 2),
#      BGO_MASS_WRITERS (the benchmark's writer threads, default 8),
#      BGO_MASS_NAMESPACE (a namespace kept by an earlier run with BGO_MASS_KEEP=1: skips creating and
#      settling the releases), BGO_MASS_COLD=1 (promote with the operator stopped, then start it: all N
#      promotable at once), BGO_MASS_PLANE_DIR (default <repo>/build/plane-mass).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build/ci}
export BGO_PLANE_DIR=${BGO_MASS_PLANE_DIR:-$root/build/plane-mass}
# shellcheck source=scripts/bench-plane.sh
. "$root/scripts/bench-plane.sh"
args=(--releases "${BGO_MASS_RELEASES:-1000}" --workers "${BGO_MASS_WORKERS:-2}" --writers "${BGO_MASS_WRITERS:-8}")
[[ -n ${BGO_MASS_NAMESPACE:-} ]] && args+=(--namespace "$BGO_MASS_NAMESPACE")
[[ ${BGO_MASS_KEEP:-0} == 1 ]] && args+=(--keep)
[[ ${BGO_MASS_COLD:-0} == 1 ]] && args+=(--cold)
"$build/test/bench/bgo_mass_bench" "${args[@]}"
