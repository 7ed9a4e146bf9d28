#!/usr/bin/env bash
# `make bench`: the benchmarks of test/bench against the local control plane. They print figures
# (medians); none of them asserts a timing. Usage: run-bench.sh <build-dir>
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build/ci}
# shellcheck disable=SC1091
source "${BGO_PLANE_DIR:-$root/build/plane}/env"
# The operator benchmark needs the CRD (a fresh plane has only Traefik's).
kubectl apply --server-side --force-conflicts -k "$root/crds/" >/dev/null
echo "== informer: 5,000 ConfigMaps (sync time, memory, watch throughput)"
"$build/test/bench/bgo_informer_bench" --objects "${BGO_BENCH_OBJECTS:-5000}" --runs "${BGO_BENCH_RUNS:-3}"
echo
echo "== operator: start-up, memory per release, settle, writes when settled, promotable -> switched"
"$build/test/bench/bgo_operator_bench" --releases "${BGO_BENCH_RELEASES:-100}" --reactions 9
