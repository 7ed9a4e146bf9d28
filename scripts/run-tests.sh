#!/usr/bin/env bash
# Runs every ctest test of a build against the local control plane.
# Usage: run-tests.sh <build-dir> [ctest args...]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$1; shift
plane="$root/test/controlplane"

started_here=0
if ! "$plane/status.sh" >/dev/null 2>&1; then
  "$plane/start.sh"
  started_here=1
fi
cleanup() {
  local rc=$?
  if ((started_here)); then "$plane/stop.sh" || true; fi
  exit $rc
}
trap cleanup EXIT

# shellcheck disable=SC1091
source "${BGO_PLANE_DIR:-$root/build/plane}/env"
echo "run-tests: control plane at $(kubectl config view --minify -o jsonpath='{.clusters[0].cluster.server}')"
start=$(date +%s)
ctest --test-dir "$build" --output-on-failure -j 2 --timeout 900 "$@"
echo "run-tests: all tests passed in $(( $(date +%s) - start ))s"
