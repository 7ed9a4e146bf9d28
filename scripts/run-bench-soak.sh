#!/usr/bin/env bash
# `make bench-soak`: the soak of issue 14, item 6 (test/bench/soak_bench.cc): N releases get a new image
# round after round until 10,000 releases were processed; prints the operator's RSS, threads, descriptors
# and sockets after every round, the RSS slope and the ranges at the end. Asserts nothing.
# Usage: run-bench-soak.sh <build-dir>
# Env: BGO_SOAK_RELEASES (a round, default 100), BGO_SOAK_TARGET (default 10000), BGO_SOAK_MINUTES (default 120),
#      BGO_SOAK_WORKERS (default 2), BGO_SOAK_CSV (default <build-dir>/soak.csv),
#      BGO_SOAK_PLANE_DIR (default <repo>/build/plane-soak).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build/ci}
export BGO_PLANE_DIR=${BGO_SOAK_PLANE_DIR:-$root/build/plane-soak}
# shellcheck source=scripts/bench-plane.sh
. "$root/scripts/bench-plane.sh"
"$build/test/bench/bgo_soak_bench" --releases "${BGO_SOAK_RELEASES:-100}" --target "${BGO_SOAK_TARGET:-10000}" \
  --minutes "${BGO_SOAK_MINUTES:-120}" --workers "${BGO_SOAK_WORKERS:-2}" --csv "${BGO_SOAK_CSV:-$build/soak.csv}"
